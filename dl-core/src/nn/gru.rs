//! Gated recurrent unit layer (PyTorch `nn.GRU`; Keras `GRU`, whose default
//! `reset_after=True` is the same cell).
//!
//! ```text
//! [a_r a_z a_n] = x_t W_ih + b_ih,    [b_r b_z b_n] = h_{t−1} W_hh + b_hh
//! r = σ(a_r + b_r),  z = σ(a_z + b_z),  n = tanh(a_n + r ⊙ b_n)
//! h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},    h_0 = 0
//! ```

use crate::nn::recurrent::{Recurrent, recurrent_layer};
use crate::ops::rnn_cell::CellKind;
use crate::tensor::Tensor;

/// A gated recurrent unit layer (PyTorch `nn.GRU`, Keras `GRU` with `reset_after=True`).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut gru = Gru::new(3, 16);
/// let x = dl_core::tensor::zeros(&[4, 7, 3]);
/// assert_eq!(gru.forward(&x, Mode::Train).shape(), &[4, 16]);
/// ```
#[derive(Clone, Debug)]
pub struct Gru {
    cell: Recurrent,
}

impl Gru {
    /// A layer reading `input_size` features per step into `hidden_size` units; it returns the
    /// last hidden state `[n, hidden_size]` (see [`Gru::return_sequences`]).
    pub fn new(input_size: usize, hidden_size: usize) -> Gru {
        Gru {
            cell: Recurrent::new(CellKind::Gru, "Gru", input_size, hidden_size),
        }
    }

    /// With `true`, the output is every hidden state `[n, t, hidden_size]` (to stack
    /// recurrent layers), as Keras' `return_sequences=True`.
    pub fn return_sequences(mut self, yes: bool) -> Gru {
        self.cell.return_sequences = yes;
        self
    }

    /// Input-to-hidden weights `[input_size, 3·hidden_size]`, then hidden-to-hidden weights
    /// `[hidden_size, 3·hidden_size]`, then the two biases `[3·hidden_size]`; gate blocks in
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

recurrent_layer!(Gru, Gru, "gru");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;
    use crate::nn::{Layer, Mode};

    #[test]
    fn gradients_match_central_differences() {
        for return_sequences in [false, true] {
            crate::seed(9);
            let mut layer = Gru::new(3, 4).return_sequences(return_sequences);
            let x = crate::init::normal(&[2, 5, 3], 0.0, 1.0);
            check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(1e-2);
        }
    }

    #[test]
    #[should_panic(expected = "Gru::forward: expected input [n, t, 3], got shape [2, 5]")]
    fn a_wrong_input_names_both_shapes() {
        Gru::new(3, 4).forward(&crate::tensor::zeros(&[2, 5]), Mode::Eval);
    }
}
