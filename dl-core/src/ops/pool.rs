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

/// Max pooling forward: `x: [planes, h, w]` → `y: [planes, oh, ow]`, recording in `argmax`
/// (same length as `y`) the index inside its plane of each winner. `g.channels` is ignored.
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn max_pool_forward(x: &[f32], g: &Geometry, y: &mut [f32], argmax: &mut [u32]) {
    let (hw, p) = (g.height * g.width, g.out_len());
    assert_eq!(x.len() % hw, 0, "max_pool_forward: input length vs geometry {g:?}");
    assert_eq!(y.len(), x.len() / hw * p, "max_pool_forward: output length vs geometry {g:?}");
    assert_eq!(argmax.len(), y.len(), "max_pool_forward: argmax length");
    let ow = g.out_w();
    x.par_chunks(hw)
        .zip(y.par_chunks_mut(p))
        .zip(argmax.par_chunks_mut(p))
        .for_each(|((plane, y), arg)| {
            for (o, (yv, av)) in y.iter_mut().zip(arg.iter_mut()).enumerate() {
                let (oy, ox) = (o / ow, o % ow);
                let (mut best, mut at, mut found) = (f32::NEG_INFINITY, 0u32, false);
                for i in 0..g.kernel_h {
                    let Some(r) = (oy * g.stride + i).checked_sub(g.padding).filter(|&r| r < g.height)
                    else {
                        continue;
                    };
                    for j in 0..g.kernel_w {
                        let Some(c) = (ox * g.stride + j).checked_sub(g.padding).filter(|&c| c < g.width)
                        else {
                            continue;
                        };
                        let v = plane[r * g.width + c];
                        if !found || v > best {
                            found = true;
                            best = v;
                            at = (r * g.width + c) as u32;
                        }
                    }
                }
                *yv = best;
                *av = at;
            }
        });
}

/// Max pooling backward: routes `grad_y: [planes, oh, ow]` to the recorded winners in
/// `grad_x: [planes, h, w]` (overwritten).
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn max_pool_backward(grad_y: &[f32], argmax: &[u32], g: &Geometry, grad_x: &mut [f32]) {
    let (hw, p) = (g.height * g.width, g.out_len());
    assert_eq!(grad_x.len() % hw, 0, "max_pool_backward: input length vs geometry {g:?}");
    assert_eq!(grad_y.len(), grad_x.len() / hw * p, "max_pool_backward: grad_output length");
    assert_eq!(argmax.len(), grad_y.len(), "max_pool_backward: argmax length");
    grad_x
        .par_chunks_mut(hw)
        .zip(grad_y.par_chunks(p))
        .zip(argmax.par_chunks(p))
        .for_each(|((gx, gy), arg)| {
            gx.fill(0.0);
            for (v, &a) in gy.iter().zip(arg) {
                gx[a as usize] += v;
            }
        });
}

/// Average pooling forward: `x: [planes, h, w]` → `y: [planes, oh, ow]`.
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn avg_pool_forward(x: &[f32], g: &Geometry, y: &mut [f32]) {
    let (hw, p) = (g.height * g.width, g.out_len());
    assert_eq!(x.len() % hw, 0, "avg_pool_forward: input length vs geometry {g:?}");
    assert_eq!(y.len(), x.len() / hw * p, "avg_pool_forward: output length vs geometry {g:?}");
    let ow = g.out_w();
    let scale = 1.0 / (g.kernel_h * g.kernel_w) as f32;
    x.par_chunks(hw).zip(y.par_chunks_mut(p)).for_each(|(plane, y)| {
        for (o, yv) in y.iter_mut().enumerate() {
            let (oy, ox) = (o / ow, o % ow);
            let mut sum = 0.0;
            for i in 0..g.kernel_h {
                let Some(r) = (oy * g.stride + i).checked_sub(g.padding).filter(|&r| r < g.height) else {
                    continue;
                };
                for j in 0..g.kernel_w {
                    if let Some(c) = (ox * g.stride + j).checked_sub(g.padding).filter(|&c| c < g.width) {
                        sum += plane[r * g.width + c];
                    }
                }
            }
            *yv = sum * scale;
        }
    });
}

/// Average pooling backward: spreads `grad_y: [planes, oh, ow]` evenly over each window of
/// `grad_x: [planes, h, w]` (overwritten).
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn avg_pool_backward(grad_y: &[f32], g: &Geometry, grad_x: &mut [f32]) {
    let (hw, p) = (g.height * g.width, g.out_len());
    assert_eq!(grad_x.len() % hw, 0, "avg_pool_backward: input length vs geometry {g:?}");
    assert_eq!(grad_y.len(), grad_x.len() / hw * p, "avg_pool_backward: grad_output length");
    let ow = g.out_w();
    let scale = 1.0 / (g.kernel_h * g.kernel_w) as f32;
    grad_x.par_chunks_mut(hw).zip(grad_y.par_chunks(p)).for_each(|(gx, gy)| {
        gx.fill(0.0);
        for (o, v) in gy.iter().enumerate() {
            let (oy, ox) = (o / ow, o % ow);
            let v = v * scale;
            for i in 0..g.kernel_h {
                let Some(r) = (oy * g.stride + i).checked_sub(g.padding).filter(|&r| r < g.height) else {
                    continue;
                };
                for j in 0..g.kernel_w {
                    if let Some(c) = (ox * g.stride + j).checked_sub(g.padding).filter(|&c| c < g.width) {
                        gx[r * g.width + c] += v;
                    }
                }
            }
        }
    });
}
