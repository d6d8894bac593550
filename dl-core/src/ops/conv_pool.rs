//! Convolution, ReLU and max pooling fused, for inference: each image's convolution output
//! stays in a buffer of its thread (in cache), and only the pooled values reach memory.
//!
//! Unfused, a convolution with ReLU followed by max pooling writes `y = relu(W·cols + b)` for
//! the whole batch (`[n, oc, oh, ow]`), then reads it all back to pool it. Since adding a
//! per-channel constant and `max(0, ·)` are both monotonic, they commute with the maximum over
//! a window (a window without padding is never empty):
//!
//! ```text
//! pool(relu(z + b)) = relu(pool(z) + b)       z_n = W · im2col(x_n): [oc, oh·ow]
//! ```
//!
//! so the bias and the ReLU are applied to the pooled values only (a quarter of them for
//! 2 × 2 windows), and `z_n` is a per-thread scratch buffer the size of one image's output.

use crate::ops::channels_last_conv::conv2d_relu_max_pool_channels_last;
use crate::ops::channels_last_direct_conv::{self, conv2d_relu_max_pool_hwc};
use crate::ops::conv::{SMALL_PATCH, small_patch_forward};
use crate::ops::direct_conv::{FILTERS_TOGETHER, direct_conv_applies, direct_conv_planes};
use crate::ops::fast_math::with_best_simd;
use crate::ops::im2col::{Geometry, im2col};
use crate::ops::pool::max_pool_plane;
use rayon::prelude::*;

/// How a batch of images lies in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `[n, c, h, w]` (NCHW): each channel a plane, the layers' standard layout.
    ChannelsFirst,
    /// `[n, h, w, c]` (NHWC): each position's channels together.
    ChannelsLast,
}

/// Whether [`conv2d_relu_max_pool_infer`] reads channels-last images for this convolution
/// (a large patch: its product is channels-last, and channel-first images are transposed
/// first).
pub fn reads_channels_last(g: &Geometry) -> bool {
    g.patch_len() > SMALL_PATCH
}

/// Whether [`conv2d_relu_max_pool_infer`] writes channels-last output for this convolution
/// and pooling on this CPU, and is fastest doing so (see [`crate::ops::channels_last_direct_conv`]).
pub fn writes_channels_last(g: &Geometry, out_channels: usize, pool: &Geometry) -> bool {
    g.patch_len() <= SMALL_PATCH && channels_last_direct_conv::applies(g, out_channels, pool)
}

/// `y = max_pool(relu(conv(x)))` over a batch of `n` images, nothing kept: `x: [n, c, h, w]`
/// (or `[n, h, w, c]` if `x_layout` says so), `weight: [oc, c·kh·kw]`, `bias: [oc]`, the
/// convolution's geometry `g` and the pooling window `pool` (its `height`/`width` are the
/// convolution's `oh`/`ow`, its padding 0); writes `y: [n, oc, poh, pow]` (or
/// `[n, poh, pow, oc]` for `y_layout` channels-last), every entry.
///
/// **Panics** if a slice length does not match the geometries, if `pool` has padding, or for
/// a channels-last input or output where [`reads_channels_last`] or [`writes_channels_last`]
/// does not hold.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d_relu_max_pool_infer(
    x: &[f32],
    x_layout: Layout,
    g: &Geometry,
    n: usize,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    pool: &Geometry,
    y_layout: Layout,
    y: &mut [f32],
) {
    let (k, p, o) = (g.patch_len(), g.out_len(), out_channels);
    let pooled = pool.out_len();
    assert_eq!(
        x.len(),
        n * g.image_len(),
        "conv2d_relu_max_pool_infer: input length vs {n} images of {g:?}"
    );
    assert_eq!(weight.len(), o * k, "conv2d_relu_max_pool_infer: weight");
    assert_eq!(bias.len(), o, "conv2d_relu_max_pool_infer: bias");
    assert!(
        pool.height == g.out_h() && pool.width == g.out_w() && pool.padding == 0 && pool.fits(),
        "conv2d_relu_max_pool_infer: pooling {pool:?} over the output of {g:?}"
    );
    assert_eq!(
        y.len(),
        n * o * pooled,
        "conv2d_relu_max_pool_infer: output [{n}, {o}, {pooled}]"
    );
    assert!(
        (x_layout == Layout::ChannelsFirst || reads_channels_last(g))
            && (y_layout == Layout::ChannelsFirst || writes_channels_last(g, o, pool)),
        "conv2d_relu_max_pool_infer: {x_layout:?} in, {y_layout:?} out for {g:?}"
    );
    // A large patch: one channels-last product per chunk of images (`ops::channels_last_conv`).
    if k > SMALL_PATCH {
        return conv2d_relu_max_pool_channels_last(x, x_layout, g, weight, bias, o, pool, y);
    }
    if y_layout == Layout::ChannelsLast {
        return conv2d_relu_max_pool_hwc(x, g, n, weight, bias, o, pool, y);
    }
    let no_bias = vec![0.0; o];
    // A small patch without stride or padding is convolved straight from the image, one
    // few output planes at a time, each pooled while it is in L1 (see `ops::direct_conv`).
    let direct = direct_conv_applies(g);
    let cols_len = if direct { 0 } else { k * p };
    x.par_chunks(g.image_len())
        .zip(y.par_chunks_mut(o * pooled))
        .for_each_init(
            || (vec![0.0; cols_len], vec![0.0; o * p]),
            |(cols, z), (x_n, y_n)| {
                if direct {
                    return with_best_simd(
                        #[inline(always)]
                        || {
                            const F: usize = FILTERS_TOGETHER;
                            for (group, (filters, y_group)) in weight
                                .chunks(F * k)
                                .zip(y_n.chunks_mut(F * pooled))
                                .enumerate()
                            {
                                let planes = filters.len() / k;
                                let z = &mut z[..planes * p];
                                if planes == F {
                                    direct_conv_planes::<F>(x_n, g, filters, z);
                                } else {
                                    for (filter, z_plane) in
                                        filters.chunks_exact(k).zip(z.chunks_exact_mut(p))
                                    {
                                        direct_conv_planes::<1>(x_n, g, filter, z_plane);
                                    }
                                }
                                for ((z_plane, y_plane), &b) in z
                                    .chunks_exact(p)
                                    .zip(y_group.chunks_exact_mut(pooled))
                                    .zip(&bias[group * F..])
                                {
                                    pool_bias_relu(z_plane, pool, b, y_plane);
                                }
                            }
                        },
                    );
                }
                im2col(x_n, g, cols);
                small_patch_forward(weight, &no_bias, cols, k, p, false, z);
                with_best_simd(
                    #[inline(always)]
                    || {
                        for ((z_plane, y_plane), &b) in z
                            .chunks_exact(p)
                            .zip(y_n.chunks_exact_mut(pooled))
                            .zip(bias)
                        {
                            pool_bias_relu(z_plane, pool, b, y_plane);
                        }
                    },
                );
            },
        );
}

