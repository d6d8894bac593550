//! Rectified linear unit.
//!
//! ```text
//! forward:   y = max(0, x)
//! backward:  ∂L/∂x = ∂L/∂y · [x > 0]
//! ```

use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// ReLU activation `max(0, x)` (the derivative at 0 is taken as 0, as in PyTorch).
///
/// ```
/// use dl_core::prelude::*;
/// let mut act = Relu::new();
/// let x = dl_core::tensor::from_vec(&[1, 3], vec![-1.0, 0.0, 2.0]);
/// let y = act.forward(&x, Mode::Eval);
/// assert_eq!(y.shape(), &[1, 3]);
/// let dx = act.backward(&Tensor::ones(y.raw_dim()));
/// assert_eq!(dx.shape(), &[1, 3]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Relu {
    cache: Option<Tensor>,
}

impl Relu {
    /// A new relu activation layer.
    pub fn new() -> Relu {
        Relu { cache: None }
    }
}

impl Layer for Relu {
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        self.cache = Some(input.clone());
        self.infer(input)
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        input.mapv(|v| v.max(0.0))
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let c = cached(&self.cache, "ReLU");
        crate::tensor::assert_same_shape("Relu::backward", c, grad_output);
        let mut dx = grad_output.clone();
        ndarray::Zip::from(&mut dx).and(c).for_each(|g, &x| {
            if x <= 0.0 {
                *g = 0.0
            }
        });
        dx
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Relu
    }

    fn name(&self) -> &str {
        "relu"
    }
}
