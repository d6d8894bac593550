//! 2-D convolution layer over NCHW images (Keras `Conv2D`, PyTorch `Conv2d`).
//!
//! ```text
//! y[n, o, oy, ox] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x[n, c, oy·s − p + i, ox·s − p + j]
//! x: [n, c, h, w]   W: [oc, c, kh, kw]   b: [oc]   y: [n, oc, (h + 2p − kh)/s + 1, (w + 2p − kw)/s + 1]
//! ```
//!
//! Computed as im2col + one matrix product per image, in parallel over the batch; backward is
//! the adjoint (see [`crate::ops::conv`]). The unrolled columns are kept from forward to
//! backward in a buffer the layer reuses from batch to batch.

use crate::init::Initializer;
use crate::nn::{Layer, LayerConfig, Mode, Parameter};
use crate::ops::conv::{conv2d_backward, conv2d_forward};
use crate::ops::conv_pool::{self, Layout, conv2d_relu_max_pool_infer};
use crate::ops::conv_pool_train::{
    self, conv2d_relu_max_pool_backward, conv2d_relu_max_pool_forward,
};
use crate::ops::im2col::Geometry;
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// A 2-D convolution with `out_channels` filters of `kernel_h × kernel_w` over `in_channels`.
///
/// Keras' `Conv2D(32, (3, 3), activation="relu")` on 1-channel images is
/// `Conv2d::new(1, 32, 3).relu()` (or `Conv2d::new(1, 32, 3)` followed by `Relu::new()`). Weights are Glorot-uniform with
/// `fan_in = c·kh·kw`, `fan_out = oc·kh·kw` (Keras' default), biases zero.
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut conv = Conv2d::new(1, 4, 3).with_padding(1);
/// let x = dl_core::init::normal(&[2, 1, 5, 5], 0.0, 1.0);
/// let y = conv.forward(&x, Mode::Train);
/// assert_eq!(y.shape(), &[2, 4, 5, 5]);
/// let dx = conv.backward(&y);
/// assert_eq!(dx.shape(), x.shape());
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d {
    in_channels: usize,
    out_channels: usize,
    kernel_h: usize,
    kernel_w: usize,
    stride: usize,
    padding: usize,
    init: Initializer,
    weight: Parameter,
    bias: Parameter,
    /// Apply ReLU to the output (Keras' `activation="relu"`), fused into the kernel.
    relu: bool,
    /// im2col columns of the last forward batch, `[n, c·kh·kw, oh·ow]`.
    cols: Vec<f32>,
    /// With the fused ReLU: the output of the last forward batch, `[n, oc, oh·ow]`.
    activated: Vec<f32>,
    /// Shape of the last forward input, while `cols` is valid for backward.
    input_shape: Option<Vec<usize>>,
    /// When the last forward ran fused with the max pooling after it
    /// ([`Layer::forward_fused`]): the pooling window and each window's winner (see
    /// [`crate::ops::conv_pool_train`]).
    pooled: Option<(Geometry, Vec<u32>)>,
}

impl Conv2d {
    /// A convolution from `in_channels` to `out_channels` with a square `kernel_size` window,
    /// stride 1 and no padding (Keras' `padding="valid"`).
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv2d {
        Conv2d::build(
            in_channels,
            out_channels,
            (kernel_size, kernel_size),
            1,
            0,
            Initializer::GlorotUniform,
        )
    }

    fn build(
        in_channels: usize,
        out_channels: usize,
        (kernel_h, kernel_w): (usize, usize),
        stride: usize,
        padding: usize,
        init: Initializer,
    ) -> Conv2d {
        assert!(stride > 0, "Conv2d: stride must be positive");
        let area = kernel_h * kernel_w;
        let w = init.tensor(
            &[out_channels, in_channels, kernel_h, kernel_w],
            in_channels * area,
            out_channels * area,
        );
        Conv2d {
            in_channels,
            out_channels,
            kernel_h,
            kernel_w,
            stride,
            padding,
            init,
            weight: Parameter::new("weight", w),
            bias: Parameter::new("bias", Tensor::zeros(IxDyn(&[out_channels]))),
            relu: false,
            cols: Vec::new(),
            activated: Vec::new(),
            pooled: None,
            input_shape: None,
        }
    }

