//! 2-D pooling over NCHW images: each output is the max (or mean) of a window.
//!
//! ```text
//! max:  y[n,c,oy,ox] = max_{i<kh, j<kw} x[n, c, oy·s − p + i, ox·s − p + j]
//!       ∂L/∂x[argmax] += ∂L/∂y          (the gradient flows to the winner only)
//! avg:  y[n,c,oy,ox] = (1 / (kh·kw)) Σ_{i,j} x[n, c, oy·s − p + i, ox·s − p + j]
//!       ∂L/∂x[window] += ∂L/∂y / (kh·kw)
//! ```
//!
//! Padding counts as −∞ for max and as 0 (included in the divisor) for average, as in
//! PyTorch's defaults. Planes (one channel of one image) are processed in parallel.

use crate::ops::im2col::Geometry;
use rayon::prelude::*;

/// The positions (indices into its `h × w` plane) that the window of output `(oy, ox)`
/// covers inside the image; positions in the padding are skipped.
#[inline]
fn window_taps(g: &Geometry, oy: usize, ox: usize) -> impl Iterator<Item = usize> + '_ {
    let inside = |o: usize, i: usize, size: usize| {
        (o * g.stride + i)
            .checked_sub(g.padding)
            .filter(|&r| r < size)
    };
    (0..g.kernel_h)
        .filter_map(move |i| inside(oy, i, g.height))
        .flat_map(move |r| {
            (0..g.kernel_w).filter_map(move |j| inside(ox, j, g.width).map(|c| r * g.width + c))
        })
}

/// Checks that `input_len` holds whole `[h, w]` planes of `g` and `output_len` one
/// `[oh, ow]` plane for each; returns (plane length, output plane length).
#[track_caller]
fn plane_lengths(op: &str, input_len: usize, output_len: usize, g: &Geometry) -> (usize, usize) {
    let (hw, p) = (g.height * g.width, g.out_len());
    assert_eq!(input_len % hw, 0, "{op}: input length vs geometry {g:?}");
    assert_eq!(
        output_len,
        input_len / hw * p,
        "{op}: output length vs geometry {g:?}"
    );
    (hw, p)
}

/// Max pooling forward: `x: [planes, h, w]` → `y: [planes, oh, ow]`, recording in `argmax`
/// (same length as `y`) the index inside its plane of each winner. `g.channels` is ignored.
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn max_pool_forward(x: &[f32], g: &Geometry, y: &mut [f32], argmax: &mut [u32]) {
    let (hw, p) = plane_lengths("max_pool_forward", x.len(), y.len(), g);
    assert_eq!(argmax.len(), y.len(), "max_pool_forward: argmax length");
    let ow = g.out_w();
    x.par_chunks(hw)
        .zip(y.par_chunks_mut(p))
        .zip(argmax.par_chunks_mut(p))
        .for_each(|((plane, y), arg)| {
            if g.padding == 0 {
                max_plane_unpadded(plane, g, y, arg);
                return;
            }
            for (o, (yv, av)) in y.iter_mut().zip(arg.iter_mut()).enumerate() {
                let (oy, ox) = (o / ow, o % ow);
                let (mut best, mut at, mut found) = (f32::NEG_INFINITY, 0u32, false);
                for i in window_taps(g, oy, ox) {
                    let v = plane[i];
                    if !found || v > best {
                        found = true;
                        best = v;
                        at = i as u32;
                    }
                }
                *yv = best;
                *av = at;
            }
        });
}

/// Max pooling of one plane without padding: every window is inside the image, so the loops
/// need no bounds tests (the common case: 2×2 windows, stride 2).
pub(crate) fn max_plane_unpadded(plane: &[f32], g: &Geometry, y: &mut [f32], arg: &mut [u32]) {
    let (ow, w, s) = (g.out_w(), g.width, g.stride);
    if g.kernel_h == 2 && g.kernel_w == 2 && s == 2 {
        // 2×2 windows, stride 2: two input rows give one output row.
        for (oy, (y_row, a_row)) in y
            .chunks_exact_mut(ow)
            .zip(arg.chunks_exact_mut(ow))
            .enumerate()
        {
            let top = &plane[2 * oy * w..2 * oy * w + 2 * ow];
            let bottom = &plane[(2 * oy + 1) * w..(2 * oy + 1) * w + 2 * ow];
            for (ox, ((yv, av), (t, b))) in y_row
                .iter_mut()
                .zip(a_row.iter_mut())
                .zip(top.chunks_exact(2).zip(bottom.chunks_exact(2)))
                .enumerate()
            {
                let (m_top, i_top) = if t[1] > t[0] { (t[1], 1) } else { (t[0], 0) };
                let (m_bot, i_bot) = if b[1] > b[0] {
                    (b[1], w + 1)
                } else {
                    (b[0], w)
                };
                let (m, i) = if m_bot > m_top {
                    (m_bot, i_bot)
                } else {
                    (m_top, i_top)
                };
                *yv = m;
                *av = (2 * oy * w + 2 * ox + i) as u32;
            }
        }
        return;
    }
    for (oy, (y_row, a_row)) in y
        .chunks_exact_mut(ow)
        .zip(arg.chunks_exact_mut(ow))
        .enumerate()
    {
        for (ox, (yv, av)) in y_row.iter_mut().zip(a_row.iter_mut()).enumerate() {
            let origin = oy * s * w + ox * s;
            let (mut best, mut at) = (plane[origin], origin);
            for i in 0..g.kernel_h {
                let row = &plane[origin + i * w..origin + i * w + g.kernel_w];
                for (j, &v) in row.iter().enumerate() {
                    if v > best {
                        best = v;
                        at = origin + i * w + j;
                    }
                }
            }
            *yv = best;
            *av = at as u32;
        }
    }
}

