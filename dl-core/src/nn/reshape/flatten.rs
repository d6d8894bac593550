//! Flatten: every axis after the batch axis becomes one feature axis.
//!
//! ```text
//! y = reshape(x, [n, d₁·d₂·…])        ∂L/∂x = reshape(∂L/∂y, shape of x)
//! ```

use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// Reshapes `[n, c, h, w]` (or any `[n, …]`) to `[n, c·h·w]` (Keras and PyTorch `Flatten`).
///
/// ```
/// use dl_core::prelude::*;
/// let mut flat = Flatten::new();
/// let y = flat.forward(&dl_core::tensor::zeros(&[2, 3, 4, 5]), Mode::Eval);
/// assert_eq!(y.shape(), &[2, 60]);
/// assert_eq!(flat.backward(&y).shape(), &[2, 3, 4, 5]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Flatten {
        Flatten::default()
    }
}

impl Layer for Flatten {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        self.input_shape = Some(input.shape().to_vec());
        self.infer(input)
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        crate::tensor::assert_input("Flatten::forward", input, 1, None);
        let out = self.output_shape(input.shape());
        input
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&out))
            .expect("same length")
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let shape = self
            .input_shape
            .as_ref()
            .unwrap_or_else(|| panic!("Flatten: backward called before forward"));
        assert!(
            grad_output.len() == shape.iter().product::<usize>(),
            "Flatten::backward: grad_output shape {:?} does not match input shape {shape:?}",
            grad_output.shape()
        );
        grad_output
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .expect("same length")
    }

    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        vec![input_shape[0], input_shape[1..].iter().product()]
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Flatten
    }

    fn name(&self) -> &str {
        "flatten"
    }
}