    /// The same layer with a rectangular `kernel_h × kernel_w` window (new weights).
    pub fn with_kernel_size(self, kernel_h: usize, kernel_w: usize) -> Conv2d {
        let relu = self.relu;
        let mut conv = Conv2d::build(
            self.in_channels,
            self.out_channels,
            (kernel_h, kernel_w),
            self.stride,
            self.padding,
            self.init,
        );
        conv.relu = relu;
        conv
    }

    /// The same layer with step `stride` between windows.
    pub fn with_stride(mut self, stride: usize) -> Conv2d {
        assert!(stride > 0, "Conv2d: stride must be positive");
        self.stride = stride;
        self
    }

    /// The same layer with `padding` zeros on every side (`kernel_size / 2` keeps the size, as
    /// Keras' `padding="same"` does for odd kernels and stride 1).
    pub fn with_padding(mut self, padding: usize) -> Conv2d {
        self.padding = padding;
        self
    }

    /// The same layer with weights drawn again from `init`.
    pub fn with_init(self, init: Initializer) -> Conv2d {
        let relu = self.relu;
        let mut conv = Conv2d::build(
            self.in_channels,
            self.out_channels,
            (self.kernel_h, self.kernel_w),
            self.stride,
            self.padding,
            init,
        );
        conv.relu = relu;
        conv
    }

    /// The same layer followed by a Relu, fused into the convolution (Keras'
    /// `Conv2D(..., activation="relu")`): `y = max(0, conv(x))`. Same result as adding
    /// `Relu::new()` after it, with one pass over memory less.
    pub fn relu(mut self) -> Conv2d {
        self.relu = true;
        self
    }

    /// The filters `[out_channels, in_channels, kernel_h, kernel_w]`.
    pub fn weight(&self) -> &Parameter {
        &self.weight
    }
    /// The filters, mutably.
    pub fn weight_mut(&mut self) -> &mut Parameter {
        &mut self.weight
    }
    /// The bias `[out_channels]`.
    pub fn bias(&self) -> &Parameter {
        &self.bias
    }
    /// The bias, mutably.
    pub fn bias_mut(&mut self) -> &mut Parameter {
        &mut self.bias
    }

    #[track_caller]
    fn geometry(&self, op: &str, shape: &[usize]) -> Geometry {
        assert!(
            shape.len() == 4 && shape[1] == self.in_channels,
            "{op}: expected input [n, {}, h, w], got shape {shape:?}",
            self.in_channels
        );
        let g = Geometry {
            channels: self.in_channels,
            height: shape[2],
            width: shape[3],
            kernel_h: self.kernel_h,
            kernel_w: self.kernel_w,
            stride: self.stride,
            padding: self.padding,
        };
        assert!(
            g.fits(),
            "{op}: a {}×{} kernel with padding {} does not fit input shape {shape:?}",
            self.kernel_h,
            self.kernel_w,
            self.padding
        );
        g
    }

    /// The output for `input`. With `keep`, the im2col columns and (with the fused ReLU) the
    /// output copy are written to `cols` and `activated`, resized as needed, for backward;
    /// without, they are left empty (inference).
    #[track_caller]
    fn run(
        &self,
        input: &Tensor,
        keep: bool,
        cols: &mut Vec<f32>,
        activated: &mut Vec<f32>,
    ) -> Tensor {
        let g = self.geometry("Conv2d::forward", input.shape());
        let n = input.shape()[0];
        let x = input.as_standard_layout();
        let (cols_len, out_len) = if keep {
            (
                n * g.patch_len() * g.out_len(),
                if self.relu {
                    n * self.out_channels * g.out_len()
                } else {
                    0
                },
            )
        } else {
            (0, 0)
        };
        cols.resize(cols_len, 0.0);
        activated.resize(out_len, 0.0);
        let mut y = crate::tensor::zeros_in_parallel(&[n, self.out_channels, g.out_h(), g.out_w()]);
        conv2d_forward(
            x.as_slice().expect("standard layout"),
            &g,
            n,
            self.weight.value.as_slice().expect("own parameter"),
            self.bias.value.as_slice().expect("own parameter"),
            self.out_channels,
            self.relu,
            cols,
            activated,
            y.as_slice_mut().expect("fresh array"),
        );
        y
    }

