//! Convolution, ReLU and max pooling for inference as one implicit matrix product per chunk of
//! images, in channels-last (HWC) layout: the layout XLA and Eigen use on CPUs.
//!
//! In CHW the product of one image is `z[oc, oh·ow] = W[oc, c·kh·kw] · cols[c·kh·kw, oh·ow]`:
//! small (the book's second convolution is `[64, 288] · [288, 121]`), cut badly by the 6 × 16
//! register tile (64 = 10·6 + 4 rows, 121 = 7·16 + 9 columns), with `W` repacked for every
//! image. Channels-last turns the product around and stacks the images of a chunk:
//!
//! ```text
//! x_hwc[y, x, ci]              = x[ci, y, x]                        (each image transposed)
//! patches[(n, oy, ox), (i, j, ci)] = x_hwc[n, oy·s − p + i, ox·s − p + j, ci]  (0 outside)
//! Z[(n, oy, ox), oc]           = Σ_(i,j,ci) patches[·, (i, j, ci)] · Wᵀ[(i, j, ci), oc]
//! Wᵀ[(i, j, ci), oc]           = W[oc, (ci, i, j)]                  (rearranged once per call)
//! ```
//!
//! The rows (output positions of several images) fill 6-row tiles almost exactly and the
//! columns (output channels) are whole 16-column panels when `oc` is a multiple of 16. In HWC
//! a patch row is `kh` contiguous runs of `kw·c` values, so building it is a few copies; on
//! the CPUs of the blocked product (AVX2 + FMA, no AVX-512) the rows are packed straight into
//! its 6-row blocks and `Wᵀ` into its 16-column panels once per call, so nothing is repacked
//! per image or per chunk.
//! The 2 × 2 pooling is then a maximum over rows of `Z`, all channels at once, and bias and
//! ReLU are applied to the pooled values (they commute with the maximum, see
//! [`crate::ops::conv_pool`]), written in CHW as the layers after expect.

use crate::ops::conv_pool::Layout;
use crate::ops::fast_math::with_best_simd;
use crate::ops::gemm::{Output, Stored, gemm};
use crate::ops::im2col::Geometry;
use crate::ops::implicit_conv_product::{self, implicit_product};
#[cfg(target_arch = "x86_64")]
use crate::ops::transpose::transpose_8x8;
use rayon::prelude::*;

/// Images whose output positions are stacked into the rows of one product.
pub const IMAGES_TOGETHER: usize = 4;

/// `Wᵀ` in the patch order of channels-last: `weight: [oc, (ci, i, j)]` (the layers' layout)
/// becomes `[(i, j, ci), oc]`.
pub fn channels_last_weight(weight: &[f32], g: &Geometry, out_channels: usize) -> Vec<f32> {
    let (c, kh, kw, o) = (g.channels, g.kernel_h, g.kernel_w, out_channels);
    let k = g.patch_len();
    let mut wt = vec![0.0; k * o];
    for (oc, filter) in weight.chunks_exact(k).enumerate() {
        for ci in 0..c {
            for i in 0..kh {
                for j in 0..kw {
                    wt[((i * kw + j) * c + ci) * o + oc] = filter[(ci * kh + i) * kw + j];
                }
            }
        }
    }
    wt
}

/// `x: [c, h·w]` → `hwc: [h·w, c]` (any matrix transpose: `[rows, cols]` → `[cols, rows]`): in
/// 8 × 8 register transposes when the CPU has AVX2 (one value at a time, this pass cost 6 % of
/// `cnn_infer`), the edges that do not fill 8 × 8 one value at a time.
pub(crate) fn to_channels_last(x: &[f32], c: usize, hwc: &mut [f32]) {
    assert!(
        x.len().is_multiple_of(c) && hwc.len() >= x.len(),
        "to_channels_last: lengths"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2; the lengths are checked above.
        unsafe { to_channels_last_avx2(x, c, hwc) };
        let whole = (c / 8 * 8, x.len() / c / 8 * 8);
        to_channels_last_edges(x, c, whole, hwc);
        return;
    }
    to_channels_last_edges(x, c, (0, 0), hwc);
}

/// [`to_channels_last`] one value at a time, for every value outside the first
/// `whole_c` channels × `whole_hw` positions.
#[inline(always)]
fn to_channels_last_edges(
    x: &[f32],
    c: usize,
    (whole_c, whole_hw): (usize, usize),
    hwc: &mut [f32],
) {
    let hw = x.len() / c;
    for (ci, plane) in x.chunks_exact(hw).enumerate() {
        let first = if ci < whole_c { whole_hw } else { 0 };
        for (at, &v) in plane.iter().enumerate().skip(first) {
            hwc[at * c + ci] = v;
        }
    }
}

