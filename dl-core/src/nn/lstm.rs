//! Long short-term memory layer (Keras `LSTM`, PyTorch `nn.LSTM`).
//!
//! ```text
//! [i f g o] = x_t W_ih + b_ih + h_{t−1} W_hh + b_hh          (four blocks of h columns)
//! i = σ(i), f = σ(f), g = tanh(g), o = σ(o)
//! c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t),   h_0 = c_0 = 0
//! ```
//!
//! The cell state `c` carries gradients back through time multiplied only by `f`, which is
//! why LSTMs learn longer dependencies than simple RNNs. The forget-gate bias starts at 1
//! (Keras).

use crate::nn::recurrent::{Recurrent, recurrent_layer};
use crate::ops::rnn_cell::CellKind;
use crate::tensor::Tensor;

/// A long short-term memory layer (Keras `LSTM`, PyTorch `nn.LSTM`).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut lstm = Lstm::new(3, 16).return_sequences(true);
/// let x = dl_core::tensor::zeros(&[4, 7, 3]);
/// assert_eq!(lstm.forward(&x, Mode::Train).shape(), &[4, 7, 16]);
/// ```
#[derive(Clone, Debug)]
pub struct Lstm {
    cell: Recurrent,
}

impl Lstm {
    /// A layer reading `input_size` features per step into `hidden_size` units; it returns the
    /// last hidden state `[n, hidden_size]` (see [`Lstm::return_sequences`]).
    pub fn new(input_size: usize, hidden_size: usize) -> Lstm {
        Lstm {
            cell: Recurrent::new(CellKind::Lstm, "Lstm", input_size, hidden_size),
        }
    }

    /// With `true`, the output is every hidden state `[n, t, hidden_size]` (to stack
    /// recurrent layers), as Keras' `return_sequences=True`.
    pub fn return_sequences(mut self, yes: bool) -> Lstm {
        self.cell.return_sequences = yes;
        self
    }

    /// Input-to-hidden weights `[input_size, 4·hidden_size]`, then hidden-to-hidden weights
    /// `[hidden_size, 4·hidden_size]`, then the two biases `[4·hidden_size]`; gate blocks in
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

recurrent_layer!(Lstm, Lstm, "lstm");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;
    use crate::nn::{Layer, Mode};

    #[test]
    fn gradients_match_central_differences() {
        for return_sequences in [false, true] {
            crate::seed(9);
            let mut layer = Lstm::new(3, 4).return_sequences(return_sequences);
            let x = crate::init::normal(&[2, 5, 3], 0.0, 1.0);
            check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(1e-2);
        }
    }

    #[test]
    #[should_panic(expected = "Lstm::forward: expected input [n, t, 3], got shape [2, 5]")]
    fn a_wrong_input_names_both_shapes() {
        Lstm::new(3, 4).forward(&crate::tensor::zeros(&[2, 5]), Mode::Eval);
    }
}
