//! The layer half shared by [`SimpleRnn`](crate::nn::SimpleRnn), [`Lstm`](crate::nn::Lstm)
//! and [`Gru`](crate::nn::Gru): a cell's weights, unrolled over a batch-first sequence
//! `[n, t, d]`, returning the last hidden state `[n, h]` or, with `return_sequences`, every
//! hidden state `[n, t, h]`. The batch is split over threads; each part runs
//! [`bptt`](super::bptt) on its own sequences.

use super::bptt::{CellKind, RnnBuffers, RnnDims, rnn_backward, rnn_forward};
use crate::init::Initializer;
use crate::nn::Parameter;
use crate::tensor::Tensor;
use ndarray::IxDyn;
use rayon::prelude::*;

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
    /// One set of buffers per part of the batch (one part per thread).
    buffers: Vec<RnnBuffers>,
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
            buffers: Vec::new(),
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

    /// Splits a batch of `n` sequences into one run of rows per thread (at least 8 rows each),
    /// so that each thread unrolls its own sequences without meeting the others at every step.
    fn batch_parts(n: usize) -> Vec<(usize, usize)> {
        let parts = rayon::current_num_threads().min(n / 8).max(1);
        let per = n.div_ceil(parts).max(1);
        (0..n)
            .step_by(per)
            .map(|start| (start, per.min(n - start)))
            .collect()
    }

    /// Forward, keeping the buffers for backward.
    #[track_caller]
    pub fn forward(&mut self, input: &Tensor) -> Tensor {
        let mut buffers = std::mem::take(&mut self.buffers);
        let y = self.run(input, &mut buffers);
        self.buffers = buffers;
        let shape = input.shape();
        self.dims = Some(RnnDims {
            n: shape[0],
            t: shape[1],
            d: self.input_size,
            h: self.hidden_size,
        });
        y
    }

    /// Inference: [`Recurrent::run`] with buffers that belong to the calling thread and are
    /// reused from call to call (a fresh `[t, n, g·h]` gate buffer per batch would cost more
    /// in page faults than the step's arithmetic).
    #[track_caller]
    pub fn infer(&self, input: &Tensor) -> Tensor {
        thread_local! {
            static BUFFERS: std::cell::RefCell<Vec<RnnBuffers>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => self.run(input, &mut buffers),
            // Re-entered on the same thread (a recurrent layer inside a recurrent layer's
            // inference): fresh buffers.
            Err(_) => self.run(input, &mut Vec::new()),
        })
    }

    /// The output for `input`, with one set of `buffers` per part of the batch.
    #[track_caller]
    pub fn run(&self, input: &Tensor, buffers: &mut Vec<RnnBuffers>) -> Tensor {
        self.check_input("forward", input.shape());
        let (n, t, d, h) = (
            input.shape()[0],
            input.shape()[1],
            self.input_size,
            self.hidden_size,
        );
        let x = input.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let parts = Recurrent::batch_parts(n);
        buffers.resize_with(parts.len(), RnnBuffers::default);
        let (kind, w_ih, w_hh) = (
            self.kind,
            self.w_ih.value.as_slice().expect("own"),
            self.w_hh.value.as_slice().expect("own"),
        );
        let (b_ih, b_hh) = (
            self.b_ih.value.as_slice().expect("own"),
            self.b_hh.value.as_slice().expect("own"),
        );
        parts
            .par_iter()
            .zip(buffers.par_iter_mut())
            .for_each(|(&(start, rows), buf)| {
                let dims = RnnDims { n: rows, t, d, h };
                rnn_forward(
                    kind,
                    dims,
                    &x[start * t * d..(start + rows) * t * d],
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    buf,
                );
            });
        // Each part's states are time-major [t + 1, rows, h]; the output is batch-first.
        let mut out = Vec::with_capacity(if self.return_sequences {
            n * t * h
        } else {
            n * h
        });
        for (&(_, rows), buf) in parts.iter().zip(buffers.iter()) {
            let states = &buf.h;
            if self.return_sequences {
                for b in 0..rows {
                    for s in 1..=t {
                        out.extend_from_slice(&states[(s * rows + b) * h..(s * rows + b + 1) * h]);
                    }
                }
            } else {
                out.extend_from_slice(&states[t * rows * h..]);
            }
        }
        let shape: &[usize] = if self.return_sequences {
            &[n, t, h]
        } else {
            &[n, h]
        };
        Tensor::from_shape_vec(IxDyn(shape), out).expect("length matches")
    }

    /// Backward through time: parameter gradients, and the returned `∂L/∂x`.
    #[track_caller]
    pub fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let (n, t, d) = self.dims.map_or((0, 0, 0), |dims| (dims.n, dims.t, dims.d));
        let mut dx = Tensor::zeros(IxDyn(&[n, t, d]));
        self.backward_into(grad_output, Some(dx.as_slice_mut().expect("fresh")));
        dx
    }

    /// Backward through time, parameter gradients only (see `Layer::backward_parameters`).
    #[track_caller]
    pub fn backward_parameters(&mut self, grad_output: &Tensor) {
        self.backward_into(grad_output, None);
    }

    /// Parameter gradients, and `∂L/∂x` into `grad_x` (`[n, t, d]`) if given.
    #[track_caller]
    fn backward_into(&mut self, grad_output: &Tensor, grad_x: Option<&mut [f32]>) {
        let dims = self
            .dims
            .unwrap_or_else(|| panic!("{}: backward called before forward", self.name));
        let RnnDims { n, t, d, h } = dims;
        let expected: Vec<usize> = if self.return_sequences {
            vec![n, t, h]
        } else {
            vec![n, h]
        };
        crate::nn::assert_grad_output_shape(self.name, grad_output, &expected);
        let g = grad_output.as_standard_layout();
        let g = g.as_slice().expect("standard layout");
        let parts = Recurrent::batch_parts(n);
        assert_eq!(
            parts.len(),
            self.buffers.len(),
            "{}: batch split changed between forward and backward",
            self.name
        );
        let gh = self.kind.gates() * h;
        let (kind, return_sequences) = (self.kind, self.return_sequences);
        let (w_ih, w_hh) = (
            self.w_ih.value.as_slice().expect("own"),
            self.w_hh.value.as_slice().expect("own"),
        );
        let mut dx_parts: Vec<Option<&mut [f32]>> = match grad_x {
            Some(mut rest) => parts
                .iter()
                .map(|&(_, rows)| {
                    let (head, tail) = std::mem::take(&mut rest).split_at_mut(rows * t * d);
                    rest = tail;
                    Some(head)
                })
                .collect(),
            None => Vec::new(),
        };
        dx_parts.resize_with(parts.len(), Default::default);
        // Each part: ∂L/∂h_t time-major [t, rows, h], then BPTT into its own weight gradients.
        let grads: Vec<[Vec<f32>; 4]> = parts
            .par_iter()
            .zip(self.buffers.par_iter_mut())
            .zip(dx_parts.into_par_iter())
            .map(|((&(start, rows), buf), dx_part)| {
                let mut grad_h = vec![0.0; t * rows * h];
                for b in 0..rows {
                    if return_sequences {
                        for s in 0..t {
                            let src = &g[((start + b) * t + s) * h..][..h];
                            grad_h[(s * rows + b) * h..][..h].copy_from_slice(src);
                        }
                    } else {
                        let src = &g[(start + b) * h..][..h];
                        grad_h[((t - 1) * rows + b) * h..][..h].copy_from_slice(src);
                    }
                }
                let mut gw = [
                    vec![0.0; d * gh],
                    vec![0.0; h * gh],
                    vec![0.0; gh],
                    vec![0.0; gh],
                ];
                let [gw_ih, gw_hh, gb_ih, gb_hh] = &mut gw;
                let dims = RnnDims { n: rows, t, d, h };
                rnn_backward(
                    kind, dims, &grad_h, w_ih, w_hh, buf, gw_ih, gw_hh, gb_ih, gb_hh, dx_part,
                );
                gw
            })
            .collect();
        for part in grads {
            for (p, gpart) in self.parameters_mut().into_iter().zip(part) {
                p.grad
                    .as_slice_mut()
                    .expect("own")
                    .iter_mut()
                    .zip(&gpart)
                    .for_each(|(a, b)| *a += b);
            }
        }
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
            fn infer(&self, input: &Tensor) -> Tensor {
                self.cell.infer(input)
            }
            #[track_caller]
            fn backward(&mut self, grad_output: &Tensor) -> Tensor {
                self.cell.backward(grad_output)
            }
            #[track_caller]
            fn backward_parameters(&mut self, grad_output: &Tensor) {
                self.cell.backward_parameters(grad_output)
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

#[cfg(test)]
mod tests {
    use crate::nn::{Gru, Layer, Lstm, Mode, SimpleRnn};
    use crate::tensor::Tensor;

    /// Forward and backward with the batch split over `threads` parts.
    fn run(layer: &mut dyn Layer, x: &Tensor, g: &Tensor, threads: usize) -> Vec<Tensor> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for p in layer.parameters_mut() {
                p.zero_grad();
            }
            let y = layer.forward(x, Mode::Train);
            let dx = layer.backward(g);
            let mut all = vec![y, dx];
            all.extend(layer.parameters().iter().map(|p| p.grad.clone()));
            all
        })
    }

    #[test]
    fn splitting_the_batch_over_threads_changes_nothing() {
        crate::seed(11);
        let x = crate::init::normal(&[27, 5, 3], 0.0, 1.0);
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(SimpleRnn::new(3, 6).return_sequences(true)),
            Box::new(Lstm::new(3, 6)),
            Box::new(Gru::new(3, 6).return_sequences(true)),
        ];
        for mut layer in layers {
            let shape = layer.output_shape(x.shape());
            let g = crate::init::normal(&shape, 0.0, 1.0);
            let one = run(layer.as_mut(), &x, &g, 1);
            let three = run(layer.as_mut(), &x, &g, 3);
            for (a, b) in one.iter().zip(&three) {
                assert_eq!(a.shape(), b.shape());
                assert!(
                    a.iter()
                        .zip(b.iter())
                        .all(|(u, v)| (u - v).abs() <= 1e-5 * (1.0 + u.abs())),
                    "{}",
                    layer.name()
                );
            }
        }
    }
}
