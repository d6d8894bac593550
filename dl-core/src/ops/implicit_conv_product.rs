//! The channels-last convolution's product on AVX-512 with nothing packed on the images'
//! side: each patch value is broadcast straight from the channels-last image.
//!
//! ```text
//! Z[row, oc] = Σ_(i, q) hwc[origin(row) + i·w·c + q] · Wᵀ[(i, q), oc]      q = j·c + ci < kw·c
//! origin(row) = ((oy·s)·w + ox·s)·c in image n,  row = (n, oy, ox)
//! ```
//!
//! A tile is 6 rows (output positions) × 64 output channels, 24 accumulators of 16 lanes:
//! each step of the depth loads the 64 weights of one patch entry (four registers, from `Wᵀ`
//! rearranged once per call so that they are contiguous) and broadcasts that entry of the 6
//! positions from the image, for 24 fused multiply-adds. This is the tile of the `gemm`
//! crate's AVX-512 kernel, but the `gemm` crate needs the patch rows as a matrix (copied out of
//! the images) and then packs them again; here the windows are read where they lie, and the
//! 6 positions' windows (`kh` runs of `kw·c` values each) stay in L1.

use crate::ops::im2col::Geometry;

/// Output positions of a tile.
const TILE_ROWS: usize = 6;
/// Lanes of one AVX-512 register of `f32`.
const LANES: usize = 16;
/// Output channels of a tile at most: four registers.
const GROUP: usize = 4 * LANES;

/// Whether [`implicit_product`] runs here: AVX-512 F, windows inside the image (no padding),
/// and a multiple of 16 output channels.
pub(crate) fn applies(g: &Geometry, out_channels: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return g.padding == 0 && g.fits() && out_channels.is_multiple_of(LANES);
    }
    let _ = (g, out_channels);
    false
}

/// The channel groups of [`implicit_product`] and their widths: 64 channels at a time, the
/// last group the rest (a multiple of 16).
fn groups(out_channels: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..out_channels)
        .step_by(GROUP)
        .map(move |first| (first, GROUP.min(out_channels - first)))
}

/// `Wᵀ: [k, oc]` rearranged for [`implicit_product`]: the group of channels `first … first +
/// width` is `Wᵀ[p, first …][..width]` for `p = 0 … k−1`, contiguous, at offset `first · k`.
pub(crate) fn weight_groups(wt: &[f32], k: usize, out_channels: usize) -> Vec<f32> {
    let mut grouped = Vec::with_capacity(k * out_channels);
    for (first, width) in groups(out_channels) {
        for p in 0..k {
            grouped.extend_from_slice(&wt[p * out_channels + first..][..width]);
        }
    }
    grouped
}

/// `z[rows, oc] = patches · Wᵀ` for the first `rows` output positions of the channels-last
/// images `hwc` (`[n, h, w, c]`, as many as the rows reach), `grouped` from
/// [`weight_groups`]; every entry of `z[..rows · oc]` is written.
///
/// **Panics** unless [`applies`] holds, or if a slice is too short.
#[track_caller]
pub(crate) fn implicit_product(
    hwc: &[f32],
    g: &Geometry,
    rows: usize,
    grouped: &[f32],
    out_channels: usize,
    z: &mut [f32],
) {
    assert!(
        applies(g, out_channels),
        "implicit_product: {g:?} on this CPU"
    );
    let o = out_channels;
    assert!(
        hwc.len() >= rows.div_ceil(g.out_len()) * g.image_len()
            && grouped.len() == g.patch_len() * o
            && z.len() >= rows * o,
        "implicit_product: lengths"
    );
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `applies` checked the CPU and the geometry, the lengths are checked above.
    unsafe {
        product_avx512(hwc, g, rows, grouped, o, z)
    };
}

