//! 2-D convolution (cross-correlation, as in PyTorch and Keras) over a batch of NCHW images,
//! as im2col + GEMM, parallel over the batch.
//!
//! For image `n`, with `cols_n = im2col(x_n)` (`[c·kh·kw, oh·ow]`) and `W: [oc, c·kh·kw]`:
//!
//! ```text
//! forward:   y_n   = W · cols_n + b            y_n: [oc, oh·ow]
//! backward:  ∂L/∂W += Σ_n ∂L/∂y_n · cols_nᵀ
//!            ∂L/∂b += Σ_n Σ_pixels ∂L/∂y_n
//!            ∂L/∂x_n = col2im(Wᵀ · ∂L/∂y_n)
//! ```
//!
//! The columns of the whole batch are kept from forward to backward in a caller-owned buffer
//! (reused from batch to batch); backward overwrites each image's columns with `Wᵀ·∂L/∂y_n` once
//! its weight gradient has been taken, so it needs no second buffer.

use crate::ops::gemm::gemm;
use crate::ops::im2col::{Geometry, col2im, im2col};
use rayon::prelude::*;

/// Forward over a batch: `x: [n, c, h, w]`, `weight: [oc, c·kh·kw]`, `bias: [oc]`,
/// `cols: [n, c·kh·kw, oh·ow]` (filled here, kept for backward), `y: [n, oc, oh, ow]`.
///
/// **Panics** if a slice length does not match `g`, `out_channels` and the batch size.
#[track_caller]
pub fn conv2d_forward(
    x: &[f32],
    g: &Geometry,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    cols: &mut [f32],
    y: &mut [f32],
) {
    let (k, p) = (g.patch_len(), g.out_len());
    let n = x.len() / g.image_len();
    assert_eq!(x.len(), n * g.image_len(), "conv2d_forward: input length vs geometry {g:?}");
    assert_eq!(weight.len(), out_channels * k, "conv2d_forward: weight [{out_channels}, {k}]");
    assert_eq!(bias.len(), out_channels, "conv2d_forward: bias [{out_channels}]");
    assert_eq!(cols.len(), n * k * p, "conv2d_forward: cols [{n}, {k}, {p}]");
    assert_eq!(y.len(), n * out_channels * p, "conv2d_forward: output [{n}, {out_channels}, {p}]");
    x.par_chunks(g.image_len())
        .zip(cols.par_chunks_mut(k * p))
        .zip(y.par_chunks_mut(out_channels * p))
        .for_each(|((x_n, cols_n), y_n)| {
            im2col(x_n, g, cols_n);
            for (row, b) in y_n.chunks_exact_mut(p).zip(bias) {
                row.fill(*b);
            }
            gemm(out_channels, p, k, weight, false, cols_n, false, y_n, true);
        });
}

/// Backward over a batch. Reads `grad_y: [n, oc, oh, ow]`, `weight: [oc, c·kh·kw]` and the
/// `cols` from forward (destroyed here); accumulates into `grad_weight: [oc, c·kh·kw]` and
/// `grad_bias: [oc]`; writes `grad_x: [n, c, h, w]`.
///
/// **Panics** if a slice length does not match `g`, `out_channels` and the batch size.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_backward(
    grad_y: &[f32],
    g: &Geometry,
    weight: &[f32],
    out_channels: usize,
    cols: &mut [f32],
    grad_weight: &mut [f32],
    grad_bias: &mut [f32],
    grad_x: &mut [f32],
) {
    let (k, p) = (g.patch_len(), g.out_len());
    let n = grad_x.len() / g.image_len();
    assert_eq!(grad_x.len(), n * g.image_len(), "conv2d_backward: input length vs geometry {g:?}");
    assert_eq!(grad_y.len(), n * out_channels * p, "conv2d_backward: grad_output [{n}, {out_channels}, {p}]");
    assert_eq!(cols.len(), n * k * p, "conv2d_backward: cols [{n}, {k}, {p}]");
    assert_eq!(grad_weight.len(), out_channels * k, "conv2d_backward: weight [{out_channels}, {k}]");
    assert_eq!(grad_bias.len(), out_channels, "conv2d_backward: bias [{out_channels}]");
    // One contiguous run of images per thread; each run sums its own weight gradient.
    let per_task = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = grad_y
        .par_chunks(per_task * out_channels * p)
        .zip(cols.par_chunks_mut(per_task * k * p))
        .zip(grad_x.par_chunks_mut(per_task * g.image_len()))
        .map(|((gy, cols), gx)| {
            let mut gw = vec![0.0; out_channels * k];
            let mut gb = vec![0.0; out_channels];
            for ((gy_n, cols_n), gx_n) in gy
                .chunks_exact(out_channels * p)
                .zip(cols.chunks_exact_mut(k * p))
                .zip(gx.chunks_exact_mut(g.image_len()))
            {
                for (b, row) in gb.iter_mut().zip(gy_n.chunks_exact(p)) {
                    *b += row.iter().sum::<f32>();
                }
                // ∂L/∂W += ∂L/∂y_n · cols_nᵀ
                gemm(out_channels, k, p, gy_n, false, cols_n, true, &mut gw, true);
                // cols_n ← Wᵀ · ∂L/∂y_n, then fold back onto the image.
                gemm(k, p, out_channels, weight, true, gy_n, false, cols_n, false);
                col2im(cols_n, g, gx_n);
            }
            (gw, gb)
        })
        .collect();
    for (gw, gb) in partials {
        grad_weight.iter_mut().zip(&gw).for_each(|(a, b)| *a += b);
        grad_bias.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
    }
}
