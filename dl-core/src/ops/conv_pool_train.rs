//! Convolution, ReLU and max pooling fused for training: each image's convolution output
//! stays in a buffer of its thread, and only the pooled values and the winners of the pooling
//! windows reach memory.
//!
//! Unfused, training writes the whole batch's convolution output `y = relu(z + b)` (the book's
//! first layer: 5.5 MB for 64 images), keeps a copy of it for the ReLU's backward, reads it
//! back to pool it, and in backward writes a gradient of that size, masks it and reads it
//! again. Since `+ b` and `max(0, ·)` commute with the maximum over a window (see
//! [`crate::ops::conv_pool`]), per image `n` and pooled position `q` of channel `c`:
//!
//! ```text
//! forward:   z_n = W · im2col(x_n)                              (a scratch buffer)
//!            w[c, q] = argmax_{r ∈ window(q)} z_n[c, r]         (the first of equals)
//!            y[c, q] = relu(z_n[c, w[c, q]] + b[c])
//! backward:  ∂L/∂z_n[c, r] = Σ_{q : w[c, q] = r, y[c, q] > 0} ∂L/∂y[c, q]     (0 elsewhere)
//! ```
//!
//! and for small patches (at most 9 values: a first layer on grey images) the rest of backward
//! is the convolution's, from `∂L/∂z_n` (see [`crate::ops::conv`]). The winners of windows
//! whose output the ReLU zeroed are stored as [`INACTIVE`], so the backward pass needs no copy
//! of `y`.
//!
//! For larger patches `∂L/∂z_n` is not formed at all: it is 0 but at the winners, so the
//! backward products become sums over the winners only, on channels-last images (the module
//! `conv_pool_winners`; for the book's second layer, 4.8 times fewer multiply-adds).

use crate::ops::conv::{SMALL_PATCH, conv2d_backward_from, small_patch_forward};
use crate::ops::conv_pool_winners;
use crate::ops::fast_math::with_best_simd;
use crate::ops::im2col::{Geometry, im2col};
use crate::ops::pool::max_plane_unpadded;
use rayon::prelude::*;

/// The winner recorded for a window whose output the ReLU made 0: no gradient flows back.
pub const INACTIVE: u32 = u32::MAX;

/// The length of `kept`, what the forward pass keeps for backward over `n` images of `g`: for
/// patches of at most 9 values (a first layer on grey images), the im2col columns
/// `[n, c·kh·kw, oh·ow]`; for larger ones, the channels-last images `[n, h, w, c]`.
pub fn kept_len(g: &Geometry, n: usize) -> usize {
    if over_winners(g) {
        conv_pool_winners::kept_len(g, n)
    } else {
        n * g.patch_len() * g.out_len()
    }
}

/// Whether the pair runs channels-last with its backward products over the winners
/// (`conv_pool_winners`): for patches longer than [`SMALL_PATCH`].
fn over_winners(g: &Geometry) -> bool {
    g.patch_len() > SMALL_PATCH
}

