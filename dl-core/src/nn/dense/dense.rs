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
use crate::ops::gemm::{Output, Stored, gemm};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// The row-major buffer of a standard-layout tensor.
fn slice<S: ndarray::Data<Elem = f32>>(t: &ndarray::ArrayBase<S, IxDyn>) -> &[f32] {
    t.as_slice().expect("standard layout")
}

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
}

impl Dense {
    /// `∂L/∂W += Xᵀ G` and `∂L/∂b += Σ_rows G` for `G = ∂L/∂Y`.
    #[track_caller]
    fn accumulate_parameter_gradients(&mut self, grad_output: &Tensor) {
        let x = cached(&self.input, "Dense");
        let mut expected = x.shape().to_vec();
        *expected.last_mut().unwrap() = self.out_features;
        crate::nn::assert_grad_output_shape("Dense", grad_output, &expected);
        let g = grad_output.as_standard_layout();
        for p in [&mut self.weight, &mut self.bias] {
            if !p.grad.is_standard_layout() {
                p.grad = p.grad.as_standard_layout().into_owned();
            }
        }
        let (k, n) = (self.in_features, self.out_features);
        let m = x.len() / k.max(1);
        // ∂L/∂W += Xᵀ G   (accumulated in place)
        let dw = self.weight.grad.as_slice_mut().expect("standard layout");
        gemm(
            k,
            n,
            m,
            slice(x),
            Stored::Transposed,
            slice(&g),
            Stored::AsIs,
            dw,
            Output::Accumulate,
        );
        // ∂L/∂b += Σ_rows G
        let db = self.bias.grad.as_slice_mut().expect("standard layout");
        for row in slice(&g).chunks(n.max(1)) {
            for (acc, v) in db.iter_mut().zip(row) {
                *acc += v;
            }
        }
    }
}

impl Layer for Dense {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        if !self.weight.value.is_standard_layout() {
            // A weight assigned from a transposed array: store it row-major again.
            self.weight.value = self.weight.value.as_standard_layout().into_owned();
        }
        let y = self.infer(input);
        self.input = Some(input.as_standard_layout().into_owned());
        y
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        crate::tensor::assert_input("Dense::forward", input, 1, Some(self.in_features));
        let x = input.as_standard_layout();
        let w = self.weight.value.as_standard_layout();
        let (k, n) = (self.in_features, self.out_features);
        let m = x.len() / k.max(1);
        // Y = X W (GEMM on row-major buffers), then + b on every row.
        let mut y = vec![0.0f32; m * n];
        gemm(
            m,
            n,
            k,
            slice(&x),
            Stored::AsIs,
            slice(&w),
            Stored::AsIs,
            &mut y,
            Output::Overwrite,
        );
        let b = slice(&self.bias.value);
        for row in y.chunks_mut(n.max(1)) {
            for (v, bias) in row.iter_mut().zip(b) {
                *v += bias;
            }
        }
        let mut out_shape = input.shape().to_vec();
        *out_shape.last_mut().unwrap() = n;
        Tensor::from_shape_vec(IxDyn(&out_shape), y).expect("m × n values")
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        self.accumulate_parameter_gradients(grad_output);
        let g = grad_output.as_standard_layout();
        let x = cached(&self.input, "Dense");
        let (k, n) = (self.in_features, self.out_features);
        let m = x.len() / k.max(1);
        // ∂L/∂X = G Wᵀ
        let mut dx = vec![0.0f32; m * k];
        gemm(
            m,
            k,
            n,
            slice(&g),
            Stored::AsIs,
            slice(&self.weight.value),
            Stored::Transposed,
            &mut dx,
            Output::Overwrite,
        );
        Tensor::from_shape_vec(x.raw_dim(), dx).expect("m × k values")
    }

    #[track_caller]
    fn backward_parameters(&mut self, grad_output: &Tensor) {
        self.accumulate_parameter_gradients(grad_output);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_with_one_output_returns_a_standard_input_gradient() {
        // Regression: a [n, 1] gradient times Wᵀ used to come back column-major and panic.
        crate::seed(0);
        let mut dense = Dense::new(2, 1);
        let x = crate::init::uniform(&[200, 2], 0.0, 1.0);
        let y = dense.forward(&x, Mode::Train);
        let dx = dense.backward(&y);
        assert_eq!(dx.shape(), &[200, 2]);
    }

    #[test]
    fn matches_a_hand_computed_example() {
        let mut dense = Dense::new(2, 2);
        dense
            .weight_mut()
            .value
            .assign(&crate::tensor::from_vec(&[2, 2], vec![1., 2., 3., 4.]));
        dense
            .bias_mut()
            .value
            .assign(&crate::tensor::from_vec(&[2], vec![0.5, -0.5]));
        let x = crate::tensor::from_vec(&[1, 2], vec![1., 1.]);
        let y = dense.forward(&x, Mode::Train);
        assert_eq!(y.as_slice().unwrap(), &[4.5, 5.5]);
        let dx = dense.backward(&crate::tensor::from_vec(&[1, 2], vec![1., 0.]));
        assert_eq!(dx.as_slice().unwrap(), &[1., 3.]); // G Wᵀ
        assert_eq!(dense.weight().grad.as_slice().unwrap(), &[1., 0., 1., 0.]); // Xᵀ G
    }

    #[test]
    fn applies_to_the_last_axis_of_sequences() {
        let mut dense = Dense::new(3, 2);
        let x = Tensor::ones(IxDyn(&[4, 5, 3]));
        assert_eq!(dense.forward(&x, Mode::Eval).shape(), &[4, 5, 2]);
        let report = crate::gradcheck::check_layer(
            &mut dense,
            &crate::init::normal(&[2, 3, 3], 0.0, 1.0),
            Mode::Train,
            1e-2,
        );
        report.assert_within(1e-2);
    }

    #[test]
    #[should_panic(expected = "Dense::forward: expected input shape [.., 3], got shape [4, 2]")]
    fn a_wrong_input_width_names_both_shapes() {
        Dense::new(3, 2).forward(&Tensor::zeros(IxDyn(&[4, 2])), Mode::Eval);
    }
}
