//! Batch normalisation over the channel axis (PyTorch `BatchNorm1d`/`BatchNorm2d`, Keras
//! `BatchNormalization` on channels-first data).
//!
//! For each channel `c`, over the `m` values of the batch (and of every pixel, for images):
//!
//! ```text
//! train:  μ = (1/m) Σ x,   σ² = (1/m) Σ (x − μ)²,   x̂ = (x − μ) / √(σ² + ε),   y = γ x̂ + β
//!         running_mean ← (1 − momentum)·running_mean + momentum·μ
//!         running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)
//! eval:   x̂ = (x − running_mean) / √(running_var + ε),   y = γ x̂ + β
//! backward (train):  ∂L/∂β = Σ ∂L/∂y,   ∂L/∂γ = Σ ∂L/∂y · x̂
//!         ∂L/∂x = γ / (m √(σ² + ε)) · (m ∂L/∂y − Σ ∂L/∂y − x̂ Σ ∂L/∂y · x̂)
//! backward (eval):   ∂L/∂x = γ ∂L/∂y / √(running_var + ε)
//! ```
//!
//! Inputs are `[n, c]` or `[n, c, h, w]`; the running statistics are saved with the model in
//! its [`LayerConfig`].

use crate::nn::{Layer, LayerConfig, Mode, Parameter};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// Batch normalisation of `num_features` channels (axis 1), with learnable scale `gamma` and
/// shift `beta` (PyTorch's defaults: `momentum = 0.1`, `eps = 1e-5`).
///
/// ```
/// use dl_core::prelude::*;
/// let mut bn = BatchNorm::new(2);
/// let x = dl_core::tensor::from_vec(&[2, 2], vec![1.0, 10.0, 3.0, 30.0]);
/// let y = bn.forward(&x, Mode::Train);
/// assert!((y[[0, 0]] + 1.0).abs() < 1e-3 && (y[[1, 1]] - 1.0).abs() < 1e-3);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm {
    num_features: usize,
    momentum: f32,
    eps: f32,
    gamma: Parameter,
    beta: Parameter,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    /// x̂ of the last forward, and 1/√(σ² + ε) per channel, and the mode it ran in.
    x_hat: Option<Tensor>,
    inv_std: Vec<f32>,
    mode: Mode,
}

impl BatchNorm {
    /// Normalisation of `num_features` channels; `gamma = 1`, `beta = 0`.
    pub fn new(num_features: usize) -> BatchNorm {
        BatchNorm {
            num_features,
            momentum: 0.1,
            eps: 1e-5,
            gamma: Parameter::new("gamma", Tensor::ones(IxDyn(&[num_features]))),
            beta: Parameter::new("beta", Tensor::zeros(IxDyn(&[num_features]))),
            running_mean: vec![0.0; num_features],
            running_var: vec![1.0; num_features],
            x_hat: None,
            inv_std: vec![0.0; num_features],
            mode: Mode::Train,
        }
    }

    /// The same layer with another momentum for the running statistics.
    pub fn with_momentum(mut self, momentum: f32) -> BatchNorm {
        self.momentum = momentum;
        self
    }

    /// The same layer with another `eps`.
    pub fn with_eps(mut self, eps: f32) -> BatchNorm {
        self.eps = eps;
        self
    }

    /// The running means and variances `([c], [c])` used in `Mode::Eval`.
    pub fn running_stats(&self) -> (&[f32], &[f32]) {
        (&self.running_mean, &self.running_var)
    }

    /// `(n, c, pixels)` of an input shape, checked.
    #[track_caller]
    fn split(&self, op: &str, shape: &[usize]) -> (usize, usize, usize) {
        assert!(
            (shape.len() == 2 || shape.len() == 4) && shape[1] == self.num_features,
            "{op}: expected input [n, {c}] or [n, {c}, h, w], got shape {shape:?}",
            c = self.num_features
        );
        (shape[0], shape[1], shape[2..].iter().product())
    }
}

