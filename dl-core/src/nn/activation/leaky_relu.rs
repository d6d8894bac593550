//! Leaky rectified linear unit.
//!
//! ```text
//! forward:   y = x        if x > 0
//!            y = α x      otherwise
//! backward:  ∂L/∂x = ∂L/∂y · (1 if x > 0 else α)
//! ```

use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// LeakyRelu activation with negative slope `alpha` (Keras' default 0.3 in `LeakyRelu::default()`,
/// PyTorch's default 0.01).
///
/// ```
/// use dl_core::prelude::*;
/// let mut act = LeakyRelu::new(0.1);
/// let y = act.forward(&dl_core::tensor::from_vec(&[2], vec![-2.0, 3.0]), Mode::Eval);
/// assert_eq!(y.as_slice().unwrap(), &[-0.2, 3.0]);
/// ```
#[derive(Clone, Debug)]
pub struct LeakyRelu {
    alpha: f32,
    cache: Option<Tensor>,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu::new(0.3)
    }
}

impl LeakyRelu {
    /// A LeakyRelu with slope `alpha` for negative inputs.
    pub fn new(alpha: f32) -> LeakyRelu {
        LeakyRelu { alpha, cache: None }
    }
}

impl Layer for LeakyRelu {
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        self.cache = Some(input.clone());
        self.infer(input)
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        let a = self.alpha;
        input.mapv(|v| if v > 0.0 { v } else { a * v })
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let c = cached(&self.cache, "LeakyRelu");
        crate::tensor::assert_same_shape("LeakyRelu::backward", c, grad_output);
        let a = self.alpha;
        let mut dx = grad_output.clone();
        ndarray::Zip::from(&mut dx).and(c).for_each(|g, &x| {
            if x <= 0.0 {
                *g *= a
            }
        });
        dx
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::LeakyRelu { alpha: self.alpha }
    }

    fn name(&self) -> &str {
        "leaky_relu"
    }
}