/// `y = max_pool(relu(conv(x)))` over a batch of `n` images for training: `x: [n, c, h, w]`,
/// `weight: [oc, c·kh·kw]`, `bias: [oc]`, the convolution's geometry `g` and the pooling window
/// `pool` (its `height`/`width` are the convolution's `oh`/`ow`, its padding 0). Writes
/// `y: [n, oc, poh, pow]`, and keeps for [`conv2d_relu_max_pool_backward`] `kept` (see
/// [`kept_len`]) and `winners: [n, oc, poh, pow]` (each window's winner, its index in the
/// `oh × ow` plane, or [`INACTIVE`]).
///
/// **Panics** if a slice length does not match the geometries or if `pool` has padding.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_relu_max_pool_forward(
    x: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    pool: &Geometry,
    kept: &mut [f32],
    winners: &mut [u32],
    y: &mut [f32],
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    let pooled = pool.out_len();
    assert_eq!(
        x.len(),
        n * g.image_len(),
        "conv2d_relu_max_pool_forward: input length vs {n} images of {g:?}"
    );
    assert_eq!(weight.len(), o * k, "conv2d_relu_max_pool_forward: weight");
    assert_eq!(bias.len(), o, "conv2d_relu_max_pool_forward: bias");
    assert!(
        pool.height == g.out_h() && pool.width == g.out_w() && pool.padding == 0 && pool.fits(),
        "conv2d_relu_max_pool_forward: pooling {pool:?} over the output of {g:?}"
    );
    assert_eq!(
        kept.len(),
        kept_len(g, n),
        "conv2d_relu_max_pool_forward: kept"
    );
    assert!(
        y.len() == n * o * pooled && winners.len() == y.len(),
        "conv2d_relu_max_pool_forward: output and winners [{n}, {o}, {pooled}]"
    );
    if over_winners(g) {
        conv_pool_winners::forward(x, g, weight, bias, o, pool, kept, winners, y);
        return;
    }
    let cols = kept;
    let no_bias = vec![0.0; o];
    x.par_chunks(g.image_len())
        .zip(cols.par_chunks_mut(k * p))
        .zip(y.par_chunks_mut(o * pooled))
        .zip(winners.par_chunks_mut(o * pooled))
        .for_each_init(
            || vec![0.0; o * p],
            |z, (((x_n, cols_n), y_n), winners_n)| {
                im2col(x_n, g, cols_n);
                small_patch_forward(weight, &no_bias, cols_n, k, p, false, z);
                with_best_simd(
                    #[inline(always)]
                    || {
                        for (((z_plane, y_plane), w_plane), &b) in z
                            .chunks_exact(p)
                            .zip(y_n.chunks_exact_mut(pooled))
                            .zip(winners_n.chunks_exact_mut(pooled))
                            .zip(bias)
                        {
                            max_plane_unpadded(z_plane, pool, y_plane, w_plane);
                            for (v, w) in y_plane.iter_mut().zip(w_plane.iter_mut()) {
                                let biased = *v + b;
                                (*v, *w) = if biased > 0.0 {
                                    (biased, *w)
                                } else {
                                    (0.0, INACTIVE)
                                };
                            }
                        }
                    },
                );
            },
        );
}

