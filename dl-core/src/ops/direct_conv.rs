//! A convolution with a small patch (the book CNN's first layer: 1 channel, 3 × 3) computed
//! straight from the image, with no im2col: stride 1 and no padding, the planes of a few
//! output channels at a time.
//!
//! ```text
//! z[oy, ox] = Σ_{c, i, j} W[c, i, j] · x[c, oy + i, ox + j]        z: [oh, ow]
//! ```
//!
//! Each output row is computed in blocks of 16 neighbouring outputs of 4 channels, held in
//! vector registers: each of the `c·kh·kw` taps loads 16 consecutive input pixels of a row once
//! (unaligned, from the image, which stays in L1) and multiply-adds them with one broadcast
//! weight per channel. im2col would first
//! copy the same pixels into a `[c·kh·kw, oh·ow]` matrix (9 copies of the image) and read them
//! back; here each output is written once. The taps are listed once per call, each as its
//! pixel's offset from the window's corner and its weight in each of the 4 filters, so that
//! a block is one loop over that list (nested loops over channel, row and column, with their
//! bounds checks and index arithmetic, took more instructions than the multiply-adds). A row whose length is not a multiple of 16 ends
//! with a block that overlaps the one before it (its outputs are computed twice, the same).

use crate::ops::im2col::Geometry;

/// Outputs per block: two AVX2 registers (one AVX-512 register) of `f32`.
const BLOCK: usize = 16;

/// The most taps (`c·kh·kw`) a filter of [`direct_conv_planes`] may have.
pub const MAX_TAPS: usize = 16;

/// True if [`direct_conv_planes`] computes this geometry (stride 1, no padding, at most
/// [`MAX_TAPS`] taps).
pub fn direct_conv_applies(g: &Geometry) -> bool {
    g.stride == 1 && g.padding == 0 && g.fits() && g.patch_len() <= MAX_TAPS
}

/// Where tap `t = (c, i, j)` of a filter (row-major `[c, kh, kw]`) reads a channel-first
/// image `[c, h, w]`, from the window's top-left pixel.
pub fn tap_offset(g: &Geometry, t: usize) -> usize {
    let (c, i, j) = (
        t / (g.kernel_h * g.kernel_w),
        t / g.kernel_w % g.kernel_h,
        t % g.kernel_w,
    );
    (c * g.height + i) * g.width + j
}

/// Output channels computed together: their sums are independent chains of multiply-adds
/// (one chain alone waits on the latency of each), and each input load serves all of them.
pub const FILTERS_TOGETHER: usize = 4;

/// The planes `z: [F, oh, ow]` of `F` output channels of the convolution of `x: [c, h, w]`
/// with the filters `filters: [F, c·kh·kw]` (each row-major `[c, kh, kw]`), no bias. Call it
/// inside [`with_best_simd`](crate::ops::fast_math::with_best_simd): it is inlined there and
/// vectorised for the running CPU (`mul_add` is one instruction there, a library call in the
/// baseline).
///
/// **Panics** unless [`direct_conv_applies`] to `g`, or if a slice length does not match.
#[inline(always)]
pub fn direct_conv_planes<const F: usize>(x: &[f32], g: &Geometry, filters: &[f32], z: &mut [f32]) {
    assert!(direct_conv_applies(g), "direct_conv_planes: geometry {g:?}");
    assert_eq!(x.len(), g.image_len(), "direct_conv_planes: image");
    assert_eq!(
        filters.len(),
        F * g.patch_len(),
        "direct_conv_planes: filters"
    );
    assert_eq!(z.len(), F * g.out_len(), "direct_conv_planes: output");
    let (oh, ow, p, k) = (g.out_h(), g.out_w(), g.out_len(), g.patch_len());
    // Each tap once: where its pixel is, from the block's first output's top-left pixel, and
    // its weight in each filter (so that one block's loop is one list of taps).
    let mut taps = [(0usize, [0.0f32; F]); MAX_TAPS];
    for (t, tap) in taps[..k].iter_mut().enumerate() {
        *tap = (
            tap_offset(g, t),
            std::array::from_fn(|f| filters[f * k + t]),
        );
    }
    let taps = &taps[..k];
    for oy in 0..oh {
        let row_start = oy * g.width;
        if ow < BLOCK {
            let acc = block::<F>(x, taps, row_start, ow);
            for (f, sums) in acc.iter().enumerate() {
                z[f * p + oy * ow..][..ow].copy_from_slice(&sums[..ow]);
            }
            continue;
        }
        let mut at = 0;
        while at < ow {
            let start = at.min(ow - BLOCK);
            let acc = block::<F>(x, taps, row_start + start, BLOCK);
            for (f, sums) in acc.iter().enumerate() {
                z[f * p + oy * ow + start..][..BLOCK].copy_from_slice(sums);
            }
            at = start + BLOCK;
        }
    }
}

/// The sums of the `len ≤ BLOCK` outputs whose windows start at pixel `first` of the image, for
/// each of the `F` filters: `Σ_taps weight · x[first + offset ..][..len]`.
#[inline(always)]
fn block<const F: usize>(
    x: &[f32],
    taps: &[(usize, [f32; F])],
    first: usize,
    len: usize,
) -> [[f32; BLOCK]; F] {
    let mut acc = [[0.0f32; BLOCK]; F];
    for &(offset, weights) in taps {
        let src = &x[first + offset..][..len];
        for (sums, wv) in acc.iter_mut().zip(weights) {
            for (a, &v) in sums.iter_mut().zip(src) {
                *a = wv.mul_add(v, *a);
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::fast_math::with_best_simd;
    use crate::ops::im2col::im2col;

    #[test]
    fn equals_im2col_then_the_product() {
        let mut r = crate::rng::Rng::new(11);
        // (channels, h, w, kh, kw): the book's first layer, output rows shorter than a block,
        // exactly one block, and one block and a bit; non-square kernels; several channels.
        let cases = [
            (1, 28, 28, 3, 3),
            (1, 9, 11, 3, 3),
            (1, 5, 18, 3, 3),
            (2, 7, 19, 2, 3),
            (3, 6, 40, 3, 1),
            (1, 4, 4, 4, 4),
        ];
        for (c, h, w, kh, kw) in cases {
            let g = Geometry {
                channels: c,
                height: h,
                width: w,
                kernel_h: kh,
                kernel_w: kw,
                stride: 1,
                padding: 0,
            };
            let x: Vec<f32> = (0..g.image_len())
                .map(|_| r.uniform_range(-1.0, 1.0))
                .collect();
            let filter: Vec<f32> = (0..g.patch_len())
                .map(|_| r.uniform_range(-1.0, 1.0))
                .collect();
            let mut cols = vec![0.0; g.patch_len() * g.out_len()];
            im2col(&x, &g, &mut cols);
            let want: Vec<f32> = (0..g.out_len())
                .map(|q| {
                    (0..g.patch_len())
                        .map(|k| filter[k] * cols[k * g.out_len() + q])
                        .sum()
                })
                .collect();
            let mut got = vec![f32::NAN; g.out_len()];
            with_best_simd(|| direct_conv_planes::<1>(&x, &g, &filter, &mut got));
            for (q, (a, e)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                    "{g:?}: output {q}: {a} vs {e}"
                );
            }
        }
    }
}