    /// Backward: parameter gradients, and `∂L/∂x` into `grad_x` (zeros, `[n, c, h, w]`) if given.
    #[track_caller]
    fn backward_into(&mut self, grad_output: &Tensor, grad_x: Option<&mut [f32]>) {
        let shape = self
            .input_shape
            .take()
            .unwrap_or_else(|| panic!("Conv2d: backward called before forward"));
        let g = self.geometry("Conv2d::backward", &shape);
        let expected = self.output_shape(&shape);
        let (weight, grad_weight, grad_bias) = (
            self.weight.value.as_slice().expect("own parameter"),
            self.weight.grad.as_slice_mut().expect("own parameter"),
            self.bias.grad.as_slice_mut().expect("own parameter"),
        );
        // After `forward_fused`: the gradient of the pooled output.
        if let Some((pool, winners)) = self.pooled.take() {
            let expected = [shape[0], self.out_channels, pool.out_h(), pool.out_w()];
            crate::nn::assert_grad_output_shape("Conv2d+MaxPool2d", grad_output, &expected);
            let gy = grad_output.as_standard_layout();
            conv2d_relu_max_pool_backward(
                gy.as_slice().expect("standard layout"),
                &g,
                shape[0],
                weight,
                self.out_channels,
                &pool,
                &mut self.cols,
                &winners,
                grad_weight,
                grad_bias,
                grad_x,
            );
            return;
        }
        crate::nn::assert_grad_output_shape("Conv2d", grad_output, &expected);
        let gy = grad_output.as_standard_layout();
        conv2d_backward(
            gy.as_slice().expect("standard layout"),
            &g,
            shape[0],
            weight,
            self.out_channels,
            self.relu,
            &mut self.cols,
            &self.activated,
            grad_weight,
            grad_bias,
            grad_x,
        );
    }

    /// The pooling window of `next` over this layer's output for input geometry `g`, when the
    /// two can run fused: this layer with its ReLU, `next` a [`MaxPool2d`](crate::nn::MaxPool2d)
    /// without padding that fits (otherwise the pooling layer reports the misfit itself).
    fn fused_pooling(&self, g: &Geometry, next: &dyn Layer) -> Option<Geometry> {
        let LayerConfig::MaxPool2d {
            kernel_size,
            stride,
            padding: 0,
        } = next.config()
        else {
            return None;
        };
        let pool = Geometry {
            channels: self.out_channels,
            height: g.out_h(),
            width: g.out_w(),
            kernel_h: kernel_size,
            kernel_w: kernel_size,
            stride,
            padding: 0,
        };
        (self.relu && pool.fits()).then_some(pool)
    }
}

