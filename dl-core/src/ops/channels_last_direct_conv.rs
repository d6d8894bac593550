//! A CNN's first convolution (a small patch over few input channels) with ReLU and max
//! pooling, for inference on CPUs with AVX-512: the channels of each output position held in
//! registers, and the pooled values written channels-last (HWC), the layout the next
//! convolution reads (see [`crate::ops::channels_last_conv`]).
//!
//! ```text
//! z[oy, ox, oc]  = Σ_t x[(oy, ox) + offset_t] · Wᵀ[t, oc]            t = (ci, i, j), a tap
//! y[py, px, oc]  = relu(b[oc] + max over the window of (py, px) of z[oy, ox, oc])
//! ```
//!
//! Channel-first, the book's first layer (1 → 32 channels, 3 × 3, 26 × 26 outputs) is computed
//! plane by plane along rows of 26 outputs, which fill 16-lane registers badly (two blocks of
//! 16 for 26 values), and pooled in a second pass over the planes. Channels-last, 32 output
//! channels are exactly two 16-lane registers: each tap of an output position is one
//! broadcast pixel and two fused multiply-adds with the tap's weights, every lane is useful,
//! the window's maximum is taken in registers, and only the pooled values are stored, each
//! once. The same layout on AVX2 needs four 8-lane registers per position and its 36 weight
//! registers do not fit in 16: there the channel-first kernels stay
//! ([`crate::ops::direct_conv`]).

use crate::ops::direct_conv::{direct_conv_applies, tap_offset};
use crate::ops::im2col::Geometry;
use crate::ops::transpose::transpose_into;
use rayon::prelude::*;

/// Lanes of one AVX-512 register of `f32`.
const LANES: usize = 16;

/// Whether [`conv2d_relu_max_pool_hwc`] computes this convolution and pooling on this CPU:
/// AVX-512, a geometry of [`direct_conv_applies`], `out_channels` a multiple of 16 and a
/// pooling window without padding.
pub fn applies(g: &Geometry, out_channels: usize, pool: &Geometry) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return direct_conv_applies(g)
            && out_channels.is_multiple_of(LANES)
            && out_channels > 0
            && pool.padding == 0
            && pool.fits();
    }
    let _ = (g, out_channels, pool);
    false
}

/// `y = max_pool(relu(conv(x)))` for `n` channel-first images `x: [n, c, h, w]`, written
/// channels-last: `y: [n, poh, pow, oc]` (every entry). `weight: [oc, c·kh·kw]`, `bias: [oc]`,
/// `pool` the window over the convolution's `oh × ow` output.
///
/// **Panics** unless [`applies`] holds, or if a slice length does not match.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_relu_max_pool_hwc(
    x: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    pool: &Geometry,
    y: &mut [f32],
) {
    assert!(
        applies(g, out_channels, pool),
        "conv2d_relu_max_pool_hwc: {g:?} with {out_channels} filters and pooling {pool:?} \
         on this CPU"
    );
    let (k, o) = (g.patch_len(), out_channels);
    assert_eq!(
        x.len(),
        n * g.image_len(),
        "conv2d_relu_max_pool_hwc: input"
    );
    assert_eq!(weight.len(), o * k, "conv2d_relu_max_pool_hwc: weight");
    assert_eq!(bias.len(), o, "conv2d_relu_max_pool_hwc: bias");
    assert_eq!(
        y.len(),
        n * pool.out_len() * o,
        "conv2d_relu_max_pool_hwc: output"
    );
    // Each tap once: its pixel's offset from the window's corner, in a channel-first image.
    let offsets: Vec<usize> = (0..k).map(|t| tap_offset(g, t)).collect();
    // Wᵀ: the weights of tap t for all output channels, contiguous.
    let mut wt = vec![0.0; k * o];
    transpose_into(weight, o, k, &mut wt);
    #[cfg(target_arch = "x86_64")]
    x.par_chunks(g.image_len())
        .zip(y.par_chunks_mut(pool.out_len() * o))
        .for_each(|(x_n, y_n)| {
            // SAFETY: `applies` checked the CPU; the lengths are checked above.
            unsafe { image_avx512(x_n, g, pool, &offsets, &wt, bias, y_n) }
        });
}

/// One image: `y_n[py, px, oc]` for `x_n: [c, h, w]`, 32 output channels at a time (16 for a
/// last group of 16).
///
/// # Safety
/// The CPU has AVX-512 F; `x_n` is one image of `g`, `offsets` its `k` tap offsets, `wt` is
/// `[k, oc]`, `y_n` is `[poh·pow, oc]` with `oc` a multiple of 16, and `pool` fits the output.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn image_avx512(
    x_n: &[f32],
    g: &Geometry,
    pool: &Geometry,
    offsets: &[usize],
    wt: &[f32],
    bias: &[f32],
    y_n: &mut [f32],
) {
    let o = bias.len();
    // The tap count as a constant, so that a group's weights are a fixed set of registers
    // (read from memory at every tap, the loads outnumber what the load ports serve).
    macro_rules! with_taps {
        ($($k:literal)*) => {
            match offsets.len() {
                $($k => {
                    let mut group = 0;
                    while group < o {
                        if o - group >= 2 * LANES {
                            // SAFETY: channels group … group+31 exist; the rest is this
                            // function's contract.
                            unsafe { channel_group::<2, $k>(x_n, g, pool, offsets, wt, bias, group, y_n) };
                            group += 2 * LANES;
                        } else {
                            // SAFETY: as above, for channels group … group+15.
                            unsafe { channel_group::<1, $k>(x_n, g, pool, offsets, wt, bias, group, y_n) };
                            group += LANES;
                        }
                    }
                })*
                k => unreachable!("{k} taps: more than MAX_TAPS"),
            }
        };
    }
    with_taps!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
}