/// Backward of [`conv2d_relu_max_pool_forward`]: reads `grad_y: [n, oc, poh, pow]`, `weight`
/// and the `kept` (overwritten) and `winners` it kept; accumulates into `grad_weight`,
/// `grad_bias` and, unless it is `None`, `grad_x: [n, c, h, w]` (pass zeros).
///
/// **Panics** if a slice length does not match the geometries.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_relu_max_pool_backward(
    grad_y: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    out_channels: usize,
    pool: &Geometry,
    kept: &mut [f32],
    winners: &[u32],
    grad_weight: &mut [f32],
    grad_bias: &mut [f32],
    grad_x: Option<&mut [f32]>,
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    let pooled = pool.out_len();
    assert!(
        grad_y.len() == n * o * pooled && winners.len() == grad_y.len(),
        "conv2d_relu_max_pool_backward: grad_output and winners [{n}, {o}, {pooled}]"
    );
    assert_eq!(
        kept.len(),
        kept_len(g, n),
        "conv2d_relu_max_pool_backward: kept"
    );
    assert_eq!(
        grad_weight.len(),
        o * k,
        "conv2d_relu_max_pool_backward: weight"
    );
    assert_eq!(grad_bias.len(), o, "conv2d_relu_max_pool_backward: bias");
    if let Some(grad_x) = &grad_x {
        assert_eq!(
            grad_x.len(),
            n * g.image_len(),
            "conv2d_relu_max_pool_backward: input length vs {n} images of {g:?}"
        );
    }
    if over_winners(g) {
        conv_pool_winners::backward(
            grad_y,
            g,
            n,
            weight,
            o,
            pool,
            kept,
            winners,
            grad_weight,
            grad_bias,
            grad_x,
        );
        return;
    }
    let (cols, image) = (kept, o * pooled);
    conv2d_backward_from(
        g,
        n,
        weight,
        o,
        cols,
        grad_weight,
        grad_bias,
        grad_x,
        |i, grad_z| {
            grad_z.fill(0.0);
            let (gy_n, winners_n) = (
                &grad_y[i * image..(i + 1) * image],
                &winners[i * image..(i + 1) * image],
            );
            for ((z_plane, gy_plane), w_plane) in grad_z
                .chunks_exact_mut(p)
                .zip(gy_n.chunks_exact(pooled))
                .zip(winners_n.chunks_exact(pooled))
            {
                for (&gv, &w) in gy_plane.iter().zip(w_plane) {
                    if w != INACTIVE {
                        z_plane[w as usize] += gv;
                    }
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::{conv2d_backward, conv2d_forward};
    use crate::ops::pool::{max_pool_backward, max_pool_forward};

    /// Forward and backward through the unfused kernels: convolution with its fused ReLU,
    /// then max pooling. Returns (y, ∂L/∂W, ∂L/∂b, ∂L/∂x).
    #[allow(clippy::too_many_arguments)]
    fn unfused(
        x: &[f32],
        g: &Geometry,
        n: usize,
        w: &[f32],
        b: &[f32],
        o: usize,
        pool: &Geometry,
        grad_y: &[f32],
    ) -> [Vec<f32>; 4] {
        let (k, p) = (g.patch_len(), g.out_len());
        let (mut cols, mut out) = (vec![0.0; n * k * p], vec![0.0; n * o * p]);
        let mut z = vec![0.0; n * o * p];
        conv2d_forward(x, g, n, w, b, o, true, &mut cols, &mut out, &mut z);
        let mut y = vec![0.0; n * o * pool.out_len()];
        let mut arg = vec![0; y.len()];
        max_pool_forward(&z, pool, &mut y, &mut arg);
        let mut grad_z = vec![0.0; z.len()];
        max_pool_backward(grad_y, &arg, pool, &mut grad_z);
        let (mut gw, mut gb, mut gx) = (vec![0.0; o * k], vec![0.0; o], vec![0.0; x.len()]);
        conv2d_backward(
            &grad_z,
            g,
            n,
            w,
            o,
            true,
            &mut cols,
            &out,
            &mut gw,
            &mut gb,
            Some(&mut gx),
        );
        [y, gw, gb, gx]
    }

    #[test]
    fn equals_the_convolution_then_the_pooling_forward_and_backward() {
        let mut r = crate::rng::Rng::new(8);
        // (channels, out channels, h, w, kernel, stride, padding, pool window, pool stride):
        // the book's two layers (small patch, register kernel; large patch, GEMM), strides and
        // padding, odd sizes that leave a row and a column out of the pooling, overlapping
        // windows (a position that wins two windows gets both gradients).
        let cases = [
            (1, 32, 28, 28, 3, 1, 0, 2, 2),
            (32, 64, 13, 13, 3, 1, 0, 2, 2),
            (3, 7, 10, 9, 3, 1, 1, 2, 2),
            (5, 6, 12, 13, 3, 2, 1, 3, 2),
            (2, 9, 8, 7, 2, 1, 0, 2, 1),
            (4, 16, 9, 9, 3, 1, 1, 2, 2),
            (2, 16, 9, 11, 2, 1, 0, 2, 1),
        ];
        for (c, o, h, w, kk, s, pad, pk, ps) in cases {
            let g = Geometry {
                channels: c,
                height: h,
                width: w,
                kernel_h: kk,
                kernel_w: kk,
                stride: s,
                padding: pad,
            };
            let pool = Geometry {
                channels: o,
                height: g.out_h(),
                width: g.out_w(),
                kernel_h: pk,
                kernel_w: pk,
                stride: ps,
                padding: 0,
            };
            for (n, threads) in [(3, 1), (5, 2)] {
                let mut draw = |len: usize| -> Vec<f32> {
                    (0..len).map(|_| r.uniform_range(-1.0, 1.0)).collect()
                };
                let (x, wt, b) = (draw(n * g.image_len()), draw(o * g.patch_len()), draw(o));
                let grad_y = draw(n * o * pool.out_len());
                let want = unfused(&x, &g, n, &wt, &b, o, &pool, &grad_y);
                let mut kept = vec![f32::NAN; kept_len(&g, n)];
                let mut winners = vec![0; grad_y.len()];
                let mut y = vec![f32::NAN; grad_y.len()];
                let (mut gw, mut gb, mut gx) =
                    (vec![0.0; wt.len()], vec![0.0; o], vec![0.0; x.len()]);
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool")
                    .install(|| {
                        conv2d_relu_max_pool_forward(
                            &x,
                            &g,
                            n,
                            &wt,
                            &b,
                            o,
                            &pool,
                            &mut kept,
                            &mut winners,
                            &mut y,
                        );
                        conv2d_relu_max_pool_backward(
                            &grad_y,
                            &g,
                            n,
                            &wt,
                            o,
                            &pool,
                            &mut kept,
                            &winners,
                            &mut gw,
                            &mut gb,
                            Some(&mut gx),
                        );
                    });
                for (name, got, want) in [
                    ("y", &y, &want[0]),
                    ("∂W", &gw, &want[1]),
                    ("∂b", &gb, &want[2]),
                    ("∂x", &gx, &want[3]),
                ] {
                    for (i, (a, e)) in got.iter().zip(want).enumerate() {
                        assert!(
                            (a - e).abs() <= 1e-4 * (1.0 + e.abs()),
                            "{g:?} {pool:?} n {n}, {threads} threads: {name}[{i}] {a} vs {e}"
                        );
                    }
                }
            }
        }
    }
}
