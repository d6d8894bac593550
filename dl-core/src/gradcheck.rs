//! Numeric gradient checking by central differences.
//!
//! ```text
//! ∂f/∂x_i  ≈  (f(x + ε e_i) − f(x − ε e_i)) / 2ε        (error O(ε²))
//! ```
//!
//! A layer is checked with the scalar loss `L = Σ y ⊙ r`, where `r` is a fixed random tensor,
//! so `∂L/∂y = r`. The analytic gradients from `backward` (for the input and for every
//! parameter) are compared with the numeric ones; the error reported is
//! `|analytic − numeric| / max(1, |analytic|, |numeric|)`.
//!
//! f32 arithmetic limits the accuracy: use `ε ≈ 1e-2`, a tolerance of about `1e-2`, and inputs
//! away from kinks (ReLU at 0).

use crate::nn::{Layer, Mode};
use crate::rng::{Rng, with_rng};
use crate::tensor::Tensor;

/// Central-difference gradient of a scalar function `f` at `x`.
///
/// ```
/// use dl_core::gradcheck::numeric_gradient;
/// let x = dl_core::tensor::from_vec(&[2], vec![1.0, -2.0]);
/// let g = numeric_gradient(|t| t.mapv(|v| v * v).sum(), &x, 1e-2);
/// assert!((g[0] - 2.0).abs() < 1e-2 && (g[1] + 4.0).abs() < 1e-2);
/// ```
pub fn numeric_gradient(mut f: impl FnMut(&Tensor) -> f32, x: &Tensor, eps: f32) -> Tensor {
    let mut x = x.as_standard_layout().into_owned();
    let mut grad = Tensor::zeros(x.raw_dim());
    for i in 0..x.len() {
        let original = x.as_slice().unwrap()[i];
        x.as_slice_mut().unwrap()[i] = original + eps;
        let plus = f(&x) as f64;
        x.as_slice_mut().unwrap()[i] = original - eps;
        let minus = f(&x) as f64;
        x.as_slice_mut().unwrap()[i] = original;
        grad.as_slice_mut().unwrap()[i] = ((plus - minus) / (2.0 * eps as f64)) as f32;
    }
    grad
}

/// The outcome of a gradient check: the worst error per checked tensor.
#[derive(Clone, Debug)]
pub struct GradCheckReport {
    /// `(name, worst error)` for `"input"` and each parameter name.
    pub errors: Vec<(String, f32)>,
}

impl GradCheckReport {
    /// The largest error over all checked tensors.
    pub fn max_error(&self) -> f32 {
        self.errors.iter().map(|e| e.1).fold(0.0, f32::max)
    }

    /// Panics, naming the tensor, if any error exceeds `tolerance`.
    #[track_caller]
    pub fn assert_within(&self, tolerance: f32) {
        for (name, err) in &self.errors {
            assert!(
                *err <= tolerance,
                "gradient check failed for {name}: error {err} > tolerance {tolerance} ({:?})",
                self.errors
            );
        }
    }
}

fn relative_error(analytic: &Tensor, numeric: &Tensor) -> f32 {
    analytic
        .iter()
        .zip(numeric.iter())
        .map(|(a, n)| (a - n).abs() / 1f32.max(a.abs()).max(n.abs()))
        .fold(0.0, f32::max)
}

/// Checks a layer's `backward` (input gradient and every parameter gradient) against
/// central differences, in the given mode. Random layers (Dropout) see the same random
/// numbers in every forward pass of the check.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::gradcheck::check_layer;
/// dl_core::seed(0);
/// let mut layer = Dense::new(3, 2);
/// let x = dl_core::init::normal(&[4, 3], 0.0, 1.0);
/// check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(1e-2);
/// ```
pub fn check_layer(layer: &mut dyn Layer, input: &Tensor, mode: Mode, eps: f32) -> GradCheckReport {
    let saved_rng = with_rng(|r| r.clone());
    let restore = |rng: &Rng| with_rng(|r| *r = rng.clone());
    let y = layer.forward(input, mode);
    let weights = {
        let mut r = Rng::new(12345);
        Tensor::from_shape_simple_fn(y.raw_dim(), || r.uniform_range(-1.0, 1.0))
    };
    // Analytic gradients.
    for p in layer.parameters_mut() {
        p.zero_grad();
    }
    restore(&saved_rng);
    let y = layer.forward(input, mode);
    assert_eq!(
        y.shape(),
        weights.shape(),
        "check_layer: output shape changed between calls"
    );
    let dx = layer.backward(&weights);
    let param_grads: Vec<(String, Tensor)> = layer
        .parameters()
        .iter()
        .map(|p| (p.name.clone(), p.grad.clone()))
        .collect();
    let mut errors = Vec::new();
    // Input gradient.
    let numeric_dx = numeric_gradient(
        |x| {
            restore(&saved_rng);
            (&layer.forward(x, mode) * &weights).sum()
        },
        input,
        eps,
    );
    errors.push(("input".to_string(), relative_error(&dx, &numeric_dx)));
    // Parameter gradients.
    for (index, (name, analytic)) in param_grads.iter().enumerate() {
        let original = layer.parameters()[index].value.clone();
        let numeric = numeric_gradient(
            |value| {
                layer.parameters_mut()[index].value.assign(value);
                restore(&saved_rng);
                (&layer.forward(input, mode) * &weights).sum()
            },
            &original,
            eps,
        );
        layer.parameters_mut()[index].value.assign(&original);
        errors.push((name.clone(), relative_error(analytic, &numeric)));
    }
    restore(&saved_rng);
    GradCheckReport { errors }
}