impl Layer for Conv2d {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let (mut cols, mut activated) = (
            std::mem::take(&mut self.cols),
            std::mem::take(&mut self.activated),
        );
        let y = self.run(input, true, &mut cols, &mut activated);
        (self.cols, self.activated) = (cols, activated);
        self.input_shape = Some(input.shape().to_vec());
        self.pooled = None;
        y
    }

    /// With the fused ReLU and a [`MaxPool2d`](crate::nn::MaxPool2d) without padding next:
    /// both layers in one pass, keeping what backward needs and each window's winner (see
    /// [`crate::ops::conv_pool_train`]).
    #[track_caller]
    fn forward_fused(&mut self, input: &Tensor, next: &dyn Layer, _mode: Mode) -> Option<Tensor> {
        let g = self.geometry("Conv2d::forward", input.shape());
        let pool = self.fused_pooling(&g, next)?;
        let (n, o) = (input.shape()[0], self.out_channels);
        let x = input.as_standard_layout();
        let mut cols = std::mem::take(&mut self.cols);
        cols.resize(conv_pool_train::kept_len(&g, n), 0.0);
        let mut winners = self.pooled.take().map(|(_, w)| w).unwrap_or_default();
        let mut y = crate::tensor::zeros_in_parallel(&[n, o, pool.out_h(), pool.out_w()]);
        winners.resize(y.len(), 0);
        conv2d_relu_max_pool_forward(
            x.as_slice().expect("standard layout"),
            &g,
            n,
            self.weight.value.as_slice().expect("own parameter"),
            self.bias.value.as_slice().expect("own parameter"),
            o,
            &pool,
            &mut cols,
            &mut winners,
            y.as_slice_mut().expect("fresh array"),
        );
        self.cols = cols;
        self.input_shape = Some(input.shape().to_vec());
        self.pooled = Some((pool, winners));
        Some(y)
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        self.run(input, false, &mut Vec::new(), &mut Vec::new())
    }

    /// With the fused ReLU and a [`MaxPool2d`](crate::nn::MaxPool2d) without padding next:
    /// both layers in one pass (see [`crate::ops::conv_pool`]).
    #[track_caller]
    fn infer_fused(&self, input: &Tensor, next: &dyn Layer) -> Option<Tensor> {
        let g = self.geometry("Conv2d::forward", input.shape());
        let pool = self.fused_pooling(&g, next)?;
        let (n, o) = (input.shape()[0], self.out_channels);
        // Images the layer before left channels-last are read as they lie when the kernel
        // reads that layout; any other input is made channel-first.
        let hwc = conv_pool::reads_channels_last(&g)
            .then(|| channels_last_memory(input))
            .flatten();
        let standard;
        let (x, x_layout) = match hwc {
            Some(memory) => (memory, Layout::ChannelsLast),
            None => {
                standard = input.as_standard_layout();
                let x = standard.as_slice().expect("standard layout");
                (x, Layout::ChannelsFirst)
            }
        };
        let y_layout = if conv_pool::writes_channels_last(&g, o, &pool) {
            Layout::ChannelsLast
        } else {
            Layout::ChannelsFirst
        };
        let (poh, pow) = (pool.out_h(), pool.out_w());
        // Zeroed by all the threads: one thread zeroing the first layer's 5.5 MB output of a
        // batch of 256 images kept the other waiting (its 2-thread speed-up was 1.5×).
        let mut y = crate::tensor::zeros_in_parallel(&match y_layout {
            Layout::ChannelsFirst => [n, o, poh, pow],
            Layout::ChannelsLast => [n, poh, pow, o],
        });
        conv2d_relu_max_pool_infer(
            x,
            x_layout,
            &g,
            n,
            self.weight.value.as_slice().expect("own parameter"),
            self.bias.value.as_slice().expect("own parameter"),
            o,
            &pool,
            y_layout,
            y.as_slice_mut().expect("fresh array"),
        );
        Some(match y_layout {
            Layout::ChannelsFirst => y,
            // The same `[n, oc, poh, pow]` tensor, its strides saying the memory is NHWC.
            Layout::ChannelsLast => y.permuted_axes(IxDyn(&[0, 3, 1, 2])),
        })
    }

    /// Channels-last images are read as they lie by `infer_fused`, any other
    /// layout through `as_standard_layout`.
    fn reads_any_layout(&self) -> bool {
        true
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let shape = self.input_shape.clone().unwrap_or_default();
        let mut dx = crate::tensor::zeros_in_parallel(&shape);
        self.backward_into(grad_output, Some(dx.as_slice_mut().expect("fresh array")));
        dx
    }

    #[track_caller]
    fn backward_parameters(&mut self, grad_output: &Tensor) {
        self.backward_into(grad_output, None);
    }

    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.weight, &self.bias]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.weight, &mut self.bias]
    }

    #[track_caller]
    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        let g = self.geometry("Conv2d::output_shape", input_shape);
        vec![input_shape[0], self.out_channels, g.out_h(), g.out_w()]
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Conv2d {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            kernel_size: [self.kernel_h, self.kernel_w],
            stride: self.stride,
            padding: self.padding,
            init: self.init,
            relu: self.relu,
        }
    }

    fn name(&self) -> &str {
        "conv2d"
    }
}