/// [`to_channels_last`] for the first `⌊c/8⌋·8` channels × `⌊h·w/8⌋·8` positions: blocks of
/// 8 × 8 through [`transpose_8x8`].
///
/// # Safety
/// The CPU must have AVX2; `c` divides `x.len()`, `hwc.len() ≥ x.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn to_channels_last_avx2(x: &[f32], c: usize, hwc: &mut [f32]) {
    use std::arch::x86_64::*;
    let hw = x.len() / c;
    for c0 in (0..c / 8 * 8).step_by(8) {
        for a0 in (0..hw / 8 * 8).step_by(8) {
            // SAFETY: rows c0 … c0+7 of `x` hold positions a0 … a0+7; the stores land in
            // rows a0 … a0+7 of `hwc`, columns c0 … c0+7.
            unsafe {
                let r: [__m256; 8] =
                    std::array::from_fn(|i| _mm256_loadu_ps(x.as_ptr().add((c0 + i) * hw + a0)));
                for (j, &column) in transpose_8x8(r).iter().enumerate() {
                    _mm256_storeu_ps(hwc.as_mut_ptr().add((a0 + j) * c + c0), column);
                }
            }
        }
    }
}

/// The patch rows of one channels-last image: `patches: [oh·ow, kh·kw·c]`, in the order
/// `(i, j, ci)` (every entry written, 0 in the padding).
#[inline(always)]
pub(crate) fn patch_rows(hwc: &[f32], g: &Geometry, patches: &mut [f32]) {
    let (c, kw, s, p) = (g.channels, g.kernel_w, g.stride, g.padding);
    let (h, w, ow) = (g.height, g.width, g.out_w());
    let run = kw * c;
    for (at, row) in patches.chunks_exact_mut(g.patch_len()).enumerate() {
        let (oy, ox) = (at / ow, at % ow);
        for (i, part) in row.chunks_exact_mut(run).enumerate() {
            let y = (oy * s + i).checked_sub(p).filter(|&y| y < h);
            let Some(y) = y else {
                part.fill(0.0);
                continue;
            };
            let x0 = (ox * s).wrapping_sub(p);
            if ox * s >= p && x0 + kw <= w {
                part.copy_from_slice(&hwc[(y * w + x0) * c..][..run]);
                continue;
            }
            for (j, cell) in part.chunks_exact_mut(c).enumerate() {
                match (ox * s + j).checked_sub(p).filter(|&x| x < w) {
                    Some(x) => cell.copy_from_slice(&hwc[(y * w + x) * c..][..c]),
                    None => cell.fill(0.0),
                }
            }
        }
    }
}

/// Whether the patch rows are packed straight from the channels-last images into the blocked
/// product's 6-row blocks ([`pack_patch_blocks`]): on its CPUs (AVX2 + FMA, no AVX-512), for
/// windows inside the image (stride 1, no padding) whose runs `kw·c` are whole vectors of 8.
fn packs_straight(g: &Geometry) -> bool {
    #[cfg(target_arch = "x86_64")]
    if super::blocked_gemm::suits_this_cpu() {
        return g.stride == 1 && g.padding == 0 && (g.kernel_w * g.channels).is_multiple_of(8);
    }
    let _ = g;
    false
}

/// Values of the register tile's rows and columns (the blocked product's layout).
const TILE_ROWS: usize = 6;
const TILE_COLS: usize = 16;

/// `Wᵀ` (`[k, o]`) in the blocked product's panels of 16 columns, the last one padded with
/// zeros: `panel j = Wᵀ[p, 16j … 16j+15]` for `p = 0 … k−1`.
fn weight_panels(wt: &[f32], k: usize, o: usize) -> Vec<f32> {
    let mut panels = vec![0.0; o.div_ceil(TILE_COLS) * TILE_COLS * k];
    for (j, panel) in panels.chunks_exact_mut(TILE_COLS * k).enumerate() {
        let (first, cols) = (j * TILE_COLS, TILE_COLS.min(o - j * TILE_COLS));
        for (p, row) in panel.chunks_exact_mut(TILE_COLS).enumerate() {
            row[..cols].copy_from_slice(&wt[p * o + first..][..cols]);
        }
    }
    panels
}

/// The length of the packed blocks for `rows` patch rows of `k` values, with the 2 values the
/// last overlapping store writes past them.
fn blocks_len(rows: usize, k: usize) -> usize {
    rows.div_ceil(TILE_ROWS) * TILE_ROWS * k + 2
}

