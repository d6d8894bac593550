//! Softmax over the last axis.
//!
//! ```text
//! forward:   y_i = e^(x_i − max x) / Σ_j e^(x_j − max x)
//! backward:  ∂L/∂x_i = y_i (∂L/∂y_i − Σ_j y_j ∂L/∂y_j)
//! ```

use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// Softmax over the last axis: each row becomes a probability distribution.
///
/// ```
/// use dl_core::prelude::*;
/// let mut act = Softmax::new();
/// let x = dl_core::tensor::from_vec(&[1, 3], vec![-1.0, 0.0, 2.0]);
/// let y = act.forward(&x, Mode::Eval);
/// assert_eq!(y.shape(), &[1, 3]);
/// let dx = act.backward(&Tensor::ones(y.raw_dim()));
/// assert_eq!(dx.shape(), &[1, 3]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Softmax {
    cache: Option<Tensor>,
}

impl Softmax {
    /// A new softmax activation layer.
    pub fn new() -> Softmax {
        Softmax { cache: None }
    }
}

impl Layer for Softmax {
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let y = self.infer(input);
        self.cache = Some(y.clone());
        y
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        softmax_last_axis(input)
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let c = cached(&self.cache, "Softmax");
        crate::tensor::assert_same_shape("Softmax::backward", c, grad_output);
        let mut dx = grad_output.as_standard_layout().into_owned();
        let k = *c.shape().last().unwrap_or(&1);
        let y = c.as_standard_layout();
        for (g_row, y_row) in dx
            .as_slice_mut()
            .unwrap()
            .chunks_mut(k.max(1))
            .zip(y.as_slice().unwrap().chunks(k.max(1)))
        {
            let dot: f32 = g_row.iter().zip(y_row).map(|(g, y)| g * y).sum();
            for (g, y) in g_row.iter_mut().zip(y_row) {
                *g = y * (*g - dot);
            }
        }
        dx
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Softmax
    }

    fn name(&self) -> &str {
        "softmax"
    }
}

/// Softmax over the last axis, shifted by the row maximum for stability.
///
/// ```
/// let x = dl_core::tensor::from_vec(&[1, 2], vec![0.0, 0.0]);
/// let y = dl_core::nn::softmax_last_axis(&x);
/// assert_eq!(y.as_slice().unwrap(), &[0.5, 0.5]);
/// ```
pub fn softmax_last_axis(input: &Tensor) -> Tensor {
    let mut y = input.as_standard_layout().into_owned();
    let k = (*y.shape().last().unwrap_or(&1)).max(1);
    for row in y.as_slice_mut().unwrap().chunks_mut(k) {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
    y
}
