//! 2-D average pooling over NCHW images (Keras `AveragePooling2D`, PyTorch `AvgPool2d`).
//!
//! ```text
//! y[n, c, oy, ox] = (1/k²) Σ_{i<k, j<k} x[n, c, oy·s − p + i, ox·s − p + j]     (padding counts as 0)
//! ∂L/∂x[n, c, y, x] = Σ over the windows containing (y, x) of ∂L/∂y / k²
//! ```

use super::Pool2dWindow;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::ops::pool::{avg_pool_backward, avg_pool_forward};
use crate::tensor::Tensor;

/// Average pooling with a square `kernel_size` window; the stride defaults to the window size.
///
/// ```
/// use dl_core::prelude::*;
/// let mut pool = AvgPool2d::new(2);
/// let x = dl_core::tensor::from_vec(&[1, 1, 2, 2], vec![1.0, 4.0, 3.0, 2.0]);
/// assert_eq!(pool.forward(&x, Mode::Train).as_slice().unwrap(), &[2.5]);
/// ```
#[derive(Clone, Debug)]
pub struct AvgPool2d {
    window: Pool2dWindow,
    input_shape: Option<Vec<usize>>,
}

impl AvgPool2d {
    /// Pooling over `kernel_size × kernel_size` windows with stride `kernel_size`, no padding.
    pub fn new(kernel_size: usize) -> AvgPool2d {
        AvgPool2d {
            window: Pool2dWindow::new("AvgPool2d", kernel_size),
            input_shape: None,
        }
    }

    /// The same layer with another stride.
    pub fn with_stride(mut self, stride: usize) -> AvgPool2d {
        self.window = self.window.with_stride("AvgPool2d", stride);
        self
    }

    /// The same layer with zero `padding` on every side (included in the divisor).
    pub fn with_padding(mut self, padding: usize) -> AvgPool2d {
        self.window.padding = padding;
        self
    }
}

impl Layer for AvgPool2d {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let y = self.infer(input);
        self.input_shape = Some(input.shape().to_vec());
        y
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        let g = self.window.geometry("AvgPool2d::forward", input.shape());
        let x = input.as_standard_layout();
        let mut y = crate::tensor::zeros_in_parallel(&self.output_shape(input.shape()));
        avg_pool_forward(
            x.as_slice().expect("standard layout"),
            &g,
            y.as_slice_mut().expect("fresh"),
        );
        y
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let shape = self
            .input_shape
            .clone()
            .unwrap_or_else(|| panic!("AvgPool2d: backward called before forward"));
        let g = self.window.geometry("AvgPool2d::backward", &shape);
        let expected = self.output_shape(&shape);
        crate::nn::assert_grad_output_shape("AvgPool2d", grad_output, &expected);
        let gy = grad_output.as_standard_layout();
        let mut dx = crate::tensor::zeros_in_parallel(&shape);
        avg_pool_backward(
            gy.as_slice().expect("standard layout"),
            &g,
            dx.as_slice_mut().expect("fresh"),
        );
        dx
    }

    #[track_caller]
    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        self.window
            .output_shape("AvgPool2d::output_shape", input_shape)
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::AvgPool2d {
            kernel_size: self.window.kernel_size,
            stride: self.window.stride,
            padding: self.window.padding,
        }
    }

    fn name(&self) -> &str {
        "avg_pool2d"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    #[test]
    fn gradients_match_central_differences() {
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (2, 1, 0)] {
            crate::seed(6);
            let x = crate::init::normal(&[2, 3, 5, 6], 0.0, 1.0);
            check_layer(
                &mut AvgPool2d::new(k).with_stride(s).with_padding(p),
                &x,
                Mode::Train,
                1e-2,
            )
            .assert_within(1e-2);
        }
    }
}
