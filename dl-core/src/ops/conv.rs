//! 2-D convolution (cross-correlation, as in PyTorch and Keras) over a batch of NCHW images,
//! as im2col + GEMM per image, in parallel over the batch, with an optional fused ReLU.
//!
//! For image `n`, with `cols_n = im2col(x_n)` (`[c·kh·kw, oh·ow]`) and `W: [oc, c·kh·kw]`:
//!
//! ```text
//! forward:   z_n = W · cols_n + b,     y_n = relu(z_n) (if fused) or z_n       y_n: [oc, oh·ow]
//! backward:  g_n = ∂L/∂y_n, and g_n ⊙ [y_n > 0] if fused
//!            ∂L/∂W += Σ_n g_n · cols_nᵀ,   ∂L/∂b += Σ_n Σ_pixels g_n,   ∂L/∂x_n = col2im(Wᵀ · g_n)
//! ```
//!
//! One image's columns, filters and output fit in the core's L2 cache (the book's second layer:
//! 139 KB, 74 KB, 31 KB), so each small product runs from cache; threads take whole images.
//! The caller owns two buffers reused from batch to batch and kept from forward to backward:
//! `cols` (`[n, c·kh·kw, oh·ow]`) and, with the fused ReLU, `out` (a copy of `y`). Backward
//! overwrites both.

use crate::ops::fast_math::with_best_simd;
use crate::ops::gemm::{Output, Stored, gemm};
use crate::ops::im2col::{Geometry, col2im, im2col};
use crate::ops::transpose::{transpose, transpose_into};
use rayon::prelude::*;

/// Forward over a batch of `n` images: `x: [n, c, h, w]`, `weight: [oc, c·kh·kw]`,
/// `bias: [oc]`; fills `cols: [n, c·kh·kw, oh·ow]` and, if `relu`, `out: [n, oc, oh·ow]`
/// (both kept for backward) and writes `y: [n, oc, oh, ow]`. With `relu`,
/// `y = max(0, conv(x))`. For inference, pass both `cols` and `out` empty: nothing is kept,
/// and each thread unrolls one image at a time into a buffer of its own.
///
/// **Panics** if a slice length does not match `g`, `n` and `out_channels`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_forward(
    x: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    relu: bool,
    cols: &mut [f32],
    out: &mut [f32],
    y: &mut [f32],
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    assert_eq!(
        x.len(),
        n * g.image_len(),
        "conv2d_forward: input length vs {n} images of {g:?}"
    );
    assert_eq!(weight.len(), o * k, "conv2d_forward: weight [{o}, {k}]");
    assert_eq!(bias.len(), o, "conv2d_forward: bias [{o}]");
    assert!(
        cols.is_empty() || cols.len() == n * k * p,
        "conv2d_forward: cols [{n}, {k}, {p}]"
    );
    assert_eq!(y.len(), n * o * p, "conv2d_forward: output [{n}, {o}, {p}]");
    assert!(
        out.is_empty() || (relu && out.len() == y.len()),
        "conv2d_forward: out [{n}, {o}, {p}]"
    );
    // Per-image views of the kept ReLU output (none when it is not kept).
    let keep = relu && !out.is_empty();
    let mut outs: Vec<&mut [f32]> = if keep {
        out.chunks_mut(o * p).collect()
    } else {
        Vec::new()
    };
    outs.resize_with(n, Default::default);
    // Columns kept for backward, or one image's columns per task when `cols` is empty.
    let mut kept: Vec<&mut [f32]> = cols.chunks_mut(k * p).collect();
    kept.resize_with(n, Default::default);
    x.par_chunks(g.image_len())
        .zip(kept.into_par_iter())
        .zip(y.par_chunks_mut(o * p))
        .zip(outs.into_par_iter())
        .for_each_init(Vec::new, |scratch, (((x_n, cols_n), y_n), out_n)| {
            let cols_n: &mut [f32] = if cols_n.is_empty() {
                scratch.resize(k * p, 0.0);
                scratch
            } else {
                cols_n
            };
            im2col(x_n, g, cols_n);
            if k <= SMALL_PATCH {
                small_patch_forward(weight, bias, cols_n, k, p, relu, y_n);
            } else {
                for (row, b) in y_n.chunks_exact_mut(p).zip(bias) {
                    row.fill(*b);
                }
                gemm(
                    o,
                    p,
                    k,
                    weight,
                    Stored::AsIs,
                    cols_n,
                    Stored::AsIs,
                    y_n,
                    Output::Accumulate,
                );
                if relu {
                    with_best_simd(
                        #[inline(always)]
                        || y_n.iter_mut().for_each(|v| *v = v.max(0.0)),
                    );
                }
            }
            if !out_n.is_empty() {
                out_n.copy_from_slice(y_n);
            }
        });
}