/// `y = relu(max_pool(z) + b)` for one channel's plane `z` and its bias `b`.
#[inline(always)]
fn pool_bias_relu(z_plane: &[f32], pool: &Geometry, b: f32, y_plane: &mut [f32]) {
    max_pool_plane(z_plane, pool, y_plane);
    y_plane.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::conv2d_forward;
    use crate::ops::pool::max_pool_forward;

    /// The unfused path: the convolution with its fused ReLU over the whole batch, then the
    /// pooling layer's kernel.
    #[allow(clippy::too_many_arguments)]
    fn unfused(
        x: &[f32],
        g: &Geometry,
        n: usize,
        w: &[f32],
        b: &[f32],
        o: usize,
        pool: &Geometry,
    ) -> Vec<f32> {
        let mut y = vec![0.0; n * o * g.out_len()];
        conv2d_forward(x, g, n, w, b, o, true, &mut [], &mut [], &mut y);
        let mut pooled = vec![0.0; n * o * pool.out_len()];
        let mut arg = vec![0; pooled.len()];
        max_pool_forward(&y, pool, &mut pooled, &mut arg);
        pooled
    }

    #[test]
    fn equals_the_convolution_then_the_pooling() {
        let mut r = crate::rng::Rng::new(7);
        // (channels, out channels, h, w, kernel, stride, padding, pool window, pool stride):
        // small patches (register kernel) and large ones (GEMM), odd sizes that leave a row
        // and a column out of the pooling, channel counts not a multiple of 8, overlapping
        // and non-square-stride windows; for the channels-last product, patch runs a multiple
        // of 8 (packed straight from the images) or not, output channels not a multiple of 16.
        let cases = [
            (1, 5, 9, 11, 3, 1, 0, 2, 2),
            (1, 32, 28, 28, 3, 1, 0, 2, 2),
            (3, 7, 10, 9, 3, 1, 1, 2, 2),
            (5, 6, 12, 13, 3, 2, 1, 3, 2),
            (2, 9, 8, 7, 2, 1, 0, 2, 1),
            (6, 3, 11, 11, 5, 1, 2, 3, 3),
            (32, 64, 13, 13, 3, 1, 0, 2, 2),
            (7, 19, 9, 8, 3, 1, 0, 2, 2),
            (5, 17, 10, 11, 3, 2, 2, 2, 2),
            (8, 21, 9, 10, 3, 1, 0, 2, 2),
            (16, 5, 7, 7, 2, 1, 0, 2, 2),
            (1, 64, 9, 11, 3, 1, 0, 2, 2),
            (1, 32, 8, 7, 4, 1, 0, 3, 2),
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
            // Images not a multiple of the channels-last chunk, on 1 and 2 threads.
            for (n, threads) in [(3, 1), (9, 1), (9, 2), (1, 2)] {
                let mut draw = |len: usize| -> Vec<f32> {
                    (0..len).map(|_| r.uniform_range(-1.0, 1.0)).collect()
                };
                let (x, wt, b) = (draw(n * g.image_len()), draw(o * g.patch_len()), draw(o));
                let want = unfused(&x, &g, n, &wt, &b, o, &pool);
                let mut got = vec![f32::NAN; want.len()];
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool")
                    .install(|| {
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
                            &mut got,
                        )
                    });
                for (i, (a, e)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                        "{g:?} {pool:?} n {n}, {threads} threads: output {i}: {a} vs {e}"
                    );
                }
            }
        }
    }
}