/// Checks the gradients autograd derives for a scalar function of several tensors against
/// central differences: `f` receives the inputs as [`Var`](crate::autograd::Var)s and returns
/// a one-element variable. The errors are named `input 0`, `input 1`, ...
///
/// ```
/// use dl_core::gradcheck::check_gradients;
/// dl_core::seed(0);
/// let a = dl_core::init::normal(&[3, 4], 0.0, 1.0);
/// let b = dl_core::init::normal(&[4, 2], 0.0, 1.0);
/// check_gradients(|v| v[0].matmul(&v[1]).tanh().sum(), &[a, b]).assert_within(1e-2);
/// ```
pub fn check_gradients(
    f: impl Fn(&[crate::autograd::Var]) -> crate::autograd::Var,
    inputs: &[Tensor],
) -> GradCheckReport {
    use crate::autograd::Var;
    let eps = 1e-2;
    let saved_rng = with_rng(|r| r.clone());
    let leaves: Vec<Var> = inputs.iter().map(|t| Var::new(t.clone())).collect();
    f(&leaves).backward();
    let mut errors = Vec::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = leaf
            .grad()
            .unwrap_or_else(|| Tensor::zeros(inputs[i].raw_dim()));
        let numeric = numeric_gradient(
            |x| {
                with_rng(|r| *r = saved_rng.clone());
                let vars: Vec<Var> = inputs
                    .iter()
                    .enumerate()
                    .map(|(j, t)| Var::constant(if j == i { x.clone() } else { t.clone() }))
                    .collect();
                f(&vars).item()
            },
            &inputs[i],
            eps,
        );
        errors.push((format!("input {i}"), relative_error(&analytic, &numeric)));
    }
    GradCheckReport { errors }
}

/// Checks a loss's analytic gradient `∂L/∂ŷ` against central differences; returns the worst
/// error (same measure as [`check_layer`]).
///
/// ```
/// use dl_core::prelude::*;
/// let y_hat = dl_core::tensor::from_vec(&[2, 2], vec![0.2, 0.8, 0.6, 0.4]);
/// let y = dl_core::tensor::from_vec(&[2, 2], vec![0.0, 1.0, 1.0, 0.0]);
/// assert!(dl_core::gradcheck::check_loss(Loss::CategoricalCrossEntropy, &y, &y_hat, 1e-3) < 1e-2);
/// ```
pub fn check_loss(loss: crate::loss::Loss, y: &Tensor, y_hat: &Tensor, eps: f32) -> f32 {
    let analytic = loss.gradient(y, y_hat);
    let numeric = numeric_gradient(|t| loss.compute(y, t), y_hat, eps);
    relative_error(&analytic, &numeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::*;

    fn input() -> Tensor {
        crate::seed(3);
        // Keep values away from 0 so ReLU kinks are not crossed by ±ε.
        crate::init::normal(&[5, 4], 0.0, 1.0).mapv(|v| if v.abs() < 0.05 { 0.3 } else { v })
    }

    #[test]
    fn every_builtin_layer_passes() {
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(Dense::new(4, 3)),
            Box::new(Relu::new()),
            Box::new(LeakyRelu::new(0.1)),
            Box::new(Sigmoid::new()),
            Box::new(Tanh::new()),
            Box::new(Softmax::new()),
            Box::new(Dropout::new(0.4)),
        ];
        for mut layer in layers {
            let report = check_layer(layer.as_mut(), &input(), Mode::Train, 1e-2);
            assert!(report.max_error() < 1e-2, "{}: {:?}", layer.name(), report);
        }
    }

    #[test]
    fn a_model_with_a_wrong_gradient_fails() {
        /// Claims dy/dx = 1 for y = 2x.
        struct Wrong;
        impl Layer for Wrong {
            fn forward(&mut self, x: &Tensor, _: Mode) -> Tensor {
                self.infer(x)
            }
            fn infer(&self, x: &Tensor) -> Tensor {
                x * 2.0
            }
            fn backward(&mut self, g: &Tensor) -> Tensor {
                g.clone()
            }
            fn config(&self) -> LayerConfig {
                LayerConfig::Relu
            }
            fn name(&self) -> &str {
                "wrong"
            }
        }
        let report = check_layer(&mut Wrong, &input(), Mode::Eval, 1e-2);
        assert!(report.max_error() > 0.1);
    }
}
