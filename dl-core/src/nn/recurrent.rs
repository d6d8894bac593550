//! The machinery shared by [`SimpleRnn`](crate::nn::SimpleRnn), [`Lstm`](crate::nn::Lstm)
//! and [`Gru`](crate::nn::Gru): a cell unrolled over a batch-first sequence `[n, t, d]`,
//! returning the last hidden state `[n, h]` or, with `return_sequences`, every hidden state
//! `[n, t, h]`. The maths of each cell and of backpropagation through time is in
//! [`crate::ops::rnn_cell`].

use crate::init::Initializer;
use crate::nn::Parameter;
use crate::ops::rnn_cell::{CellKind, RnnBuffers, RnnDims, rnn_backward, rnn_forward};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// A recurrent cell with its weights and the buffers kept between forward and backward.
#[derive(Clone, Debug)]
pub(crate) struct Recurrent {
    pub kind: CellKind,
    pub input_size: usize,
    pub hidden_size: usize,
    pub return_sequences: bool,
    pub w_ih: Parameter,
    pub w_hh: Parameter,
    pub b_ih: Parameter,
    pub b_hh: Parameter,
    buffers: RnnBuffers,
    dims: Option<RnnDims>,
    name: &'static str,
}

impl Recurrent {
    /// Glorot-uniform weights (Keras' kernel default), zero biases; an LSTM's forget-gate
    /// bias starts at 1 (Keras' `unit_forget_bias`).
    pub fn new(
        kind: CellKind,
        name: &'static str,
        input_size: usize,
        hidden_size: usize,
    ) -> Recurrent {
        let gh = kind.gates() * hidden_size;
        let w_ih = Initializer::GlorotUniform.tensor(&[input_size, gh], input_size, gh);
        let w_hh = Initializer::GlorotUniform.tensor(&[hidden_size, gh], hidden_size, gh);
        let mut b_ih = Tensor::zeros(IxDyn(&[gh]));
        if kind == CellKind::Lstm {
            b_ih.slice_mut(ndarray::s![hidden_size..2 * hidden_size])
                .fill(1.0);
        }
        Recurrent {
            kind,
            input_size,
            hidden_size,
            return_sequences: false,
            w_ih: Parameter::new("w_ih", w_ih),
            w_hh: Parameter::new("w_hh", w_hh),
            b_ih: Parameter::new("b_ih", b_ih),
            b_hh: Parameter::new("b_hh", Tensor::zeros(IxDyn(&[gh]))),
            buffers: RnnBuffers::default(),
            dims: None,
            name,
        }
    }

    #[track_caller]
    fn check_input(&self, op: &str, shape: &[usize]) {
        assert!(
            shape.len() == 3 && shape[2] == self.input_size,
            "{}::{op}: expected input [n, t, {}], got shape {shape:?}",
            self.name,
            self.input_size
        );
    }

    pub fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        self.check_input("output_shape", input_shape);
        if self.return_sequences {
            vec![input_shape[0], input_shape[1], self.hidden_size]
        } else {
            vec![input_shape[0], self.hidden_size]
        }
    }

    #[track_caller]
    pub fn forward(&mut self, input: &Tensor) -> Tensor {
        self.check_input("forward", input.shape());
        let dims = RnnDims {
            n: input.shape()[0],
            t: input.shape()[1],
            d: self.input_size,
            h: self.hidden_size,
        };
        let x = input.as_standard_layout();
        rnn_forward(
            self.kind,
            dims,
            x.as_slice().expect("standard layout"),
            self.w_ih.value.as_slice().expect("own"),
            self.w_hh.value.as_slice().expect("own"),
            self.b_ih.value.as_slice().expect("own"),
            self.b_hh.value.as_slice().expect("own"),
            &mut self.buffers,
        );
        self.dims = Some(dims);
        let RnnDims { n, t, h, .. } = dims;
        let states = &self.buffers.h;
        if self.return_sequences {
            // [t + 1, n, h] time-major → [n, t, h]
            let mut out = Vec::with_capacity(n * t * h);
            for b in 0..n {
                for s in 1..=t {
                    out.extend_from_slice(&states[(s * n + b) * h..(s * n + b + 1) * h]);
                }
            }
            Tensor::from_shape_vec(IxDyn(&[n, t, h]), out).expect("length matches")
        } else {
            Tensor::from_shape_vec(IxDyn(&[n, h]), states[t * n * h..].to_vec())
                .expect("length matches")
        }
    }

    #[track_caller]
    pub fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let dims = self
            .dims
            .unwrap_or_else(|| panic!("{}: backward called before forward", self.name));
        let RnnDims { n, t, d, h } = dims;
        let expected: Vec<usize> = if self.return_sequences {
            vec![n, t, h]
        } else {
            vec![n, h]
        };
        assert!(
            grad_output.shape() == expected.as_slice(),
            "{}::backward: grad_output shape {:?} does not match output shape {expected:?}",
            self.name,
            grad_output.shape()
        );
        let g = grad_output.as_standard_layout();
        let g = g.as_slice().expect("standard layout");
        // ∂L/∂h_t, time-major [t, n, h]
        let mut grad_h = vec![0.0; t * n * h];
        if self.return_sequences {
            for b in 0..n {
                for s in 0..t {
                    grad_h[(s * n + b) * h..(s * n + b + 1) * h]
                        .copy_from_slice(&g[(b * t + s) * h..(b * t + s + 1) * h]);
                }
            }
        } else {
            grad_h[(t - 1) * n * h..].copy_from_slice(g);
        }
        let mut dx = Tensor::zeros(IxDyn(&[n, t, d]));
        rnn_backward(
            self.kind,
            dims,
            &grad_h,
            self.w_ih.value.as_slice().expect("own"),
            self.w_hh.value.as_slice().expect("own"),
            &mut self.buffers,
            self.w_ih.grad.as_slice_mut().expect("own"),
            self.w_hh.grad.as_slice_mut().expect("own"),
            self.b_ih.grad.as_slice_mut().expect("own"),
            self.b_hh.grad.as_slice_mut().expect("own"),
            dx.as_slice_mut().expect("fresh"),
        );
        dx
    }

    pub fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh]
    }

    pub fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![
            &mut self.w_ih,
            &mut self.w_hh,
            &mut self.b_ih,
            &mut self.b_hh,
        ]
    }
}

/// Implements [`Layer`](crate::nn::Layer) for a wrapper around [`Recurrent`] in field `cell`.
macro_rules! recurrent_layer {
    ($ty:ident, $variant:ident, $name:literal) => {
        impl $crate::nn::Layer for $ty {
            #[track_caller]
            fn forward(&mut self, input: &Tensor, _mode: $crate::nn::Mode) -> Tensor {
                self.cell.forward(input)
            }
            #[track_caller]
            fn backward(&mut self, grad_output: &Tensor) -> Tensor {
                self.cell.backward(grad_output)
            }
            fn parameters(&self) -> Vec<&$crate::nn::Parameter> {
                self.cell.parameters()
            }
            fn parameters_mut(&mut self) -> Vec<&mut $crate::nn::Parameter> {
                self.cell.parameters_mut()
            }
            #[track_caller]
            fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
                self.cell.output_shape(input_shape)
            }
            fn config(&self) -> $crate::nn::LayerConfig {
                $crate::nn::LayerConfig::$variant {
                    input_size: self.cell.input_size,
                    hidden_size: self.cell.hidden_size,
                    return_sequences: self.cell.return_sequences,
                }
            }
            fn name(&self) -> &str {
                $name
            }
        }
    };
}
pub(crate) use recurrent_layer;
