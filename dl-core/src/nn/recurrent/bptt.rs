//! Backpropagation through time (BPTT): a recurrent cell unrolled over a whole sequence,
//! forward and backward. The maths of each cell's step is in its layer's file
//! (`simple_rnn.rs`, `lstm.rs`, `gru.rs`, with [`SimpleRnn`](super::SimpleRnn),
//! [`Lstm`](super::Lstm) and [`Gru`](super::Gru)); this file is what they share.
//!
//! Weights follow `y = x W` (Keras' layout): `w_ih: [d, g·h]`, `w_hh: [h, g·h]`, biases
//! `b_ih, b_hh: [g·h]`, with `g` gate blocks in PyTorch's order.
//!
//! The simple RNN and the LSTM add the two products and the biases, so each step computes
//! them as one product: the step's input, the previous state and a constant 1 side by side,
//! the weights and the biases stacked (a bias is the weight of an input that is always 1):
//!
//! ```text
//! x_t W_ih + h_{t−1} W_hh + b = [x_t  h_{t−1}  1] · [W_ih; W_hh; b]    ([n, d+h+1] · [d+h+1, g·h])
//! ```
//!
//! with `b = b_ih + b_hh`.
//!
//! The GRU needs `h_{t−1} W_hh` on its own (its reset gate multiplies one part of it), so it
//! computes the input projections of every step at once, `X W_ih + b_ih`, then adds
//! `h_{t−1} W_hh` step by step.
//!
//! BPTT walks back from `t = T−1` to `0` carrying `∂L/∂h_t` (and `∂L/∂c_t`): at each step the
//! cell turns them into the gradient of the gate pre-activations `δ_t`, and this file passes
//! `∂L/∂h_{t−1} = δ_t W_hhᵀ` (plus the direct paths the cell adds itself). The weight
//! gradients are then large products over all steps at once:
//!
//! ```text
//! ∂L/∂W_ih += Xᵀ Δ,    ∂L/∂W_hh += H_prevᵀ Δ_h,    ∂L/∂X = Δ W_ihᵀ
//! ```
//!
//! For the simple RNN and the LSTM (`Δ_h = Δ`) the weights' and the biases' gradients are one
//! product, `∂L/∂[W_ih; W_hh; b] = [X  H_prev  1]ᵀ Δ` (its last row sums `Δ` over every step
//! and sequence).
//!
//! Internally everything is time-major (`[t, n, ·]`) so that each step reads and writes one
//! contiguous block and the products over all steps are single GEMMs. Buffers live in
//! [`RnnBuffers`] and are reused from batch to batch.

use super::{gru, lstm, simple_rnn};
use crate::ops::gemm::{Output, Stored, gemm};
use crate::ops::packed_gemm::{PackedMatrix, gemm_packed};

/// The kind of recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// `h_t = tanh(x_t W_ih + h_{t−1} W_hh + b)`: one gate block.
    Simple,
    /// Long short-term memory: four gate blocks (input, forget, cell, output).
    Lstm,
    /// Gated recurrent unit: three gate blocks (reset, update, new).
    Gru,
}