/// The pooled outputs of channels `first … first + 16·V − 1` of one image, `V` registers each.
///
/// # Safety
/// As [`image_avx512`], `offsets` has `K` taps and `first + 16·V ≤ oc`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn channel_group<const V: usize, const K: usize>(
    x_n: &[f32],
    g: &Geometry,
    pool: &Geometry,
    offsets: &[usize],
    wt: &[f32],
    bias: &[f32],
    first: usize,
    y_n: &mut [f32],
) {
    use std::arch::x86_64::*;
    let o = bias.len();
    let (w, s) = (g.width, pool.stride);
    // SAFETY (all loads and stores below): tap `t`'s weights for the group are
    // `wt[t·o + first …][..16·V]`; a window position (oy, ox) < (oh, ow) plus any tap offset is
    // inside the image (stride 1, no padding); pooled position `q` is row `q` of `y_n`.
    let taps: [(usize, [__m512; V]); K] = std::array::from_fn(|t| {
        let at = wt.as_ptr().wrapping_add(t * o + first);
        (
            offsets[t],
            std::array::from_fn(|v| unsafe { _mm512_loadu_ps(at.add(v * LANES)) }),
        )
    });
    let b: [__m512; V] =
        std::array::from_fn(|v| unsafe { _mm512_loadu_ps(bias.as_ptr().add(first + v * LANES)) });
    let pixels = x_n.as_ptr();
    for py in 0..pool.out_h() {
        for px in 0..pool.out_w() {
            let mut best = [_mm512_set1_ps(f32::NEG_INFINITY); V];
            for i in 0..pool.kernel_h {
                let corner = (py * s + i) * w + px * s;
                for j in 0..pool.kernel_w {
                    let origin = corner + j;
                    let mut acc = [_mm512_setzero_ps(); V];
                    for (offset, weights) in &taps {
                        let pixel = _mm512_set1_ps(unsafe { *pixels.add(origin + offset) });
                        for v in 0..V {
                            acc[v] = _mm512_fmadd_ps(pixel, weights[v], acc[v]);
                        }
                    }
                    for v in 0..V {
                        best[v] = _mm512_max_ps(best[v], acc[v]);
                    }
                }
            }
            let out = y_n
                .as_mut_ptr()
                .wrapping_add((py * pool.out_w() + px) * o + first);
            for v in 0..V {
                let pooled = _mm512_max_ps(_mm512_add_ps(best[v], b[v]), _mm512_setzero_ps());
                unsafe { _mm512_storeu_ps(out.add(v * LANES), pooled) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv_pool::{Layout, conv2d_relu_max_pool_infer};

    #[test]
    fn equals_the_channel_first_kernel_transposed() {
        let mut r = crate::rng::Rng::new(5);
        // (channels, out channels, h, w, kernel, pool window, pool stride): the book's first
        // layer, a last group of 16 channels, several input channels, a 2 × 2 patch, odd
        // sizes that leave a row and a column out of the pooling, overlapping windows.
        let cases = [
            (1, 32, 28, 28, 3, 2, 2),
            (1, 48, 9, 11, 3, 2, 2),
            (2, 16, 8, 7, 2, 3, 2),
            (1, 64, 10, 13, 3, 2, 1),
        ];
        for (c, o, h, w, kk, pk, ps) in cases {
            let g = Geometry {
                channels: c,
                height: h,
                width: w,
                kernel_h: kk,
                kernel_w: kk,
                stride: 1,
                padding: 0,
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
            if !applies(&g, o, &pool) {
                return; // a CPU without AVX-512: the channel-first kernels run instead
            }
            let n = 3;
            let mut draw =
                |len: usize| -> Vec<f32> { (0..len).map(|_| r.uniform_range(-1.0, 1.0)).collect() };
            let (x, wt, b) = (draw(n * g.image_len()), draw(o * g.patch_len()), draw(o));
            let q = pool.out_len();
            let mut chw = vec![f32::NAN; n * o * q];
            conv2d_relu_max_pool_infer(
                &x,
                Layout::ChannelsFirst,
                &g,
                n,
                &wt,
                &b,
                o,
                &pool,
                Layout::ChannelsFirst,
                &mut chw,
            );
            let mut hwc = vec![f32::NAN; n * o * q];
            conv2d_relu_max_pool_hwc(&x, &g, n, &wt, &b, o, &pool, &mut hwc);
            for img in 0..n {
                for oc in 0..o {
                    for at in 0..q {
                        let (a, e) = (hwc[(img * q + at) * o + oc], chw[(img * o + oc) * q + at]);
                        assert!(
                            (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                            "{g:?} {pool:?}: image {img}, channel {oc}, position {at}: {a} vs {e}"
                        );
                    }
                }
            }
        }
    }
}