/// Backward over a batch of `n` images. Reads `grad_y: [n, oc, oh, ow]`, `weight`, and the
/// `cols` and `out` left by [`conv2d_forward`] (`cols` overwritten here); accumulates into
/// `grad_weight: [oc, c·kh·kw]`, `grad_bias: [oc]` and, unless it is `None` (nobody needs the
/// input gradient), `grad_x: [n, c, h, w]` (pass zeros).
///
/// **Panics** if a slice length does not match `g`, `n` and `out_channels`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_backward(
    grad_y: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    out_channels: usize,
    relu: bool,
    cols: &mut [f32],
    out: &[f32],
    grad_weight: &mut [f32],
    grad_bias: &mut [f32],
    grad_x: Option<&mut [f32]>,
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    if let Some(grad_x) = &grad_x {
        assert_eq!(
            grad_x.len(),
            n * g.image_len(),
            "conv2d_backward: input length vs {n} images of {g:?}"
        );
    }
    assert_eq!(
        grad_y.len(),
        n * o * p,
        "conv2d_backward: grad_output [{n}, {o}, {p}]"
    );
    assert_eq!(
        cols.len(),
        n * k * p,
        "conv2d_backward: cols [{n}, {k}, {p}]"
    );
    assert_eq!(
        grad_weight.len(),
        o * k,
        "conv2d_backward: weight [{o}, {k}]"
    );
    assert_eq!(grad_bias.len(), o, "conv2d_backward: bias [{o}]");
    assert!(
        !relu || out.len() == grad_y.len(),
        "conv2d_backward: out [{n}, {o}, {p}]"
    );
    let image_len = o * p;
    conv2d_backward_from(
        g,
        n,
        weight,
        out_channels,
        cols,
        grad_weight,
        grad_bias,
        grad_x,
        |i, g_n| {
            let gy_n = &grad_y[i * image_len..(i + 1) * image_len];
            if relu {
                // The incoming gradient, masked by the ReLU.
                let out_n = &out[i * image_len..(i + 1) * image_len];
                with_best_simd(
                    #[inline(always)]
                    || {
                        for ((a, &gv), &y) in g_n.iter_mut().zip(gy_n).zip(out_n) {
                            *a = if y > 0.0 { gv } else { 0.0 };
                        }
                    },
                );
            } else {
                g_n.copy_from_slice(gy_n);
            }
        },
    );
}

