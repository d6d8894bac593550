//! Simple recurrent layer (Keras `SimpleRNN`, PyTorch `nn.RNN` with tanh).
//!
//! ```text
//! h_0 = 0,   h_t = tanh(x_t W_ih + b_ih + h_{t−1} W_hh + b_hh),   t = 1 … T
//! x: [n, T, d]   W_ih: [d, h]   W_hh: [h, h]   output: h_T [n, h]  (or all h_t: [n, T, h])
//! ```
//!
//! Backward is backpropagation through time: `δ_t = (∂L/∂h_t + δ_{t+1} W_hhᵀ) ⊙ (1 − h_t²)`
//! (the unrolling over steps is in [`bptt`](super::bptt)).

use super::bptt::CellKind;
use super::unroll::{Recurrent, recurrent_layer};
use crate::ops::fast_math::{tanh_in_place, with_best_simd};
use crate::ops::gemm::Output;
use crate::ops::packed_gemm::{PackedMatrix, gemm_packed};
use crate::tensor::Tensor;

/// One forward step for `n` rows: `gates` (`[n, h]`) becomes
/// `h_t = tanh([x_t h_{t−1} 1] · [W_ih; W_hh; b])` (`xh`: `[n, d + h + 1]`, `w`: the stacked
/// weights packed), copied into `h_next`.
pub(super) fn forward_step(
    n: usize,
    xh: &[f32],
    w: &PackedMatrix,
    gates: &mut [f32],
    h_next: &mut [f32],
) {
    gemm_packed(n, xh, w, gates, Output::Overwrite);
    tanh_in_place(gates);
    h_next.copy_from_slice(gates);
}

/// One backward step: `δ = ∂L/∂h_t ⊙ (1 − h_t²)`, the derivative of tanh at its output.
pub(super) fn backward_step(dh: &[f32], h_cur: &[f32], delta: &mut [f32]) {
    with_best_simd(
        #[inline(always)]
        || {
            for ((dl, g), hv) in delta.iter_mut().zip(dh).zip(h_cur) {
                *dl = g * (1.0 - hv * hv);
            }
        },
    );
}

/// A fully connected recurrent layer with tanh (Keras `SimpleRNN`, PyTorch `nn.RNN`).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut rnn = SimpleRnn::new(1, 32);
/// let x = dl_core::tensor::zeros(&[8, 10, 1]); // 8 sequences of 10 steps, 1 feature
/// assert_eq!(rnn.forward(&x, Mode::Train).shape(), &[8, 32]);
/// ```
#[derive(Clone, Debug)]
pub struct SimpleRnn {
    cell: Recurrent,
}

impl SimpleRnn {
    /// A layer reading `input_size` features per step into `hidden_size` units; it returns the
    /// last hidden state `[n, hidden_size]` (see [`SimpleRnn::return_sequences`]).
    pub fn new(input_size: usize, hidden_size: usize) -> SimpleRnn {
        SimpleRnn {
            cell: Recurrent::new(CellKind::Simple, "SimpleRnn", input_size, hidden_size),
        }
    }

    /// With `true`, the output is every hidden state `[n, t, hidden_size]` (to stack
    /// recurrent layers), as Keras' `return_sequences=True`.
    pub fn return_sequences(mut self, yes: bool) -> SimpleRnn {
        self.cell.return_sequences = yes;
        self
    }

    /// Input-to-hidden weights `[input_size, 1·hidden_size]`, then hidden-to-hidden weights
    /// `[hidden_size, 1·hidden_size]`, then the two biases `[1·hidden_size]`; gate blocks in
    /// PyTorch's order. PyTorch's `weight_ih_l0` is the transpose of `w_ih`.
    pub fn weights(&self) -> [&crate::nn::Parameter; 4] {
        [
            &self.cell.w_ih,
            &self.cell.w_hh,
            &self.cell.b_ih,
            &self.cell.b_hh,
        ]
    }
}

recurrent_layer!(SimpleRnn, SimpleRnn, "simple_rnn");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;
    use crate::nn::{Layer, Mode};

    #[test]
    fn gradients_match_central_differences() {
        for return_sequences in [false, true] {
            crate::seed(9);
            let mut layer = SimpleRnn::new(3, 4).return_sequences(return_sequences);
            let x = crate::init::normal(&[2, 5, 3], 0.0, 1.0);
            check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(1e-2);
        }
    }

    #[test]
    #[should_panic(expected = "SimpleRnn::forward: expected input [n, t, 3], got shape [2, 5]")]
    fn a_wrong_input_names_both_shapes() {
        SimpleRnn::new(3, 4).forward(&crate::tensor::zeros(&[2, 5]), Mode::Eval);
    }
}
