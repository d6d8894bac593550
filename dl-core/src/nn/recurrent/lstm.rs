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

use super::bptt::{CellKind, rows};
use super::unroll::{Recurrent, recurrent_layer};
use crate::ops::fast_math::{sigmoid, tanh};
use crate::ops::gemm::Output;
use crate::ops::packed_gemm::{PackedMatrix, gemm_packed};
use crate::tensor::Tensor;
use rayon::prelude::*;

/// One forward step for `n` rows: writes the pre-activations `[x_t h_{t−1} 1] · [W_ih; W_hh; b]`
/// into `gates` (`[n, 4h]`; `xh`: `[n, d + h + 1]`, `w`: the stacked weights packed), applies `σ` to `i, f, o` and `tanh` to `g` in place, and writes
/// `c_t = f ⊙ c_{t−1} + i ⊙ g`, `tanh(c_t)` and `h_t = o ⊙ tanh(c_t)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_step(
    n: usize,
    h: usize,
    xh: &[f32],
    w: &PackedMatrix,
    gates: &mut [f32],
    c_prev: &[f32],
    c_next: &mut [f32],
    h_next: &mut [f32],
    tanh_c: &mut [f32],
) {
    let gh = 4 * h;
    gemm_packed(n, xh, w, gates, Output::Overwrite);
    // One pass over the four gate blocks, element by element (the values stay in registers).
    rows!(n * gh, [gates => gh, c_next => h, h_next => h, tanh_c => h], |i, g, c, hn, tc| {
        let cp = &c_prev[i * h..(i + 1) * h];
        let (ig, rest) = g.split_at_mut(h);
        let (fg, rest) = rest.split_at_mut(h);
        let (gg, og) = rest.split_at_mut(h);
        let (og, c, hn, tc) = (&mut og[..h], &mut c[..h], &mut hn[..h], &mut tc[..h]);
        for k in 0..h {
            let (iv, fv, gv, ov) = (sigmoid(ig[k]), sigmoid(fg[k]), tanh(gg[k]), sigmoid(og[k]));
            (ig[k], fg[k], gg[k], og[k]) = (iv, fv, gv, ov);
            let cv = fv * cp[k] + iv * gv;
            let t = tanh(cv);
            c[k] = cv;
            tc[k] = t;
            hn[k] = ov * t;
        }
    });
}

/// One backward step. With `dh = ∂L/∂h_t` and `dc = ∂L/∂c_t` from the step after:
///
/// ```text
/// ∂L/∂c_t  = dc + dh ⊙ o ⊙ (1 − tanh²(c_t))
/// δ_i = ∂L/∂c_t ⊙ g ⊙ i(1 − i)        δ_f = ∂L/∂c_t ⊙ c_{t−1} ⊙ f(1 − f)
/// δ_g = ∂L/∂c_t ⊙ i ⊙ (1 − g²)        δ_o = dh ⊙ tanh(c_t) ⊙ o(1 − o)
/// dc ← ∂L/∂c_t ⊙ f                    (the cell state's path to step t − 1)
/// ```
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_step(
    n: usize,
    h: usize,
    gates: &[f32],
    c_prev: &[f32],
    tanh_c: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    delta: &mut [f32],
) {
    let gh = 4 * h;
    rows!(n * gh, [delta => gh, dc => h], |i, dl, dcr| {
        // Every slice exactly h long, so that the loop runs without bounds checks and
        // vectorises.
        let g = &gates[i * gh..(i + 1) * gh];
        let (ig, fg, gg, og) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h], &g[3 * h..4 * h]);
        let (dl_i, rest) = dl.split_at_mut(h);
        let (dl_f, rest) = rest.split_at_mut(h);
        let (dl_g, dl_o) = rest.split_at_mut(h);
        let dl_o = &mut dl_o[..h];
        let dcr = &mut dcr[..h];
        let cp = &c_prev[i * h..(i + 1) * h];
        let tcr = &tanh_c[i * h..(i + 1) * h];
        let dhr = &dh[i * h..(i + 1) * h];
        for k in 0..h {
            let tc = tcr[k];
            let d_o = dhr[k] * tc;
            let dcv = dcr[k] + dhr[k] * og[k] * (1.0 - tc * tc);
            dl_i[k] = dcv * gg[k] * ig[k] * (1.0 - ig[k]);
            dl_f[k] = dcv * cp[k] * fg[k] * (1.0 - fg[k]);
            dl_g[k] = dcv * ig[k] * (1.0 - gg[k] * gg[k]);
            dl_o[k] = d_o * og[k] * (1.0 - og[k]);
            dcr[k] = dcv * fg[k];
        }
    });
}

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