/// The memory of a `[n, c, h, w]` tensor whose strides say it lies channels-last (a
/// contiguous `[n, h, w, c]`), as one slice in that order; `None` for any other layout.
fn channels_last_memory(x: &Tensor) -> Option<&[f32]> {
    if x.ndim() != 4
        || !x
            .view()
            .permuted_axes(IxDyn(&[0, 2, 3, 1]))
            .is_standard_layout()
    {
        return None;
    }
    x.as_slice_memory_order()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    #[test]
    fn gradients_match_central_differences() {
        for (stride, padding) in [(1, 0), (2, 1), (1, 2)] {
            crate::seed(4);
            let mut conv = Conv2d::new(2, 3, 3)
                .with_stride(stride)
                .with_padding(padding);
            let x = crate::init::normal(&[2, 2, 6, 5], 0.0, 1.0);
            check_layer(&mut conv, &x, Mode::Train, 1e-2).assert_within(1e-2);
        }
    }

    #[test]
    fn fused_relu_and_inference_agree_with_the_plain_convolution() {
        // Small patches (1·3·3, the register-blocked kernel) and large ones (4·3·3, GEMM),
        // with outputs whose width is not a multiple of the 16- and 64-value blocks.
        for (c, width) in [(1, 30), (1, 70), (4, 11)] {
            crate::seed(6);
            let plain = Conv2d::new(c, 5, 3);
            let mut fused = plain.clone().relu();
            let x = crate::init::normal(&[3, c, 9, width], 0.0, 1.0);
            let want = plain.infer(&x).mapv(|v| v.max(0.0));
            for got in [fused.forward(&x, Mode::Train), fused.infer(&x)] {
                assert_eq!(got.shape(), want.shape());
                assert!(
                    got.iter()
                        .zip(want.iter())
                        .all(|(a, b)| (a - b).abs() < 1e-5)
                );
            }
            // Backward through the fused ReLU = the plain backward of the masked gradient.
            let mut plain = plain;
            let g = crate::init::normal(want.shape(), 0.0, 1.0);
            let masked = ndarray::Zip::from(&g)
                .and(&want)
                .map_collect(|g, y| if *y > 0.0 { *g } else { 0.0 });
            plain.forward(&x, Mode::Train);
            let dx_plain = plain.backward(&masked);
            let dx_fused = fused.backward(&g);
            let close = |a: &Tensor, b: &Tensor| {
                a.iter()
                    .zip(b.iter())
                    .all(|(u, v)| (u - v).abs() < 1e-4 * (1.0 + u.abs()))
            };
            assert!(close(&dx_plain, &dx_fused), "input gradient, {c} channels");
            assert!(
                close(&plain.weight.grad, &fused.weight.grad),
                "weight gradient"
            );
            assert!(close(&plain.bias.grad, &fused.bias.grad), "bias gradient");
        }
    }

    #[test]
    fn fused_with_max_pooling_equals_the_two_layers() {
        use crate::nn::{MaxPool2d, Sequential};
        // Odd sizes, padding, stride, channel counts not a multiple of 8; a pooling layer
        // with padding is not fused and must give the same result too.
        for (c, o, h, w, stride, padding, pool) in [
            (1, 5, 9, 11, 1, 0, MaxPool2d::new(2)),
            (3, 7, 10, 13, 2, 1, MaxPool2d::new(3).with_stride(2)),
            (4, 12, 12, 9, 1, 1, MaxPool2d::new(2).with_padding(1)),
        ] {
            crate::seed(8);
            let conv = Conv2d::new(c, o, 3)
                .with_stride(stride)
                .with_padding(padding)
                .relu();
            let x = crate::init::normal(&[3, c, h, w], 0.0, 1.0);
            let want = pool.infer(&conv.infer(&x));
            let model = Sequential::new().add(conv).add(pool);
            let got = model.infer(&x);
            assert_eq!(got.shape(), want.shape());
            assert!(
                got.iter()
                    .zip(want.iter())
                    .all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + b.abs()))
            );
        }
    }

    /// A layer that insists on row-major input, as a layer written in a notebook cell may.
    struct RowMajorOnly;

    impl Layer for RowMajorOnly {
        fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
            self.infer(input)
        }
        fn infer(&self, input: &Tensor) -> Tensor {
            let values = input.as_slice().expect("a row-major input");
            Tensor::from_shape_vec(input.raw_dim(), values.to_vec()).expect("same shape")
        }
        fn backward(&mut self, grad_output: &Tensor) -> Tensor {
            grad_output.clone()
        }
        fn config(&self) -> LayerConfig {
            LayerConfig::Flatten
        }
        fn name(&self) -> &'static str {
            "RowMajorOnly"
        }
    }

    #[test]
    fn a_convolution_trained_fused_with_its_pooling_matches_the_layers_one_by_one() {
        use crate::nn::{Dense, Flatten, MaxPool2d, Sequential};
        crate::seed(5);
        // Both kernels: a small patch (1·3·3, im2col) and a large one (4·3·3, channels-last
        // with the backward products over the winners).
        let mut model = Sequential::new()
            .add(Conv2d::new(1, 4, 3).relu())
            .add(MaxPool2d::new(2))
            .add(Conv2d::new(4, 3, 3).relu())
            .add(MaxPool2d::new(2))
            .add(Flatten::new())
            .add(Dense::new(3 * 2 * 2, 2));
        let x = crate::init::normal(&[3, 1, 14, 14], 0.0, 1.0);
        // Central differences through one fused pair, with a step small enough that no
        // ReLU or pooling window changes side within it (at 1e-2, several do, fused or not).
        let mut pair = Sequential::new()
            .add(Conv2d::new(2, 3, 3).relu())
            .add(MaxPool2d::new(2));
        let small = crate::init::normal(&[2, 2, 6, 6], 0.0, 1.0);
        check_layer(&mut pair, &small, Mode::Train, 1e-3).assert_within(1e-2);
        let grads = |model: &Sequential| -> Vec<f32> {
            model
                .parameters()
                .iter()
                .flat_map(|p| p.grad.iter().copied().collect::<Vec<_>>())
                .collect()
        };
        model.zero_grad();
        let y = model.forward(&x, Mode::Train);
        let g = crate::init::normal(y.shape(), 0.0, 1.0);
        let dx = model.backward(&g);
        let fused = grads(&model);
        // The same layers, each run on its own.
        model.zero_grad();
        let mut a = x.clone();
        for layer in model.layers_mut() {
            a = layer.forward(&a, Mode::Train);
        }
        let mut d = g.clone();
        for layer in model.layers_mut().iter_mut().rev() {
            d = layer.backward(&d);
        }
        let close = |got: &[f32], want: &[f32], what: &str| {
            assert_eq!(got.len(), want.len(), "{what}");
            for (i, (a, b)) in got.iter().zip(want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                    "{what}[{i}]: {a} vs {b}"
                );
            }
        };
        close(y.as_slice().unwrap(), a.as_slice().unwrap(), "output");
        close(dx.as_slice().unwrap(), d.as_slice().unwrap(), "∂L/∂x");
        close(&fused, &grads(&model), "parameter gradients");
    }

    #[test]
    fn the_book_cnn_infers_as_its_layers_one_by_one() {
        use crate::nn::{Dense, Flatten, MaxPool2d, Sequential};
        crate::seed(3);
        // Two fused blocks (where the CPU allows, the first leaves its output channels-last
        // and the second reads it so), then layers that need row-major input.
        let model = Sequential::new()
            .add(Conv2d::new(1, 32, 3).relu())
            .add(MaxPool2d::new(2))
            .add(Conv2d::new(32, 64, 3).relu())
            .add(MaxPool2d::new(2))
            .add(Flatten::new())
            .add(Dense::new(1600, 10));
        let x = crate::init::normal(&[5, 1, 28, 28], 0.0, 1.0);
        let mut want = x.clone();
        for layer in model.layers() {
            want = layer.infer(&want);
        }
        let got = model.infer(&x);
        assert_eq!(got.shape(), &[5, 10]);
        for (a, b) in got.iter().zip(want.iter()) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // A model that ends with a fused block, or hands one to a row-major-only layer.
        let block = || {
            crate::seed(4);
            Sequential::new()
                .add(Conv2d::new(1, 32, 3).relu())
                .add(MaxPool2d::new(2))
        };
        let first = block().infer(&x);
        assert!(first.is_standard_layout());
        let checked = block().add(RowMajorOnly).infer(&x);
        assert_eq!(checked, first);
    }

    #[test]
    #[should_panic(
        expected = "Conv2d::forward: expected input [n, 3, h, w], got shape [2, 1, 8, 8]"
    )]
    fn wrong_channels_name_both_shapes() {
        Conv2d::new(3, 4, 3).forward(&crate::tensor::zeros(&[2, 1, 8, 8]), Mode::Eval);
    }
}
