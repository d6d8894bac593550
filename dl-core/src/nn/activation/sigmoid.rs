//! Logistic sigmoid.
//!
//! ```text
//! forward:   y = σ(x) = 1 / (1 + e^(−x))   (computed as e^x / (1 + e^x) for x < 0, stably)
//! backward:  ∂L/∂x = ∂L/∂y · y (1 − y)
//! ```

use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// Sigmoid activation `1 / (1 + e^(-x))`.
///
/// ```
/// use dl_core::prelude::*;
/// let mut act = Sigmoid::new();
/// let x = dl_core::tensor::from_vec(&[1, 3], vec![-1.0, 0.0, 2.0]);
/// let y = act.forward(&x, Mode::Eval);
/// assert_eq!(y.shape(), &[1, 3]);
/// let dx = act.backward(&Tensor::ones(y.raw_dim()));
/// assert_eq!(dx.shape(), &[1, 3]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sigmoid {
    cache: Option<Tensor>,
}

impl Sigmoid {
    /// A new sigmoid activation layer.
    pub fn new() -> Sigmoid {
        Sigmoid { cache: None }
    }
}

impl Layer for Sigmoid {
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let y = self.infer(input);
        self.cache = Some(y.clone());
        y
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        input.mapv(sigmoid)
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let c = cached(&self.cache, "Sigmoid");
        crate::tensor::assert_same_shape("Sigmoid::backward", c, grad_output);
        let mut dx = grad_output.clone();
        ndarray::Zip::from(&mut dx)
            .and(c)
            .for_each(|g, &y| *g *= y * (1.0 - y));
        dx
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Sigmoid
    }

    fn name(&self) -> &str {
        "sigmoid"
    }
}

/// The numerically stable logistic function `σ(x) = 1 / (1 + e^(−x))`.
///
/// ```
/// assert_eq!(dl_core::nn::sigmoid(0.0), 0.5);
/// assert!(dl_core::nn::sigmoid(-100.0) >= 0.0);
/// ```
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}