/// Max pooling of one plane without padding and without recording the winners (inference):
/// `plane: [h, w]` → `y: [oh, ow]`, every window inside the plane. The 2×2, stride-2 case
/// reads two input rows per output row.
///
/// **Panics** if `g` has padding or a slice length does not match it.
#[inline(always)]
pub fn max_pool_plane(plane: &[f32], g: &Geometry, y: &mut [f32]) {
    assert!(g.padding == 0, "max_pool_plane: padding {}", g.padding);
    assert_eq!(plane.len(), g.height * g.width, "max_pool_plane: plane");
    assert_eq!(y.len(), g.out_len(), "max_pool_plane: output");
    let (ow, w, s) = (g.out_w(), g.width, g.stride);
    if g.kernel_h == 2 && g.kernel_w == 2 && s == 2 {
        for (oy, y_row) in y.chunks_exact_mut(ow).enumerate() {
            let top = &plane[2 * oy * w..][..2 * ow];
            let bottom = &plane[(2 * oy + 1) * w..][..2 * ow];
            for (yv, (t, b)) in y_row
                .iter_mut()
                .zip(top.chunks_exact(2).zip(bottom.chunks_exact(2)))
            {
                *yv = t[0].max(t[1]).max(b[0].max(b[1]));
            }
        }
        return;
    }
    for (oy, y_row) in y.chunks_exact_mut(ow).enumerate() {
        for (ox, yv) in y_row.iter_mut().enumerate() {
            let origin = oy * s * w + ox * s;
            let mut best = plane[origin];
            for i in 0..g.kernel_h {
                for &v in &plane[origin + i * w..][..g.kernel_w] {
                    best = best.max(v);
                }
            }
            *yv = best;
        }
    }
}

/// Max pooling backward: routes `grad_y: [planes, oh, ow]` to the recorded winners, adding
/// into `grad_x: [planes, h, w]` (pass zeros).
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn max_pool_backward(grad_y: &[f32], argmax: &[u32], g: &Geometry, grad_x: &mut [f32]) {
    let (hw, p) = plane_lengths("max_pool_backward", grad_x.len(), grad_y.len(), g);
    assert_eq!(
        argmax.len(),
        grad_y.len(),
        "max_pool_backward: argmax length"
    );
    grad_x
        .par_chunks_mut(hw)
        .zip(grad_y.par_chunks(p))
        .zip(argmax.par_chunks(p))
        .for_each(|((gx, gy), arg)| route_to_winners(gy, arg, gx));
}

/// Max pooling backward on one plane: `gx[argmax[o]] += gy[o]` for every output `o`.
///
/// **Panics** if a winner lies outside `gx`.
#[inline]
pub fn route_to_winners(gy: &[f32], argmax: &[u32], gx: &mut [f32]) {
    for (v, &a) in gy.iter().zip(argmax) {
        gx[a as usize] += v;
    }
}

/// Average pooling forward: `x: [planes, h, w]` → `y: [planes, oh, ow]`.
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn avg_pool_forward(x: &[f32], g: &Geometry, y: &mut [f32]) {
    let (hw, p) = plane_lengths("avg_pool_forward", x.len(), y.len(), g);
    let ow = g.out_w();
    let scale = 1.0 / (g.kernel_h * g.kernel_w) as f32;
    x.par_chunks(hw)
        .zip(y.par_chunks_mut(p))
        .for_each(|(plane, y)| {
            for (o, yv) in y.iter_mut().enumerate() {
                let (oy, ox) = (o / ow, o % ow);
                let sum: f32 = window_taps(g, oy, ox).map(|i| plane[i]).sum();
                *yv = sum * scale;
            }
        });
}

/// Average pooling backward: spreads `grad_y: [planes, oh, ow]` evenly over each window,
/// adding into `grad_x: [planes, h, w]` (pass zeros).
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn avg_pool_backward(grad_y: &[f32], g: &Geometry, grad_x: &mut [f32]) {
    let (hw, p) = plane_lengths("avg_pool_backward", grad_x.len(), grad_y.len(), g);
    let ow = g.out_w();
    let scale = 1.0 / (g.kernel_h * g.kernel_w) as f32;
    grad_x
        .par_chunks_mut(hw)
        .zip(grad_y.par_chunks(p))
        .for_each(|(gx, gy)| {
            for (o, v) in gy.iter().enumerate() {
                let (oy, ox) = (o / ow, o % ow);
                let v = v * scale;
                for i in window_taps(g, oy, ox) {
                    gx[i] += v;
                }
            }
        });
}