/// The patch rows of `rows` output positions of channels-last images (`hwc`: the images one
/// after the other) straight into 6-row blocks: `block b = patches[6b … 6b+5, q]` for
/// `q = 0 … k−1`, rows past the last repeating it (their sums are never stored). Each of the
/// `kh` runs of a row is read 8 values at a time from its 6 rows and turned by
/// [`transpose_8x8`] (two rows of zeros) into 8 columns of 6, stored 8 wide: each store's 2
/// extra values are overwritten by the next.
///
/// # Safety
/// The CPU has AVX2; [`packs_straight`] holds for `g`; `hwc` holds the images of the `rows`
/// positions; `blocks` is [`blocks_len`] long.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pack_patch_blocks(hwc: &[f32], g: &Geometry, rows: usize, blocks: &mut [f32]) {
    use std::arch::x86_64::*;
    let (c, w, run) = (g.channels, g.width, g.kernel_w * g.channels);
    let (k, p, ow, image) = (g.patch_len(), g.out_len(), g.out_w(), g.image_len());
    debug_assert!(blocks.len() >= blocks_len(rows, k) && hwc.len() >= rows.div_ceil(p) * image);
    let origin = |row: usize| {
        let (n, at) = (row.min(rows - 1) / p, row.min(rows - 1) % p);
        n * image + ((at / ow) * w + at % ow) * c
    };
    let base = blocks.as_mut_ptr();
    for b in 0..rows.div_ceil(TILE_ROWS) {
        let origins: [usize; TILE_ROWS] = std::array::from_fn(|r| origin(b * TILE_ROWS + r));
        for i in 0..g.kernel_h {
            for q0 in (0..run).step_by(8) {
                let at = i * w * c + q0;
                // SAFETY: each row's run `i` lies inside its image (no padding, stride 1), and
                // `q0 + 8 ≤ run`; the stores stay inside `blocks` (its 2 values of slack).
                unsafe {
                    let r: [__m256; 8] = std::array::from_fn(|r| {
                        if r < TILE_ROWS {
                            _mm256_loadu_ps(hwc.as_ptr().add(origins[r] + at))
                        } else {
                            _mm256_setzero_ps()
                        }
                    });
                    let to = base.add((b * k + i * run + q0) * TILE_ROWS);
                    for (j, &column) in transpose_8x8(r).iter().enumerate() {
                        _mm256_storeu_ps(to.add(j * TILE_ROWS), column);
                    }
                }
            }
        }
    }
}

/// `y_n[oc, (py, px)] = relu(max over the window of z[(oy, ox), oc] + b[oc])` for one image:
/// `z: [oh·ow, oc]` (channels-last), `y_n: [oc, poh·pow]` (channels-first), through `pooled`,
/// a scratch `[poh·pow, oc]` (channels-last, whole rows at a time, then transposed).
#[inline(always)]
fn pool_bias_relu(z: &[f32], pool: &Geometry, bias: &[f32], pooled: &mut [f32], y_n: &mut [f32]) {
    let o = bias.len();
    let (w, s) = (pool.width, pool.stride);
    let positions = (0..pool.out_h()).flat_map(|py| (0..pool.out_w()).map(move |px| (py, px)));
    for (best, (py, px)) in pooled.chunks_exact_mut(o).zip(positions) {
        let origin = py * s * w + px * s;
        best.copy_from_slice(&z[origin * o..][..o]);
        for i in 0..pool.kernel_h {
            for j in 0..pool.kernel_w {
                let row = &z[(origin + i * w + j) * o..][..o];
                best.iter_mut().zip(row).for_each(|(m, &v)| *m = m.max(v));
            }
        }
        best.iter_mut()
            .zip(bias)
            .for_each(|(m, &b)| *m = (*m + b).max(0.0));
    }
    to_channels_last(&pooled[..pool.out_len() * o], pool.out_len(), y_n);
}

/// The images of a chunk channels-last: `x_chunk` itself if it is, else transposed into `hwc`.
fn chunk_channels_last<'a>(
    x_chunk: &'a [f32],
    x_layout: Layout,
    g: &Geometry,
    hwc: &'a mut [f32],
) -> &'a [f32] {
    if x_layout == Layout::ChannelsLast {
        return x_chunk;
    }
    for (x_n, hwc_n) in x_chunk
        .chunks_exact(g.image_len())
        .zip(hwc.chunks_exact_mut(g.image_len()))
    {
        to_channels_last(x_n, g.channels, hwc_n);
    }
    &hwc[..x_chunk.len()]
}