/// The backward products of a convolution over a batch of `n` images, from the gradient of
/// each image's convolution output, `∂L/∂z_n` (`[oc, oh·ow]`, before any activation), which
/// `grad_z(n, g_n)` writes into `g_n`: as [`conv2d_backward`] for `weight`, the `cols` of the
/// forward pass (overwritten), `grad_weight`, `grad_bias` and `grad_x`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d_backward_from(
    g: &Geometry,
    n: usize,
    weight: &[f32],
    out_channels: usize,
    cols: &mut [f32],
    grad_weight: &mut [f32],
    grad_bias: &mut [f32],
    grad_x: Option<&mut [f32]>,
    grad_z: impl Fn(usize, &mut [f32]) + Sync,
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    // One contiguous run of images per thread; each run sums its own weight gradient.
    let per_task = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
    // Every product below reads its operands in row-major order ("NN"), which the GEMM kernel
    // packs cheaply; a transposed operand cost as much packing as multiplying (measured). So
    // the weight gradient is accumulated transposed, from a transposed copy of g_n, and the
    // input gradient reads a transposed copy of W.
    let large_patch = k > SMALL_PATCH;
    let weight_t = if large_patch && grad_x.is_some() {
        transpose(weight, o, k)
    } else {
        Vec::new()
    };
    let mut gxs: Vec<Option<&mut [f32]>> = match grad_x {
        Some(grad_x) => grad_x
            .chunks_mut(per_task * g.image_len())
            .map(Some)
            .collect(),
        None => Vec::new(),
    };
    gxs.resize_with(n.div_ceil(per_task), Default::default);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = cols
        .par_chunks_mut(per_task * k * p)
        .zip(gxs.into_par_iter())
        .enumerate()
        .map(|(task, (cols, mut gx))| {
            let mut gw = vec![0.0; o * k];
            let mut gb = vec![0.0; o];
            let mut g_n = vec![0.0; o * p];
            // ∂Wᵀ [k, o] and g_nᵀ [p, o], for the large-patch products.
            let (mut gw_t, mut g_t) = if large_patch {
                (vec![0.0; k * o], vec![0.0; p * o])
            } else {
                (Vec::new(), Vec::new())
            };
            for (i, cols_n) in cols.chunks_exact_mut(k * p).enumerate() {
                grad_z(task * per_task + i, &mut g_n);
                with_best_simd(
                    #[inline(always)]
                    || {
                        for (b, row) in gb.iter_mut().zip(g_n.chunks_exact(p)) {
                            *b += sum(row);
                        }
                    },
                );
                // ∂L/∂W += g_n · cols_nᵀ;  cols_n ← Wᵀ · g_n, folded back onto the image.
                let gx_n = gx
                    .as_deref_mut()
                    .map(|gx| &mut gx[i * g.image_len()..(i + 1) * g.image_len()]);
                if large_patch {
                    // ∂Wᵀ += cols_n · g_nᵀ
                    transpose_into(&g_n, o, p, &mut g_t);
                    gemm(
                        k,
                        o,
                        p,
                        cols_n,
                        Stored::AsIs,
                        &g_t,
                        Stored::AsIs,
                        &mut gw_t,
                        Output::Accumulate,
                    );
                    if gx_n.is_some() {
                        gemm(
                            k,
                            p,
                            o,
                            &weight_t,
                            Stored::AsIs,
                            &g_n,
                            Stored::AsIs,
                            cols_n,
                            Output::Overwrite,
                        );
                    }
                } else {
                    small_patch_backward(weight, &g_n, k, p, &mut gw, cols_n, gx_n.is_some());
                }
                if let Some(gx_n) = gx_n {
                    col2im(cols_n, g, gx_n);
                }
            }
            if large_patch {
                transpose_into(&gw_t, k, o, &mut gw);
            }
            (gw, gb)
        })
        .collect();
    for (gw, gb) in partials {
        grad_weight.iter_mut().zip(&gw).for_each(|(a, b)| *a += b);
        grad_bias.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
    }
}

/// Patches at most this long (a first layer on grey images: 1·3·3 = 9) skip the GEMM kernel,
/// whose packing costs more than the few multiply-adds per output.
pub(crate) const SMALL_PATCH: usize = 16;

