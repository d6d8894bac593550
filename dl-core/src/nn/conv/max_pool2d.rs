//! 2-D max pooling over NCHW images (Keras `MaxPooling2D`, PyTorch `MaxPool2d`).
//!
//! ```text
//! y[n, c, oy, ox] = max_{i<k, j<k} x[n, c, oy·s − p + i, ox·s − p + j]
//! ∂L/∂x = ∂L/∂y routed to the position of each maximum (all other inputs get 0)
//! x: [n, c, h, w]   y: [n, c, (h + 2p − k)/s + 1, (w + 2p − k)/s + 1]
//! ```

use super::Pool2dWindow;
use crate::nn::{Layer, LayerConfig, Mode};
use crate::ops::pool::{max_pool_backward, max_pool_forward};
use crate::tensor::Tensor;

/// Max pooling with a square `kernel_size` window; the stride defaults to the window size.
///
/// ```
/// use dl_core::prelude::*;
/// let mut pool = MaxPool2d::new(2);
/// let x = dl_core::tensor::from_vec(&[1, 1, 2, 2], vec![1.0, 4.0, 3.0, 2.0]);
/// assert_eq!(pool.forward(&x, Mode::Train).as_slice().unwrap(), &[4.0]);
/// let dx = pool.backward(&dl_core::tensor::from_vec(&[1, 1, 1, 1], vec![1.0]));
/// assert_eq!(dx.as_slice().unwrap(), &[0.0, 1.0, 0.0, 0.0]);
/// ```
#[derive(Clone, Debug)]
pub struct MaxPool2d {
    window: Pool2dWindow,
    argmax: Vec<u32>,
    input_shape: Option<Vec<usize>>,
}

impl MaxPool2d {
    /// Pooling over `kernel_size × kernel_size` windows with stride `kernel_size`, no padding.
    pub fn new(kernel_size: usize) -> MaxPool2d {
        MaxPool2d {
            window: Pool2dWindow::new("MaxPool2d", kernel_size),
            argmax: Vec::new(),
            input_shape: None,
        }
    }

    /// The same layer with another stride.
    pub fn with_stride(mut self, stride: usize) -> MaxPool2d {
        self.window = self.window.with_stride("MaxPool2d", stride);
        self
    }

    /// The same layer with `padding` (treated as −∞) on every side.
    pub fn with_padding(mut self, padding: usize) -> MaxPool2d {
        self.window.padding = padding;
        self
    }
}

impl MaxPool2d {
    /// The pooled output, recording each window's winner in `argmax` (resized as needed).
    #[track_caller]
    fn run(&self, input: &Tensor, argmax: &mut Vec<u32>) -> Tensor {
        let g = self.window.geometry("MaxPool2d::forward", input.shape());
        let out = self.output_shape(input.shape());
        let x = input.as_standard_layout();
        let mut y = crate::tensor::zeros_in_parallel(&out);
        argmax.resize(y.len(), 0);
        max_pool_forward(
            x.as_slice().expect("standard layout"),
            &g,
            y.as_slice_mut().expect("fresh"),
            argmax,
        );
        y
    }
}

impl Layer for MaxPool2d {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let mut argmax = std::mem::take(&mut self.argmax);
        let y = self.run(input, &mut argmax);
        self.argmax = argmax;
        self.input_shape = Some(input.shape().to_vec());
        y
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        self.run(input, &mut Vec::new())
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let shape = self.input_shape.clone().unwrap_or_else(|| {
            panic!(
                "MaxPool2d: backward called before forward (in a Sequential training, a \
                     Conv2d with ReLU just before runs this pooling inside its own forward and \
                     backward: call the model's backward)"
            )
        });
        let g = self.window.geometry("MaxPool2d::backward", &shape);
        let expected = self.output_shape(&shape);
        crate::nn::assert_grad_output_shape("MaxPool2d", grad_output, &expected);
        let gy = grad_output.as_standard_layout();
        let mut dx = crate::tensor::zeros_in_parallel(&shape);
        max_pool_backward(
            gy.as_slice().expect("standard layout"),
            &self.argmax,
            &g,
            dx.as_slice_mut().expect("fresh"),
        );
        dx
    }

    #[track_caller]
    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        self.window
            .output_shape("MaxPool2d::output_shape", input_shape)
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::MaxPool2d {
            kernel_size: self.window.kernel_size,
            stride: self.window.stride,
            padding: self.window.padding,
        }
    }

    fn name(&self) -> &str {
        "max_pool2d"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    #[test]
    fn gradients_match_central_differences() {
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (2, 1, 0)] {
            crate::seed(5);
            // Distinct values, far apart, so ±ε never changes which input wins.
            let perm = crate::rng::fork().permutation(2 * 3 * 5 * 6);
            let x = crate::tensor::from_vec(
                &[2, 3, 5, 6],
                perm.iter().map(|&v| v as f32 * 0.1).collect(),
            );
            check_layer(
                &mut MaxPool2d::new(k).with_stride(s).with_padding(p),
                &x,
                Mode::Train,
                1e-2,
            )
            .assert_within(1e-2);
        }
    }

    #[test]
    #[should_panic(expected = "a Conv2d with ReLU just before runs this pooling inside its own")]
    fn backward_by_hand_after_a_fused_forward_says_where_the_pooling_ran() {
        use crate::nn::{Conv2d, Sequential};
        let mut model = Sequential::new()
            .add(Conv2d::new(1, 2, 3).relu())
            .add(MaxPool2d::new(2));
        let y = model.forward(&crate::tensor::zeros(&[1, 1, 6, 6]), Mode::Train);
        model.layers_mut()[1].backward(&y);
    }
}