/// `y = max_pool(relu(conv(x)))` over `n` images (CHW, or HWC for `x_layout` channels-last:
/// then nothing is transposed) by channels-last implicit products, with the arguments and
/// channel-first output of [`crate::ops::conv_pool::conv2d_relu_max_pool_infer`] (whose
/// asserts have checked them).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d_relu_max_pool_channels_last(
    x: &[f32],
    x_layout: Layout,
    g: &Geometry,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    pool: &Geometry,
    y: &mut [f32],
) {
    let (k, p, o, c) = (g.patch_len(), g.out_len(), out_channels, g.channels);
    let pooled = pool.out_len();
    let wt = channels_last_weight(weight, g, o);
    let implicit = implicit_conv_product::applies(g, o);
    let grouped = if implicit {
        implicit_conv_product::weight_groups(&wt, k, o)
    } else {
        Vec::new()
    };
    let straight = !implicit && packs_straight(g);
    let panels = if straight {
        weight_panels(&wt, k, o)
    } else {
        Vec::new()
    };
    let images = IMAGES_TOGETHER;
    x.par_chunks(images * g.image_len())
        .zip(y.par_chunks_mut(images * o * pooled))
        .for_each_init(
            || {
                let hwc_images = match (x_layout, straight || implicit) {
                    (Layout::ChannelsLast, _) => 0,
                    (Layout::ChannelsFirst, true) => images,
                    (Layout::ChannelsFirst, false) => 1,
                };
                let patches_len = match (implicit, straight) {
                    (true, _) => 0,
                    (false, true) => blocks_len(images * p, k),
                    (false, false) => images * p * k,
                };
                let hwc_len = hwc_images * g.image_len();
                (
                    vec![0.0; hwc_len],
                    vec![0.0; patches_len],
                    vec![0.0; images * p * o],
                    vec![0.0; pooled * o],
                )
            },
            |(hwc, patches, z, pooled_rows), (x_chunk, y_chunk)| {
                let count = x_chunk.len() / g.image_len();
                let rows = count * p;
                if implicit {
                    let hwc = chunk_channels_last(x_chunk, x_layout, g, hwc);
                    implicit_product(hwc, g, rows, &grouped, o, &mut z[..rows * o]);
                }
                #[cfg(target_arch = "x86_64")]
                if straight {
                    let hwc = chunk_channels_last(x_chunk, x_layout, g, hwc);
                    let c_out = super::blocked_gemm::StridedMut {
                        ptr: z.as_mut_ptr(),
                        row_step: o,
                    };
                    // SAFETY: `packs_straight` checked the CPU and the geometry; `hwc` holds
                    // the chunk's images and `patches` is `blocks_len` long; the blocks and
                    // panels are packed over the whole depth, and `z` holds `rows × o`.
                    unsafe {
                        pack_patch_blocks(hwc, g, rows, patches);
                        super::blocked_gemm::multiply_packed(
                            (rows, o, k),
                            patches,
                            &panels,
                            c_out,
                            false,
                        );
                    }
                }
                if !straight && !implicit {
                    with_best_simd(
                        #[inline(always)]
                        || {
                            for (x_n, patches_n) in x_chunk
                                .chunks_exact(g.image_len())
                                .zip(patches.chunks_exact_mut(p * k))
                            {
                                if x_layout == Layout::ChannelsLast {
                                    patch_rows(x_n, g, patches_n);
                                } else {
                                    to_channels_last(x_n, c, hwc);
                                    patch_rows(hwc, g, patches_n);
                                }
                            }
                        },
                    );
                    gemm(
                        rows,
                        o,
                        k,
                        &patches[..rows * k],
                        Stored::AsIs,
                        &wt,
                        Stored::AsIs,
                        &mut z[..rows * o],
                        Output::Overwrite,
                    );
                }
                with_best_simd(
                    #[inline(always)]
                    || {
                        for (z_n, y_n) in z[..rows * o]
                            .chunks_exact(p * o)
                            .zip(y_chunk.chunks_exact_mut(o * pooled))
                        {
                            pool_bias_relu(z_n, pool, bias, pooled_rows, y_n);
                        }
                    },
                );
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_channels_last_transposes_every_shape() {
        // Whole 8 × 8 blocks (register transposes) with and without edges of channels and of
        // positions, and edges only.
        for (c, hw) in [
            (8, 8),
            (8, 13),
            (16, 5),
            (32, 169),
            (7, 9),
            (3, 1),
            (12, 21),
            (25, 64),
        ] {
            let x: Vec<f32> = (0..c * hw).map(|i| i as f32).collect();
            let mut got = vec![f32::NAN; c * hw];
            to_channels_last(&x, c, &mut got);
            for at in 0..hw {
                for ci in 0..c {
                    assert_eq!(
                        got[at * c + ci],
                        x[ci * hw + at],
                        "[{c}, {hw}] at {at}, {ci}"
                    );
                }
            }
        }
    }
}