/// `y[o, :] = b[o] + Σ_k W[o, k] · cols[k, :]` (then `max(0, ·)` if `relu`), 16 outputs at a
/// time in one vector register: each output is written once, after its `k` fused
/// multiply-adds (row updates of `y` would load and store it `k` times).
#[allow(clippy::too_many_arguments)]
pub(crate) fn small_patch_forward(
    weight: &[f32],
    bias: &[f32],
    cols: &[f32],
    k: usize,
    p: usize,
    relu: bool,
    y: &mut [f32],
) {
    const L: usize = 16;
    #[inline(always)]
    fn block(w_row: &[f32], b: f32, cols: &[f32], p: usize, at: usize, len: usize) -> [f32; L] {
        let mut acc = [b; L];
        for (kk, &w) in w_row.iter().enumerate() {
            let c = &cols[kk * p + at..kk * p + at + len];
            for (a, &cv) in acc.iter_mut().zip(c) {
                *a = w.mul_add(cv, *a);
            }
        }
        acc
    }
    with_best_simd(
        #[inline(always)]
        || {
            for ((y_row, w_row), &b) in y.chunks_exact_mut(p).zip(weight.chunks_exact(k)).zip(bias)
            {
                for (i, y_block) in y_row.chunks_mut(L).enumerate() {
                    let len = y_block.len();
                    let mut acc = if len == L {
                        block(w_row, b, cols, p, i * L, L)
                    } else {
                        block(w_row, b, cols, p, i * L, len)
                    };
                    if relu {
                        acc.iter_mut().for_each(|v| *v = v.max(0.0));
                    }
                    y_block.copy_from_slice(&acc[..len]);
                }
            }
        },
    )
}

/// `∂W[o, k] += ⟨g[o, :], cols[k, :]⟩`, then, if `input_gradient`,
/// `cols[k, :] = Σ_o W[o, k] · g[o, :]`.
fn small_patch_backward(
    weight: &[f32],
    g: &[f32],
    k: usize,
    p: usize,
    grad_w: &mut [f32],
    cols: &mut [f32],
    input_gradient: bool,
) {
    with_best_simd(
        #[inline(always)]
        || {
            // The patch length as a constant, so that one filter's `k` sums stay in registers
            // and each 16 values of `g[o, :]` are loaded once for all of them (a dot product
            // per weight loads two values per multiply-add: the load ports, not the
            // multipliers, set its speed).
            macro_rules! with_patch_len {
                ($($k:literal)*) => {
                    match k {
                        $($k => {
                            for (gw_row, g_row) in grad_w.chunks_exact_mut(k).zip(g.chunks_exact(p)) {
                                filter_gradient::<$k>(g_row, cols, gw_row);
                            }
                        })*
                        _ => unreachable!("a small patch is at most {SMALL_PATCH} long, not {k}"),
                    }
                };
            }
            with_patch_len!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
            if !input_gradient {
                return;
            }
            for (kk, c_row) in cols.chunks_exact_mut(p).enumerate() {
                c_row.fill(0.0);
                for (w_row, g_row) in weight.chunks_exact(k).zip(g.chunks_exact(p)) {
                    let w = w_row[kk];
                    c_row.iter_mut().zip(g_row).for_each(|(c, gv)| *c += w * gv);
                }
            }
        },
    )
}

/// `∂W[o, kk] += ⟨g[o, :], cols[kk, :]⟩` for one filter `o` and its `K` weights: `K` sums of
/// 16 lanes each, every 16 values of `g_row` read once for all `K`.
#[inline(always)]
fn filter_gradient<const K: usize>(g_row: &[f32], cols: &[f32], gw_row: &mut [f32]) {
    const L: usize = 16;
    let p = g_row.len();
    let rows: [&[f32]; K] = std::array::from_fn(|kk| &cols[kk * p..(kk + 1) * p]);
    let mut acc = [[0.0f32; L]; K];
    let whole = p / L * L;
    for (block, gv) in g_row[..whole].chunks_exact(L).enumerate() {
        for (a, row) in acc.iter_mut().zip(&rows) {
            let c = &row[block * L..block * L + L];
            for l in 0..L {
                a[l] = gv[l].mul_add(c[l], a[l]);
            }
        }
    }
    for ((gw, a), row) in gw_row.iter_mut().zip(&acc).zip(&rows) {
        let tail: f32 = g_row[whole..]
            .iter()
            .zip(&row[whole..])
            .map(|(x, y)| x * y)
            .sum();
        *gw += a.iter().sum::<f32>() + tail;
    }
}

/// `Σ a` with 16 partial sums, so that it vectorises (a plain `iter().sum()` adds one value
/// at a time, in order).
#[inline(always)]
fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let a16 = a.chunks_exact(16);
    let tail: f32 = a16.remainder().iter().sum();
    for x in a16 {
        for l in 0..16 {
            acc[l] += x[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}
