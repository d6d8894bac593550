//! Hyperbolic tangent.
//!
//! ```text
//! forward:   y = tanh(x)
//! backward:  ∂L/∂x = ∂L/∂y · (1 − y²)
//! ```

use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// Tanh activation.
///
/// ```
/// use dl_core::prelude::*;
/// let mut act = Tanh::new();
/// let x = dl_core::tensor::from_vec(&[1, 3], vec![-1.0, 0.0, 2.0]);
/// let y = act.forward(&x, Mode::Eval);
/// assert_eq!(y.shape(), &[1, 3]);
/// let dx = act.backward(&Tensor::ones(y.raw_dim()));
/// assert_eq!(dx.shape(), &[1, 3]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tanh {
    cache: Option<Tensor>,
}

impl Tanh {
    /// A new tanh activation layer.
    pub fn new() -> Tanh {
        Tanh { cache: None }
    }
}

impl Layer for Tanh {
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let y = self.infer(input);
        self.cache = Some(y.clone());
        y
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        input.mapv(f32::tanh)
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let c = cached(&self.cache, "Tanh");
        crate::tensor::assert_same_shape("Tanh::backward", c, grad_output);
        let mut dx = grad_output.clone();
        ndarray::Zip::from(&mut dx)
            .and(c)
            .for_each(|g, &y| *g *= 1.0 - y * y);
        dx
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Tanh
    }

    fn name(&self) -> &str {
        "tanh"
    }
}