/// [`implicit_product`], tile by tile.
///
/// # Safety
/// As checked by [`implicit_product`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn product_avx512(
    hwc: &[f32],
    g: &Geometry,
    rows: usize,
    grouped: &[f32],
    o: usize,
    z: &mut [f32],
) {
    let (p, ow, image, k) = (g.out_len(), g.out_w(), g.image_len(), g.patch_len());
    let (c, w, s) = (g.channels, g.width, g.stride);
    // Where row `row`'s window starts in `hwc` (rows past the end repeat the last one: their
    // sums are computed but not stored).
    let origin = |row: usize| {
        let (n, at) = (row.min(rows - 1) / p, row.min(rows - 1) % p);
        n * image + ((at / ow) * s * w + (at % ow) * s) * c
    };
    for block in 0..rows.div_ceil(TILE_ROWS) {
        let first_row = block * TILE_ROWS;
        let height = TILE_ROWS.min(rows - first_row);
        let origins: [*const f32; TILE_ROWS] =
            std::array::from_fn(|r| hwc.as_ptr().wrapping_add(origin(first_row + r)));
        for (first, width) in groups(o) {
            let weights = grouped[first * k..][..width * k].as_ptr();
            let out = z.as_mut_ptr().wrapping_add(first_row * o + first);
            // SAFETY: the windows of the tile's rows lie inside `hwc` (no padding), the
            // group's weights are `k · width` values, and the tile's `height` rows of `width`
            // channels lie inside `z`.
            unsafe {
                match width / LANES {
                    4 => tile::<4>(g, origins, weights, (out, o), height),
                    3 => tile::<3>(g, origins, weights, (out, o), height),
                    2 => tile::<2>(g, origins, weights, (out, o), height),
                    _ => tile::<1>(g, origins, weights, (out, o), height),
                }
            }
        }
    }
}

/// One tile: `height ≤ 6` rows of `16·V` channels at `out` (rows `row_step` apart), from the
/// windows at `origins` and the group's weights `[k, 16·V]`.
///
/// # Safety
/// As for [`product_avx512`]'s calls.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile<const V: usize>(
    g: &Geometry,
    origins: [*const f32; TILE_ROWS],
    weights: *const f32,
    (out, row_step): (*mut f32, usize),
    height: usize,
) {
    use std::arch::x86_64::*;
    let (run, line) = (g.kernel_w * g.channels, g.width * g.channels);
    // SAFETY: the caller's contract.
    unsafe {
        let mut sums = [[_mm512_setzero_ps(); V]; TILE_ROWS];
        let mut wp = weights;
        for i in 0..g.kernel_h {
            let rows: [*const f32; TILE_ROWS] = std::array::from_fn(|r| origins[r].add(i * line));
            for q in 0..run {
                let wv: [__m512; V] = std::array::from_fn(|v| _mm512_loadu_ps(wp.add(v * LANES)));
                wp = wp.add(V * LANES);
                for (r, sums) in sums.iter_mut().enumerate() {
                    let x = _mm512_set1_ps(*rows[r].add(q));
                    for v in 0..V {
                        sums[v] = _mm512_fmadd_ps(x, wv[v], sums[v]);
                    }
                }
            }
        }
        for (r, sums) in sums.iter().enumerate().take(height) {
            for (v, &sum) in sums.iter().enumerate() {
                _mm512_storeu_ps(out.add(r * row_step + v * LANES), sum);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_patch_rows_times_the_weights() {
        let mut r = crate::rng::Rng::new(9);
        // (channels, out channels, h, w, kernel, stride, images): the book's second layer, a
        // last group of 16, 48 and 80 channels, stride 2, rows not a multiple of 6.
        for (c, o, h, w, kk, s, n) in [
            (32, 64, 13, 13, 3, 1, 4),
            (3, 16, 7, 9, 3, 1, 1),
            (5, 48, 8, 8, 2, 2, 3),
            (2, 80, 6, 7, 3, 1, 2),
        ] {
            let g = Geometry {
                channels: c,
                height: h,
                width: w,
                kernel_h: kk,
                kernel_w: kk,
                stride: s,
                padding: 0,
            };
            if !applies(&g, o) {
                return; // a CPU without AVX-512
            }
            let k = g.patch_len();
            let hwc: Vec<f32> = (0..n * g.image_len())
                .map(|_| r.uniform_range(-1.0, 1.0))
                .collect();
            let wt: Vec<f32> = (0..k * o).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let rows = n * g.out_len();
            let mut z = vec![f32::NAN; rows * o];
            implicit_product(&hwc, &g, rows, &weight_groups(&wt, k, o), o, &mut z);
            for row in 0..rows {
                let (img, at) = (row / g.out_len(), row % g.out_len());
                let (oy, ox) = (at / g.out_w(), at % g.out_w());
                for oc in 0..o {
                    let mut want = 0.0;
                    for i in 0..kk {
                        for j in 0..kk {
                            for ci in 0..c {
                                let pixel = ((img * h + oy * s + i) * w + ox * s + j) * c + ci;
                                want += hwc[pixel] * wt[((i * kk + j) * c + ci) * o + oc];
                            }
                        }
                    }
                    let got = z[row * o + oc];
                    assert!(
                        (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "{g:?}: row {row}, channel {oc}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