impl Layer for BatchNorm {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor {
        let (n, c, p) = self.split("BatchNorm::forward", input.shape());
        let x = input.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let m = (n * p) as f32;
        let mut x_hat = Tensor::zeros(input.raw_dim());
        let mut y = Tensor::zeros(input.raw_dim());
        let (xh, ys) = (
            x_hat.as_slice_mut().expect("fresh"),
            y.as_slice_mut().expect("fresh"),
        );
        let (gamma, beta) = (
            self.gamma.value.as_slice().expect("own"),
            self.beta.value.as_slice().expect("own"),
        );
        for ch in 0..c {
            let values = || (0..n).flat_map(move |b| (b * c + ch) * p..(b * c + ch + 1) * p);
            let (mean, var) = if mode == Mode::Train {
                let mean = values().map(|i| xs[i] as f64).sum::<f64>() / m as f64;
                let var = values().map(|i| (xs[i] as f64 - mean).powi(2)).sum::<f64>() / m as f64;
                let unbiased = if m > 1.0 {
                    var * m as f64 / (m as f64 - 1.0)
                } else {
                    var
                };
                self.running_mean[ch] =
                    (1.0 - self.momentum) * self.running_mean[ch] + self.momentum * mean as f32;
                self.running_var[ch] =
                    (1.0 - self.momentum) * self.running_var[ch] + self.momentum * unbiased as f32;
                (mean as f32, var as f32)
            } else {
                (self.running_mean[ch], self.running_var[ch])
            };
            let inv_std = 1.0 / (var + self.eps).sqrt();
            self.inv_std[ch] = inv_std;
            for i in values() {
                xh[i] = (xs[i] - mean) * inv_std;
                ys[i] = gamma[ch] * xh[i] + beta[ch];
            }
        }
        self.x_hat = Some(x_hat);
        self.mode = mode;
        y
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        let (n, c, p) = self.split("BatchNorm::forward", input.shape());
        let mut y = input.as_standard_layout().into_owned();
        let ys = y.as_slice_mut().expect("standard layout");
        let (gamma, beta) = (
            self.gamma.value.as_slice().expect("own"),
            self.beta.value.as_slice().expect("own"),
        );
        for ch in 0..c {
            let (mean, var) = (self.running_mean[ch], self.running_var[ch]);
            let inv_std = 1.0 / (var + self.eps).sqrt();
            for b in 0..n {
                for v in &mut ys[(b * c + ch) * p..(b * c + ch + 1) * p] {
                    *v = gamma[ch] * ((*v - mean) * inv_std) + beta[ch];
                }
            }
        }
        y
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let x_hat = self
            .x_hat
            .as_ref()
            .unwrap_or_else(|| panic!("BatchNorm: backward called before forward"));
        crate::tensor::assert_same_shape(
            "BatchNorm::backward (grad_output vs input)",
            grad_output,
            x_hat,
        );
        let (n, c, p) = self.split("BatchNorm::backward", x_hat.shape());
        let gy = grad_output.as_standard_layout();
        let (gs, xh) = (
            gy.as_slice().expect("standard"),
            x_hat.as_slice().expect("own"),
        );
        let m = (n * p) as f32;
        let mut dx = Tensor::zeros(x_hat.raw_dim());
        let dxs = dx.as_slice_mut().expect("fresh");
        let gamma = self.gamma.value.as_slice().expect("own");
        let (dgamma, dbeta) = (
            self.gamma.grad.as_slice_mut().expect("own"),
            self.beta.grad.as_slice_mut().expect("own"),
        );
        for ch in 0..c {
            let values = || (0..n).flat_map(move |b| (b * c + ch) * p..(b * c + ch + 1) * p);
            let sum_g: f32 = values().map(|i| gs[i]).sum();
            let sum_gx: f32 = values().map(|i| gs[i] * xh[i]).sum();
            dbeta[ch] += sum_g;
            dgamma[ch] += sum_gx;
            let k = gamma[ch] * self.inv_std[ch];
            for i in values() {
                dxs[i] = if self.mode == Mode::Train {
                    k / m * (m * gs[i] - sum_g - xh[i] * sum_gx)
                } else {
                    k * gs[i]
                };
            }
        }
        dx
    }

    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.gamma, &self.beta]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.gamma, &mut self.beta]
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::BatchNorm {
            num_features: self.num_features,
            momentum: self.momentum,
            eps: self.eps,
            running_mean: self.running_mean.clone(),
            running_var: self.running_var.clone(),
        }
    }

    fn name(&self) -> &str {
        "batch_norm"
    }
}

impl BatchNorm {
    /// Rebuilds a layer with saved running statistics (used by [`LayerConfig::build`]).
    pub(crate) fn from_saved(
        num_features: usize,
        momentum: f32,
        eps: f32,
        mean: &[f32],
        var: &[f32],
    ) -> BatchNorm {
        let mut bn = BatchNorm::new(num_features)
            .with_momentum(momentum)
            .with_eps(eps);
        if mean.len() == num_features && var.len() == num_features {
            bn.running_mean = mean.to_vec();
            bn.running_var = var.to_vec();
        }
        bn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    #[test]
    fn gradients_match_central_differences_in_both_modes() {
        crate::seed(7);
        for shape in [vec![6, 3], vec![3, 2, 3, 4]] {
            let x = crate::init::normal(&shape, 0.5, 2.0);
            let mut bn = BatchNorm::new(shape[1]);
            bn.gamma.value = crate::init::normal(&[shape[1]], 1.0, 0.5);
            check_layer(&mut bn, &x, Mode::Train, 1e-2).assert_within(2e-2);
            check_layer(&mut bn, &x, Mode::Eval, 1e-2).assert_within(1e-2);
        }
    }
}
