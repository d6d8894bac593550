//! Gated recurrent unit layer (PyTorch `nn.GRU`; Keras `GRU`, whose default
//! `reset_after=True` is the same cell).
//!
//! ```text
//! [a_r a_z a_n] = x_t W_ih + b_ih,    [b_r b_z b_n] = h_{t−1} W_hh + b_hh
//! r = σ(a_r + b_r),  z = σ(a_z + b_z),  n = tanh(a_n + r ⊙ b_n)
//! h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},    h_0 = 0
//! ```

use super::bptt::{CellKind, rows};
use super::unroll::{Recurrent, recurrent_layer};
use crate::ops::fast_math::{sigmoid_in_place, tanh_in_place};
use crate::ops::gemm::Output;
use crate::ops::packed_gemm::{PackedMatrix, gemm_packed};
use crate::tensor::Tensor;
use rayon::prelude::*;

/// One forward step for `n` rows: `gates` (`[n, 3h]`) holds `x_t W_ih + b_ih`; `scratch`
/// receives `h_{t−1} W_hh + b_hh` (`[n, 3h]`), `b_n` keeps its `n` block for backward, and
/// `gates` becomes `[r z n]` after the activations; `h_next` is `h_t`.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_step(
    n: usize,
    h: usize,
    h_prev: &[f32],
    w_hh: &PackedMatrix,
    b_hh: &[f32],
    gates: &mut [f32],
    scratch: &mut [f32],
    b_n: &mut [f32],
    h_next: &mut [f32],
) {
    let gh = 3 * h;
    let hw = &mut scratch[..n * gh];
    for row in hw.chunks_exact_mut(gh) {
        row.copy_from_slice(b_hh);
    }
    gemm_packed(n, h_prev, w_hh, hw, Output::Accumulate);
    rows!(n * gh, [gates => gh, hw => gh, b_n => h, h_next => h], |i, g, hwr, bn, hnext| {
        let hp = &h_prev[i * h..(i + 1) * h];
        let (rz, nn) = g.split_at_mut(2 * h);
        for k in 0..2 * h {
            rz[k] += hwr[k];
        }
        sigmoid_in_place(rz);
        let (r, z) = rz.split_at(h);
        for k in 0..h {
            bn[k] = hwr[2 * h + k];
            nn[k] += r[k] * bn[k];
        }
        tanh_in_place(nn);
        for k in 0..h {
            hnext[k] = (1.0 - z[k]) * nn[k] + z[k] * hp[k];
        }
    });
}

/// One backward step. With `dh = ∂L/∂h_t`:
///
/// ```text
/// δ_n = dh ⊙ (1 − z) ⊙ (1 − n²)     δ_z = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)
/// δ_r = δ_n ⊙ b_n ⊙ r(1 − r)
/// input side  δ   = [δ_r δ_z δ_n]     hidden side  δ_h = [δ_r δ_z δ_n ⊙ r]
/// dh ← dh ⊙ z                        (the direct path h_{t−1} → h_t)
/// ```
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_step(
    n: usize,
    h: usize,
    gates: &[f32],
    h_prev: &[f32],
    b_n: &[f32],
    dh: &mut [f32],
    delta: &mut [f32],
    delta_h: &mut [f32],
) {
    let gh = 3 * h;
    rows!(n * gh, [delta => gh, delta_h => gh, dh => h], |i, dl, dlh, dhr| {
        let g = &gates[i * gh..(i + 1) * gh];
        let (r, z, nn) = (&g[..h], &g[h..2 * h], &g[2 * h..]);
        let hp = &h_prev[i * h..(i + 1) * h];
        let bn = &b_n[i * h..(i + 1) * h];
        for k in 0..h {
            let dn = dhr[k] * (1.0 - z[k]) * (1.0 - nn[k] * nn[k]);
            let dz = dhr[k] * (hp[k] - nn[k]) * z[k] * (1.0 - z[k]);
            let dr = dn * bn[k] * r[k] * (1.0 - r[k]);
            dl[k] = dr;
            dl[h + k] = dz;
            dl[2 * h + k] = dn;
            dlh[k] = dr;
            dlh[h + k] = dz;
            dlh[2 * h + k] = dn * r[k];
            dhr[k] *= z[k];
        }
    });
}

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