impl CellKind {
    /// Number of gate blocks `g` (the weights have `g·h` columns).
    pub fn gates(self) -> usize {
        match self {
            CellKind::Simple => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Whether each step is the one product `[x_t h_{t−1} 1] · [W_ih; W_hh; b]` (the simple
    /// RNN and the LSTM); the GRU needs `h_{t−1} W_hh` on its own.
    fn one_product_per_step(self) -> bool {
        self != CellKind::Gru
    }

    /// Values per row of the time-major input kept in [`RnnBuffers::x`]: `x_t` with `h_{t−1}`
    /// and a 1 beside it when each step is one product, `x_t` alone otherwise.
    fn input_width(self, d: usize, h: usize) -> usize {
        if self.one_product_per_step() {
            d + h + 1
        } else {
            d
        }
    }
}

/// Sizes of one recurrent pass: batch `n`, steps `t`, input features `d`, hidden units `h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnDims {
    /// Batch size.
    pub n: usize,
    /// Sequence length.
    pub t: usize,
    /// Input features per step.
    pub d: usize,
    /// Hidden units.
    pub h: usize,
}

/// What forward keeps for backward, time-major, reused across batches.
#[derive(Clone, Debug, Default)]
pub struct RnnBuffers {
    /// The input, time-major: `[t, n, d + h + 1]`, each step's `[x_t h_{t−1} 1]` (simple RNN,
    /// LSTM), or `[t, n, d]` (GRU).
    pub x: Vec<f32>,
    /// Gate activations per step `[t, n, g·h]` (simple RNN: unused after forward).
    pub gates: Vec<f32>,
    /// Hidden states `[t + 1, n, h]`, `h_0 = 0` first.
    pub h: Vec<f32>,
    /// LSTM cell states `[t + 1, n, h]`, `c_0 = 0` first.
    pub c: Vec<f32>,
    /// GRU: `b_n = h_{t−1} W_hn + b_hn` per step `[t, n, h]`.
    pub hn: Vec<f32>,
    /// LSTM: `tanh(c_t)` per step `[t, n, h]`.
    pub tanh_c: Vec<f32>,
    /// Gradients of the gate pre-activations `[t, n, g·h]` (input side).
    pub delta: Vec<f32>,
    /// GRU: gradients on the hidden side `[t, n, g·h]` (differs from `delta` in the n block).
    pub delta_h: Vec<f32>,
    /// `∂L/∂h` flowing back, one step `[n, h]`, and scratch of the same size.
    dh: Vec<f32>,
    dc: Vec<f32>,
    scratch: Vec<f32>,
    /// The weights of the per-step products, packed once per forward: `[W_ih; W_hh; b]`
    /// `[d + h + 1, g·h]` (simple RNN, LSTM) or `W_hh` `[h, g·h]` (GRU).
    w_step: PackedMatrix,
    /// `[W_ih; W_hh; b]` stacked before packing, then its gradient `[d + h + 1, g·h]`.
    stacked: Vec<f32>,
    /// `W_hhᵀ` `[g·h, h]`, packed once per backward for the per-step products `δ_h W_hhᵀ`.
    w_hh_t: PackedMatrix,
}

/// Sets the length of a reused buffer; its old contents are left for the caller to overwrite.
fn resize(v: &mut Vec<f32>, len: usize) {
    v.resize(len, 0.0);
}

/// Sets the length of a reused buffer and zeroes it.
fn zeroed(v: &mut Vec<f32>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

/// Elementwise work per step above which rows are split over threads.
pub(super) const PARALLEL_MIN_ELEMS: usize = 16 * 1024;

/// Runs `f(row index, row chunks...)` over the `n` rows of a step, in parallel when large
/// (the caller has `rayon::prelude::*` in scope).
macro_rules! rows {
    ($work:expr, [$($buf:expr => $w:expr),+], |$i:ident, $($name:ident),+| $body:block) => {{
        if $work >= $crate::nn::recurrent::bptt::PARALLEL_MIN_ELEMS && rayon::current_num_threads() > 1 {
            rows!(@par [$($buf => $w),+]).enumerate().for_each(|($i, rows!(@pat $($name),+))| $crate::ops::fast_math::with_best_simd(#[inline(always)] || $body));
        } else {
            rows!(@seq [$($buf => $w),+]).enumerate().for_each(|($i, rows!(@pat $($name),+))| $crate::ops::fast_math::with_best_simd(#[inline(always)] || $body));
        }
    }};
    (@par [$b0:expr => $w0:expr $(, $buf:expr => $w:expr)*]) => {
        $b0.par_chunks_mut($w0)$(.zip($buf.par_chunks_mut($w)))*
    };
    (@seq [$b0:expr => $w0:expr $(, $buf:expr => $w:expr)*]) => {
        $b0.chunks_mut($w0)$(.zip($buf.chunks_mut($w)))*
    };
    (@pat $n0:ident) => { $n0 };
    (@pat $n0:ident, $n1:ident) => { ($n0, $n1) };
    (@pat $n0:ident, $n1:ident, $n2:ident) => { (($n0, $n1), $n2) };
    (@pat $n0:ident, $n1:ident, $n2:ident, $n3:ident) => { ((($n0, $n1), $n2), $n3) };
}
pub(super) use rows;

/// Forward over a sequence. `x: [n, t, d]` (batch-first), `w_ih: [d, g·h]`, `w_hh: [h, g·h]`,
/// `b_ih, b_hh: [g·h]`. Afterwards `buf.h` holds `h_0 … h_T` (`[t + 1, n, h]`).
///
/// **Panics** if a slice length does not match `dims` and `kind`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn rnn_forward(
    kind: CellKind,
    dims: RnnDims,
    x: &[f32],
    w_ih: &[f32],
    w_hh: &[f32],
    b_ih: &[f32],
    b_hh: &[f32],
    buf: &mut RnnBuffers,
) {
    let RnnDims { n, t, d, h } = dims;
    let gh = kind.gates() * h;
    assert_eq!(x.len(), n * t * d, "rnn_forward: input [{n}, {t}, {d}]");
    assert_eq!(w_ih.len(), d * gh, "rnn_forward: w_ih [{d}, {gh}]");
    assert_eq!(w_hh.len(), h * gh, "rnn_forward: w_hh [{h}, {gh}]");
    assert!(
        b_ih.len() == gh && b_hh.len() == gh,
        "rnn_forward: biases [{gh}]"
    );
    let width = kind.input_width(d, h);
    // x: [n, t, d] → the x_t part of the time-major rows [t, n, width]; with one product per
    // step, the 1 at the end now and h_{t−1} step by step.
    resize(&mut buf.x, t * n * width);
    for (b, seq) in x.chunks_exact(t * d).enumerate() {
        for (s, step) in seq.chunks_exact(d).enumerate() {
            let row = &mut buf.x[(s * n + b) * width..][..width];
            row[..d].copy_from_slice(step);
            if kind.one_product_per_step() {
                row[d + h] = 1.0;
            }
        }
    }
    resize(&mut buf.gates, t * n * gh);
    if kind.one_product_per_step() {
        buf.stacked.clear();
        buf.stacked.extend_from_slice(w_ih);
        buf.stacked.extend_from_slice(w_hh);
        buf.stacked
            .extend(b_ih.iter().zip(b_hh).map(|(a, b)| a + b));
        buf.w_step.pack(&buf.stacked, width, gh, Stored::AsIs);
    } else {
        // Input projections of every step at once: gates = X W_ih + b_ih.
        for row in buf.gates.chunks_exact_mut(gh) {
            row.copy_from_slice(b_ih);
        }
        gemm(
            t * n,
            gh,
            d,
            &buf.x,
            Stored::AsIs,
            w_ih,
            Stored::AsIs,
            &mut buf.gates,
            Output::Accumulate,
        );
        buf.w_step.pack(w_hh, h, gh, Stored::AsIs);
    }
    let w_step = &buf.w_step;
    resize(&mut buf.h, (t + 1) * n * h);
    buf.h[..n * h].fill(0.0); // h_0
    if kind == CellKind::Lstm {
        resize(&mut buf.c, (t + 1) * n * h);
        buf.c[..n * h].fill(0.0); // c_0
        resize(&mut buf.tanh_c, t * n * h);
    }
    if kind == CellKind::Gru {
        resize(&mut buf.hn, t * n * h);
        resize(&mut buf.scratch, n * gh);
    }
    for s in 0..t {
        let (h_prev, h_next) = buf.h[s * n * h..(s + 2) * n * h].split_at_mut(n * h);
        let gates = &mut buf.gates[s * n * gh..(s + 1) * n * gh];
        // The step's rows [x_t h_{t−1} 1] (the GRU reads only `h_prev`).
        let xh = &mut buf.x[s * n * width..(s + 1) * n * width];
        if kind.one_product_per_step() {
            for (row, state) in xh.chunks_exact_mut(width).zip(h_prev.chunks_exact(h)) {
                row[d..d + h].copy_from_slice(state);
            }
        }
        match kind {
            CellKind::Simple => simple_rnn::forward_step(n, xh, w_step, gates, h_next),
            CellKind::Lstm => {
                let (c_prev, c_next) = buf.c[s * n * h..(s + 2) * n * h].split_at_mut(n * h);
                let tanh_c = &mut buf.tanh_c[s * n * h..(s + 1) * n * h];
                lstm::forward_step(n, h, xh, w_step, gates, c_prev, c_next, h_next, tanh_c);
            }
            CellKind::Gru => {
                let b_n = &mut buf.hn[s * n * h..(s + 1) * n * h];
                gru::forward_step(
                    n,
                    h,
                    h_prev,
                    w_step,
                    b_hh,
                    gates,
                    &mut buf.scratch,
                    b_n,
                    h_next,
                );
            }
        }
    }
}

/// Backward through time. `grad_h: [t, n, h]` (time-major) holds `∂L/∂h_t` coming from the
/// outputs (zeros for steps whose output was not used). Accumulates into `grad_w_ih: [d, g·h]`,
/// `grad_w_hh: [h, g·h]`, `grad_b_ih, grad_b_hh: [g·h]`; writes `grad_x: [n, t, d]`
/// (batch-first) unless it is `None` (nobody needs the input gradient). Reads the buffers
/// filled by [`rnn_forward`] with the same weights.
///
/// **Panics** if a slice length does not match `dims` and `kind`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn rnn_backward(
    kind: CellKind,
    dims: RnnDims,
    grad_h: &[f32],
    w_ih: &[f32],
    w_hh: &[f32],
    buf: &mut RnnBuffers,
    grad_w_ih: &mut [f32],
    grad_w_hh: &mut [f32],
    grad_b_ih: &mut [f32],
    grad_b_hh: &mut [f32],
    grad_x: Option<&mut [f32]>,
) {
    let RnnDims { n, t, d, h } = dims;
    let gh = kind.gates() * h;
    assert_eq!(
        grad_h.len(),
        t * n * h,
        "rnn_backward: grad_h [{t}, {n}, {h}]"
    );
    if let Some(grad_x) = &grad_x {
        assert_eq!(
            grad_x.len(),
            n * t * d,
            "rnn_backward: grad_x [{n}, {t}, {d}]"
        );
    }
    assert_eq!(
        buf.h.len(),
        (t + 1) * n * h,
        "rnn_backward: called before rnn_forward with {dims:?}"
    );
    assert!(
        grad_w_ih.len() == d * gh
            && grad_w_hh.len() == h * gh
            && grad_b_ih.len() == gh
            && grad_b_hh.len() == gh,
        "rnn_backward: gradient buffers vs {dims:?}"
    );
    resize(&mut buf.delta, t * n * gh);
    if kind == CellKind::Gru {
        resize(&mut buf.delta_h, t * n * gh);
    }
    zeroed(&mut buf.dh, n * h);
    buf.w_hh_t.pack(w_hh, gh, h, Stored::Transposed);
    zeroed(&mut buf.dc, n * h);
    for s in (0..t).rev() {
        let dh = &mut buf.dh;
        dh.iter_mut()
            .zip(&grad_h[s * n * h..(s + 1) * n * h])
            .for_each(|(a, b)| *a += b);
        let delta = &mut buf.delta[s * n * gh..(s + 1) * n * gh];
        let gates = &buf.gates[s * n * gh..(s + 1) * n * gh];
        let h_prev = &buf.h[s * n * h..(s + 1) * n * h];
        let h_cur = &buf.h[(s + 1) * n * h..(s + 2) * n * h];
        match kind {
            CellKind::Simple => simple_rnn::backward_step(dh, h_cur, delta),
            CellKind::Lstm => {
                let c_prev = &buf.c[s * n * h..(s + 1) * n * h];
                let tanh_c = &buf.tanh_c[s * n * h..(s + 1) * n * h];
                lstm::backward_step(n, h, gates, c_prev, tanh_c, dh, &mut buf.dc, delta);
            }
            CellKind::Gru => {
                let b_n = &buf.hn[s * n * h..(s + 1) * n * h];
                let delta_h = &mut buf.delta_h[s * n * gh..(s + 1) * n * gh];
                gru::backward_step(n, h, gates, h_prev, b_n, dh, delta, delta_h);
            }
        }
        // ∂L/∂h_{t−1} = δ_h W_hhᵀ (+ the GRU's direct path already in dh)
        let delta_h: &[f32] = if kind == CellKind::Gru {
            &buf.delta_h[s * n * gh..(s + 1) * n * gh]
        } else {
            &buf.delta[s * n * gh..(s + 1) * n * gh]
        };
        gemm_packed(
            n,
            delta_h,
            &buf.w_hh_t,
            &mut buf.dh,
            if kind == CellKind::Gru {
                Output::Accumulate
            } else {
                Output::Overwrite
            },
        );
    }
    let delta_h: &[f32] = if kind == CellKind::Gru {
        &buf.delta_h
    } else {
        &buf.delta
    };
    // Xᵀ Δ and Hᵀ Δ_h read X and H transposed: transposing them first (t·n rows) measured
    // slower than the kernel's packing here, unlike the convolution's small per-image products.
    if !kind.one_product_per_step() {
        gemm(
            d,
            gh,
            t * n,
            &buf.x,
            Stored::Transposed,
            &buf.delta,
            Stored::AsIs,
            grad_w_ih,
            Output::Accumulate,
        );
        gemm(
            h,
            gh,
            t * n,
            &buf.h[..t * n * h],
            Stored::Transposed,
            delta_h,
            Stored::AsIs,
            grad_w_hh,
            Output::Accumulate,
        );
        for row in buf.delta.chunks_exact(gh) {
            grad_b_ih.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        for row in delta_h.chunks_exact(gh) {
            grad_b_hh.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
    } else {
        // All at once, Δ packed once: [X H_prev 1]ᵀ Δ = ∂L/∂[W_ih; W_hh; b], where
        // ∂L/∂b_ih = ∂L/∂b_hh = ∂L/∂b.
        let width = kind.input_width(d, h);
        resize(&mut buf.stacked, width * gh);
        gemm(
            width,
            gh,
            t * n,
            &buf.x,
            Stored::Transposed,
            &buf.delta,
            Stored::AsIs,
            &mut buf.stacked,
            Output::Overwrite,
        );
        let (grad_w, grad_b) = buf.stacked.split_at(d * gh);
        let (grad_wh, grad_b) = grad_b.split_at(h * gh);
        let add = |to: &mut [f32], from: &[f32]| to.iter_mut().zip(from).for_each(|(a, b)| *a += b);
        add(grad_w_ih, grad_w);
        add(grad_w_hh, grad_wh);
        add(grad_b_ih, grad_b);
        add(grad_b_hh, grad_b);
    }
    // ∂L/∂X = Δ W_ihᵀ, time-major into scratch, then back to [n, t, d].
    let Some(grad_x) = grad_x else {
        return;
    };
    resize(&mut buf.scratch, t * n * d);
    gemm(
        t * n,
        d,
        gh,
        &buf.delta,
        Stored::AsIs,
        w_ih,
        Stored::Transposed,
        &mut buf.scratch,
        Output::Overwrite,
    );
    for (b, seq) in grad_x.chunks_exact_mut(t * d).enumerate() {
        for (s, step) in seq.chunks_exact_mut(d).enumerate() {
            step.copy_from_slice(&buf.scratch[(s * n + b) * d..(s * n + b + 1) * d]);
        }
    }
}
