//! The layer contract: every layer is a function `y = f(x; θ)` that knows its own derivative.
//!
//! Forward computes `y = f(x; θ)` and remembers what backward needs. Backward receives
//! `∂L/∂y` and
//!
//! ```text
//! accumulates  ∂L/∂θ += (∂y/∂θ)ᵀ ∂L/∂y   into each Parameter::grad
//! returns      ∂L/∂x  = (∂y/∂x)ᵀ ∂L/∂y   (the input gradient; saliency maps use it)
//! ```
//!
//! Gradients accumulate until an optimiser (or [`Parameter::zero_grad`]) clears them, as in
//! PyTorch.

use crate::nn::LayerConfig;
use crate::tensor::Tensor;

/// A named, trainable tensor and its gradient (same shape).
///
/// ```
/// use dl_core::nn::Parameter;
/// let mut p = Parameter::new("bias", dl_core::tensor::zeros(&[3]));
/// p.grad.fill(1.0);
/// p.zero_grad();
/// assert_eq!(p.grad.sum(), 0.0);
/// assert_eq!(p.len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Parameter {
    /// Name inside its layer, e.g. `"weight"` or `"bias"`.
    pub name: String,
    /// Current value.
    pub value: Tensor,
    /// Accumulated gradient `∂L/∂value`.
    pub grad: Tensor,
}

impl Parameter {
    /// A parameter with a zero gradient of the same shape as `value`.
    pub fn new(name: &str, value: Tensor) -> Parameter {
        let grad = Tensor::zeros(value.raw_dim());
        Parameter {
            name: name.to_string(),
            value,
            grad,
        }
    }

    /// Sets the gradient to zero.
    pub fn zero_grad(&mut self) {
        self.grad.fill(0.0);
    }

    /// Number of scalars in the parameter.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True if the parameter holds no scalars.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Training or inference: Dropout and BatchNorm behave differently in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: dropout active, batch statistics used and updated.
    Train,
    /// Inference: deterministic.
    Eval,
}

/// A layer with a hand-written forward and backward pass.
///
/// Shapes are batch-first. A layer caches what its backward needs during `forward`
/// (in both modes, so that input gradients can be taken of a trained model in `Eval` mode).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut dense = Dense::new(3, 2);
/// let x = dl_core::tensor::from_vec(&[4, 3], vec![0.5; 12]);
/// let y = dense.forward(&x, Mode::Train);
/// assert_eq!(y.shape(), &[4, 2]);
/// let dx = dense.backward(&Tensor::ones(y.raw_dim()));
/// assert_eq!(dx.shape(), &[4, 3]);
/// assert_eq!(dense.parameters()[1].grad.as_slice().unwrap(), &[4.0, 4.0]); // bias grad = Σ rows
/// assert_eq!(dense.output_shape(&[4, 3]), vec![4, 2]);
/// assert_eq!(dense.infer(&x), dense.forward(&x, Mode::Eval));
/// ```
pub trait Layer: Send {
    /// Computes the output for a batch and caches what backward needs.
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor;
    /// The output in `Mode::Eval`, from the weights alone: nothing is cached and the layer is
    /// not changed (what [`Sequential::predict`](crate::nn::Sequential::predict) and
    /// `evaluate` call). Equal to `forward(input, Mode::Eval)`.
    fn infer(&self, input: &Tensor) -> Tensor;
    /// Inference through this layer and the `next` one at once, when this layer has a fused
    /// kernel for the pair (a convolution with ReLU followed by max pooling):
    /// `Some(next.infer(self.infer(input)))`, computed without the intermediate tensor. The
    /// default is `None`: [`Sequential`](crate::nn::Sequential) runs the two one by one.
    /// The result may lie in memory in another order than row-major (a convolution's
    /// channels-last output, its strides saying so): `Sequential` makes it row-major before
    /// any layer that does not [`Layer::reads_any_layout`].
    fn infer_fused(&self, _input: &Tensor, _next: &dyn Layer) -> Option<Tensor> {
        None
    }
    /// Training's forward through this layer and the `next` one at once, when this layer has
    /// a fused kernel for the pair (a convolution with ReLU followed by max pooling): the
    /// output of both, with what backward needs cached in this layer, whose
    /// [`Layer::backward`] then takes `∂L/∂output` of the pair and returns `∂L/∂input` of the
    /// pair; `next` is not changed and its `backward` is not called
    /// ([`Sequential`](crate::nn::Sequential) skips it). The default is `None`: the two run
    /// one by one.
    fn forward_fused(&mut self, _input: &Tensor, _next: &dyn Layer, _mode: Mode) -> Option<Tensor> {
        None
    }
    /// Whether [`Layer::infer`] and [`Layer::infer_fused`] take an input in any memory layout
    /// (reading it through its strides) rather than only a row-major one. The default is
    /// `false`, so a layer written for row-major input (`input.as_slice()`) always gets one.
    fn reads_any_layout(&self) -> bool {
        false
    }
    /// Given `∂L/∂output`, accumulates parameter gradients and returns `∂L/∂input`.
    ///
    /// **Panics** if called before `forward`.
    fn backward(&mut self, grad_output: &Tensor) -> Tensor;
    /// Backward when nobody reads `∂L/∂input` (the first layer of a model during training):
    /// accumulates the same parameter gradients as [`Layer::backward`] and skips the input
    /// gradient. The default calls `backward` and drops its result; layers whose input
    /// gradient costs real work (convolution, dense, recurrent) skip it.
    ///
    /// **Panics** if called before `forward`.
    fn backward_parameters(&mut self, grad_output: &Tensor) {
        self.backward(grad_output);
    }
    /// The trainable parameters, in a fixed order. The default is none (activations,
    /// pooling, dropout, flatten).
    fn parameters(&self) -> Vec<&Parameter> {
        Vec::new()
    }
    /// The trainable parameters, mutably, in the same order as [`Layer::parameters`]. The
    /// default is none.
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        Vec::new()
    }
    /// The output shape for an input shape (batch axis included), without computing. The
    /// default is the input's shape (elementwise layers).
    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        input_shape.to_vec()
    }
    /// The serialisable description of this layer (architecture, not weights).
    fn config(&self) -> LayerConfig;
    /// A short lowercase kind name, e.g. `"dense"`; `Sequential` makes it unique (`dense_1`).
    fn name(&self) -> &str;
    /// The [`Module`](crate::nn::Module) inside an [`Autograd`](crate::nn::Autograd) layer, to
    /// be found again by its type ([`Sequential::module`](crate::nn::Sequential::module)).
    /// The default is none.
    fn module_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// The tensor cached by `forward`; panics naming `layer` when backward comes before forward.
///
/// For layer authors: `let x = cached(&self.input, "Conv2d");`.
#[track_caller]
pub fn cached<'a>(cache: &'a Option<Tensor>, layer: &str) -> &'a Tensor {
    cache
        .as_ref()
        .unwrap_or_else(|| panic!("{layer}: backward called before forward"))
}

/// Panics unless `grad_output` has the shape of the layer's output, naming the layer: for
/// layer authors, at the start of `backward`.
#[track_caller]
pub fn assert_grad_output_shape(layer: &str, grad_output: &Tensor, expected: &[usize]) {
    assert!(
        grad_output.shape() == expected,
        "{layer}::backward: grad_output shape {:?} does not match output shape {expected:?}",
        grad_output.shape()
    );
}
