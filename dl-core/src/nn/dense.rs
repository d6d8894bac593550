//! Dense (fully connected, Linear) layer.
//!
//! ```text
//! forward:   Y = X W + b                 X: [n, in], W: [in, out], b: [out], Y: [n, out]
//! backward:  ∂L/∂W += Xᵀ ∂L/∂Y
//!            ∂L/∂b += Σ_rows ∂L/∂Y
//!            ∂L/∂X  = ∂L/∂Y Wᵀ
//! ```
//!
//! Inputs with more than two axes are treated as a batch of rows over the last axis
//! (`[n, t, in]` → `[n, t, out]`), as in Keras and PyTorch.

use crate::init::Initializer;
use crate::nn::layer::cached;
use crate::nn::{Layer, LayerConfig, Mode, Parameter};
use crate::tensor::Tensor;
use ndarray::{Axis, Ix2, IxDyn};

/// A fully connected layer `y = x W + b` (Keras `Dense`, PyTorch `Linear`).
///
/// Sizes are given explicitly: `Dense::new(in_features, out_features)`. The weight is
/// `[in_features, out_features]` (Keras' layout), initialised Glorot-uniform; the bias is zero.
///
/// ```
/// use dl_core::prelude::*;
/// let mut layer = Dense::new(2, 1);
/// layer.weight_mut().value.assign(&dl_core::tensor::from_vec(&[2, 1], vec![3.0, -1.0]));
/// let y = layer.forward(&dl_core::tensor::from_vec(&[1, 2], vec![1.0, 2.0]), Mode::Eval);
/// assert_eq!(y[[0, 0]], 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct Dense {
    in_features: usize,
    out_features: usize,
    init: Initializer,
    weight: Parameter,
    bias: Parameter,
    input: Option<Tensor>,
}

impl Dense {
    /// A dense layer from `in_features` to `out_features` (Glorot-uniform weights, zero bias).
    pub fn new(in_features: usize, out_features: usize) -> Dense {
        Dense::with_initializer(in_features, out_features, Initializer::GlorotUniform)
    }

    fn with_initializer(in_features: usize, out_features: usize, init: Initializer) -> Dense {
        let w = init.tensor(&[in_features, out_features], in_features, out_features);
        Dense {
            in_features,
            out_features,
            init,
            weight: Parameter::new("weight", w),
            bias: Parameter::new("bias", Tensor::zeros(IxDyn(&[out_features]))),
            input: None,
        }
    }

    /// The same layer with weights drawn again from `init` (e.g. `Initializer::HeNormal`).
    pub fn with_init(self, init: Initializer) -> Dense {
        Dense::with_initializer(self.in_features, self.out_features, init)
    }

    /// The weight `[in_features, out_features]`.
    pub fn weight(&self) -> &Parameter {
        &self.weight
    }
    /// The weight, mutably.
    pub fn weight_mut(&mut self) -> &mut Parameter {
        &mut self.weight
    }
    /// The bias `[out_features]`.
    pub fn bias(&self) -> &Parameter {
        &self.bias
    }
    /// The bias, mutably.
    pub fn bias_mut(&mut self) -> &mut Parameter {
        &mut self.bias
    }

    /// Flattens leading axes: `[.., in]` → `[rows, in]`.
    fn as_rows<'a>(t: ndarray::ArrayViewD<'a, f32>, width: usize) -> ndarray::ArrayView2<'a, f32> {
        let rows = t.len() / width.max(1);
        t.into_shape_with_order((rows, width))
            .expect("standard layout")
    }
}

impl Layer for Dense {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        crate::tensor::assert_input("Dense::forward", input, 1, Some(self.in_features));
        let x = input.as_standard_layout().into_owned();
        let w = self
            .weight
            .value
            .view()
            .into_dimensionality::<Ix2>()
            .unwrap();
        let b = self.bias.value.view();
        let y = Dense::as_rows(x.view(), self.in_features).dot(&w) + &b;
        let mut out_shape = input.shape().to_vec();
        *out_shape.last_mut().unwrap() = self.out_features;
        self.input = Some(x);
        y.into_dyn()
            .into_shape_with_order(IxDyn(&out_shape))
            .unwrap()
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let x = cached(&self.input, "Dense");
        let mut expected = x.shape().to_vec();
        *expected.last_mut().unwrap() = self.out_features;
        assert!(
            grad_output.shape() == expected.as_slice(),
            "Dense::backward: grad_output shape {:?} does not match output shape {:?}",
            grad_output.shape(),
            expected
        );
        let g = grad_output.as_standard_layout();
        let g2 = Dense::as_rows(g.view(), self.out_features);
        let x2 = Dense::as_rows(x.view(), self.in_features);
        let dw = x2.t().dot(&g2);
        self.weight.grad += &dw.into_dyn();
        self.bias.grad += &g2.sum_axis(Axis(0)).into_dyn();
        let w = self
            .weight
            .value
            .view()
            .into_dimensionality::<Ix2>()
            .unwrap();
        let dx = g2.dot(&w.t());
        dx.into_dyn().into_shape_with_order(x.raw_dim()).unwrap()
    }

    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.weight, &self.bias]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.weight, &mut self.bias]
    }

    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        let mut s = input_shape.to_vec();
        if let Some(last) = s.last_mut() {
            *last = self.out_features;
        }
        s
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Dense {
            in_features: self.in_features,
            out_features: self.out_features,
            init: self.init,
        }
    }

    fn name(&self) -> &str {
        "dense"
    }
}
