//! Convolution, ReLU and max pooling fused for training, channels-last, with the backward
//! products summed over the pooling windows' winners only.
//!
//! Max pooling passes each window's gradient to one position of the convolution output, the
//! window's winner, and a window the ReLU zeroed passes none. So in each channel's plane of
//! `∂L/∂z` at most one entry per window is not 0: 25 of the 121 in the book's second layer. The
//! dense backward products ([`crate::ops::conv`]) multiply all the zeros too; here each is a
//! sum over the winners. With `W'[c, (i, j, ci)] = W[c, (ci, i, j)]`, the weights in the
//! channels-last patch order, `patch(r)` the window of output position `r` in the
//! channels-last image, `w[c, q]` the winner of window `q` in channel `c` and `g[c, q]` the
//! gradient of its pooled output:
//!
//! ```text
//! ∂L/∂b[c]       += Σ_q g[c, q]
//! ∂L/∂W'[c, :]   += Σ_q g[c, q] · patch(w[c, q])                   (one sum per channel)
//! ∂L/∂patch(r)    = Σ_{(c, q) : w[c, q] = r} g[c, q] · W'[c, :]    (one sum per position)
//! ```
//!
//! the sums running over the active windows only, and `∂L/∂x` is every `∂L/∂patch(r)` added
//! back onto the pixels of its window. A patch is `kh` runs of `kw·c` contiguous values of the
//! channels-last image, so the sums read the runs where they lie, into accumulators held in
//! registers. Against the two dense products this is `oh·ow / (poh·pow)` times fewer
//! multiply-adds (121 / 25 = 4.8 for the book's second layer), more where the ReLU is 0.
//!
//! The forward pass is the inference's channels-last product
//! ([`crate::ops::channels_last_conv`]); it keeps the channels-last images for backward and
//! records each window's winner as it pools.

use crate::ops::channels_last_conv::{
    IMAGES_TOGETHER, channels_last_weight, patch_rows, to_channels_last,
};
use crate::ops::conv_pool_train::INACTIVE;
use crate::ops::fast_math::with_best_simd;
use crate::ops::gemm::{Output, Stored, gemm};
use crate::ops::im2col::Geometry;
use crate::ops::implicit_conv_product::{self, implicit_product};
use crate::ops::transpose::transpose;
use rayon::prelude::*;

/// What the forward pass keeps for backward: the channels-last images, `[n, h, w, c]`.
pub(crate) fn kept_len(g: &Geometry, n: usize) -> usize {
    n * g.image_len()
}

/// The forward pass, with the arguments of
/// [`crate::ops::conv_pool_train::conv2d_relu_max_pool_forward`] (whose asserts have checked
/// them), keeping `hwc: [n, h, w, c]` ([`kept_len`] long).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward(
    x: &[f32],
    g: &Geometry,
    weight: &[f32],
    bias: &[f32],
    out_channels: usize,
    pool: &Geometry,
    hwc: &mut [f32],
    winners: &mut [u32],
    y: &mut [f32],
) {
    let (k, p, o, c, image) = (
        g.patch_len(),
        g.out_len(),
        out_channels,
        g.channels,
        g.image_len(),
    );
    let pooled = pool.out_len();
    let wt = channels_last_weight(weight, g, o);
    let implicit = implicit_conv_product::applies(g, o);
    let grouped = if implicit {
        implicit_conv_product::weight_groups(&wt, k, o)
    } else {
        Vec::new()
    };
    let images = IMAGES_TOGETHER;
    x.par_chunks(images * image)
        .zip(hwc.par_chunks_mut(images * image))
        .zip(y.par_chunks_mut(images * o * pooled))
        .zip(winners.par_chunks_mut(images * o * pooled))
        .for_each_init(
            || {
                let patches = if implicit { 0 } else { images * p * k };
                (
                    vec![0.0; patches],
                    vec![0.0; images * p * o],
                    vec![0.0; pooled * o],
                    vec![0; pooled * o],
                )
            },
            |(patches, z, best, won), (((x_chunk, hwc_chunk), y_chunk), winners_chunk)| {
                let rows = x_chunk.len() / image * p;
                for (x_n, hwc_n) in x_chunk
                    .chunks_exact(image)
                    .zip(hwc_chunk.chunks_exact_mut(image))
                {
                    to_channels_last(x_n, c, hwc_n);
                }
                if implicit {
                    implicit_product(hwc_chunk, g, rows, &grouped, o, &mut z[..rows * o]);
                } else {
                    with_best_simd(
                        #[inline(always)]
                        || {
                            for (hwc_n, patches_n) in
                                hwc_chunk.chunks_exact(image).zip(patches.chunks_mut(p * k))
                            {
                                patch_rows(hwc_n, g, patches_n);
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
                        for ((z_n, y_n), winners_n) in z[..rows * o]
                            .chunks_exact(p * o)
                            .zip(y_chunk.chunks_exact_mut(o * pooled))
                            .zip(winners_chunk.chunks_exact_mut(o * pooled))
                        {
                            pool_with_winners(z_n, pool, bias, (best, won), y_n, winners_n);
                        }
                    },
                );
            },
        );
}

/// Max pooling of one image's `z: [oh·ow, oc]` (channels-last), all channels at once, with
/// bias and ReLU on the pooled values: `y_n: [oc, poh·pow]` and the winners `winners_n` (the
/// same shape: positions in the `oh × ow` plane, the first of equals, or [`INACTIVE`]), through
/// the channels-last scratch `best` and `won` (`[poh·pow, oc]`).
#[inline(always)]
fn pool_with_winners(
    z: &[f32],
    pool: &Geometry,
    bias: &[f32],
    (best, won): (&mut [f32], &mut [u32]),
    y_n: &mut [f32],
    winners_n: &mut [u32],
) {
    let o = bias.len();
    let (w, s, pooled) = (pool.width, pool.stride, pool.out_len());
    let windows = (0..pool.out_h()).flat_map(|py| (0..pool.out_w()).map(move |px| (py, px)));
    for ((best, won), (py, px)) in best
        .chunks_exact_mut(o)
        .zip(won.chunks_exact_mut(o))
        .zip(windows)
    {
        let origin = py * s * w + px * s;
        best.copy_from_slice(&z[origin * o..][..o]);
        won.fill(origin as u32);
        for i in 0..pool.kernel_h {
            for j in 0..pool.kernel_w {
                let tap = origin + i * w + j;
                let row = &z[tap * o..][..o];
                for ((m, at), &v) in best.iter_mut().zip(won.iter_mut()).zip(row) {
                    let larger = v > *m;
                    *m = if larger { v } else { *m };
                    *at = if larger { tap as u32 } else { *at };
                }
            }
        }
        for ((m, at), &b) in best.iter_mut().zip(won.iter_mut()).zip(bias) {
            let biased = *m + b;
            let active = biased > 0.0;
            *m = if active { biased } else { 0.0 };
            *at = if active { *at } else { INACTIVE };
        }
    }
    to_channels_last(best, pooled, y_n);
    for (q, won) in won.chunks_exact(o).enumerate() {
        for (ch, &at) in won.iter().enumerate() {
            winners_n[ch * pooled + q] = at;
        }
    }
}

/// The backward pass, with the arguments of
/// [`crate::ops::conv_pool_train::conv2d_relu_max_pool_backward`] (whose asserts have checked
/// them) and the `hwc` images [`forward`] kept.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    grad_y: &[f32],
    g: &Geometry,
    n: usize,
    weight: &[f32],
    out_channels: usize,
    pool: &Geometry,
    hwc: &[f32],
    winners: &[u32],
    grad_weight: &mut [f32],
    grad_bias: &mut [f32],
    grad_x: Option<&mut [f32]>,
) {
    let (k, o, c, image) = (g.patch_len(), out_channels, g.channels, g.image_len());
    let pooled = pool.out_len();
    let wanted_x = grad_x.is_some();
    // W' as rows, [oc, (i, j, ci)]: only the input gradient reads it.
    let weight_rows = if wanted_x {
        transpose(&channels_last_weight(weight, g, o), k, o)
    } else {
        Vec::new()
    };
    let padded = Padded::new(g);
    // One contiguous run of images per thread; each run sums its own weight gradient.
    let per_task = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let mut gxs: Vec<Option<&mut [f32]>> = match grad_x {
        Some(grad_x) => grad_x.chunks_mut(per_task * image).map(Some).collect(),
        None => Vec::new(),
    };
    gxs.resize_with(n.div_ceil(per_task), Default::default);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = hwc
        .par_chunks(per_task * image)
        .zip(gxs.into_par_iter())
        .enumerate()
        .map(|(task, (hwc_run, mut gx_run))| {
            let (mut gw, mut gb) = (vec![0.0; o * k], vec![0.0; o]);
            let mut scratch = Scratch::new(&padded, pooled * o, wanted_x);
            for (i, hwc_n) in hwc_run.chunks_exact(image).enumerate() {
                let at = (task * per_task + i) * o * pooled;
                let (gy_n, winners_n) =
                    (&grad_y[at..at + o * pooled], &winners[at..at + o * pooled]);
                let gx_n = gx_run
                    .as_deref_mut()
                    .map(|gx| &mut gx[i * image..(i + 1) * image]);
                with_best_simd(
                    #[inline(always)]
                    || {
                        let x_n = padded.image(hwc_n, &mut scratch.x);
                        weight_gradient(
                            &padded,
                            x_n,
                            gy_n,
                            winners_n,
                            &mut gw,
                            &mut gb,
                            &mut scratch.picks,
                        );
                        if let Some(gx_n) = gx_n {
                            input_gradient(
                                &padded,
                                &weight_rows,
                                gy_n,
                                winners_n,
                                &mut scratch,
                                gx_n,
                            );
                        }
                    },
                );
            }
            (gw, gb)
        })
        .collect();
    // ∂W' back in the layers' patch order, (ci, i, j).
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    for (gw, gb) in partials {
        for (filter, rows) in grad_weight.chunks_exact_mut(k).zip(gw.chunks_exact(k)) {
            for ci in 0..c {
                for i in 0..kh {
                    for j in 0..kw {
                        filter[(ci * kh + i) * kw + j] += rows[(i * kw + j) * c + ci];
                    }
                }
            }
        }
        grad_bias.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
    }
}

/// The channels-last image with its zero padding around it, `[h + 2p, w + 2p, c]`, in which
/// every window lies whole: output position `(oy, ox)`'s window starts at
/// `((oy·s)·wp + ox·s)·c` and its `kh` runs of `kw·c` values are `wp·c` apart.
struct Padded {
    g: Geometry,
    /// Width of the padded image.
    wp: usize,
    /// Length of the padded image.
    len: usize,
    /// Where each output position's window starts (a table: a division per winner cost 5 % of
    /// the book CNN's training).
    origins: Vec<u32>,
}

impl Padded {
    fn new(g: &Geometry) -> Self {
        let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
        let (ow, s, c) = (g.out_w(), g.stride, g.channels);
        let origins = (0..g.out_len())
            .map(|r| (((r / ow) * s * wp + (r % ow) * s) * c) as u32)
            .collect();
        Padded {
            g: *g,
            wp,
            len: hp * wp * c,
            origins,
        }
    }

    /// Where output position `r`'s window starts.
    #[inline(always)]
    fn origin(&self, r: usize) -> usize {
        self.origins[r] as usize
    }

    /// The distance between two runs of a window.
    #[inline(always)]
    fn run_step(&self) -> usize {
        self.wp * self.g.channels
    }

    /// One run of a window: `kw·c` values.
    #[inline(always)]
    fn run(&self) -> usize {
        self.g.kernel_w * self.g.channels
    }

    /// `hwc_n` itself without padding, else copied into the middle of `buffer` (zeros around).
    #[inline(always)]
    fn image<'a>(&self, hwc_n: &'a [f32], buffer: &'a mut [f32]) -> &'a [f32] {
        let (p, c, w) = (self.g.padding, self.g.channels, self.g.width);
        if p == 0 {
            return hwc_n;
        }
        for (y, row) in hwc_n.chunks_exact(w * c).enumerate() {
            buffer[((y + p) * self.wp + p) * c..][..w * c].copy_from_slice(row);
        }
        buffer
    }

    /// `dx_hwc = the middle of padded` (dropping the padding), in place of `dx_hwc`.
    #[inline(always)]
    fn crop_into(&self, padded: &[f32], dx_hwc: &mut [f32]) {
        let (p, c, w) = (self.g.padding, self.g.channels, self.g.width);
        for (y, row) in dx_hwc.chunks_exact_mut(w * c).enumerate() {
            row.copy_from_slice(&padded[((y + p) * self.wp + p) * c..][..w * c]);
        }
    }
}

/// One thread's buffers for [`backward`].
struct Scratch {
    /// The padded image (its border stays 0).
    x: Vec<f32>,
    /// The gradient of the padded image, channels-last.
    dx: Vec<f32>,
    /// The gradient of the image, channels-last and then channels-first.
    dx_hwc: Vec<f32>,
    dx_chw: Vec<f32>,
    /// The active windows: (where the run or row starts, gradient).
    picks: Vec<(u32, f32)>,
    /// The active windows in order of their winners, where each winner's start, and where
    /// the next of each goes while they are sorted.
    by_winner: Vec<(u32, f32)>,
    starts: Vec<usize>,
    next: Vec<usize>,
}

impl Scratch {
    fn new(padded: &Padded, windows: usize, input_gradient: bool) -> Self {
        let image = padded.g.image_len();
        let (x, dx) = (
            if padded.g.padding > 0 { padded.len } else { 0 },
            if input_gradient { padded.len } else { 0 },
        );
        let dx_image = if input_gradient { image } else { 0 };
        Scratch {
            x: vec![0.0; x],
            dx: vec![0.0; dx],
            dx_hwc: vec![0.0; dx_image],
            dx_chw: vec![0.0; dx_image],
            picks: Vec::new(),
            by_winner: vec![(0, 0.0); windows],
            starts: vec![0; padded.g.out_len() + 1],
            next: vec![0; padded.g.out_len() + 1],
        }
    }
}

/// `∂L/∂b[c] += Σ_q g[c, q]` and `∂L/∂W'[c, :] += Σ_q g[c, q] · patch(w[c, q])` over one image's
/// active windows, `gw: [oc, (i, j, ci)]`.
#[inline(always)]
fn weight_gradient(
    padded: &Padded,
    x_n: &[f32],
    gy_n: &[f32],
    winners_n: &[u32],
    gw: &mut [f32],
    gb: &mut [f32],
    picks: &mut Vec<(u32, f32)>,
) {
    let (k, run, step) = (padded.g.patch_len(), padded.run(), padded.run_step());
    let pooled = gy_n.len() / gb.len();
    for (((gy_plane, w_plane), filter), b) in gy_n
        .chunks_exact(pooled)
        .zip(winners_n.chunks_exact(pooled))
        .zip(gw.chunks_exact_mut(k))
        .zip(gb.iter_mut())
    {
        picks.clear();
        for (&gv, &w) in gy_plane.iter().zip(w_plane) {
            if w != INACTIVE {
                *b += gv;
                picks.push((padded.origin(w as usize) as u32, gv));
            }
        }
        for (i, part) in filter.chunks_exact_mut(run).enumerate() {
            add_weighted_runs(part, x_n, i * step, picks);
        }
    }
}

/// `∂L/∂x_n += Σ_r ∂L/∂patch(r)`, each added back onto its window: the active windows sorted
/// by winner (a counting sort), each winner's sum of weight rows added run by run into the
/// padded gradient, which is then cropped and turned channels-first.
#[inline(always)]
fn input_gradient(
    padded: &Padded,
    weight_rows: &[f32],
    gy_n: &[f32],
    winners_n: &[u32],
    scratch: &mut Scratch,
    gx_n: &mut [f32],
) {
    let (k, run, step) = (padded.g.patch_len(), padded.run(), padded.run_step());
    let out_channels = weight_rows.len() / k;
    let pooled = gy_n.len() / out_channels;
    let (starts, next) = (&mut scratch.starts, &mut scratch.next);
    starts.fill(0);
    for &w in winners_n.iter().filter(|&&w| w != INACTIVE) {
        starts[w as usize + 1] += 1;
    }
    for r in 1..starts.len() {
        starts[r] += starts[r - 1];
    }
    next.copy_from_slice(starts);
    for (channel, (gy_plane, w_plane)) in gy_n
        .chunks_exact(pooled)
        .zip(winners_n.chunks_exact(pooled))
        .enumerate()
    {
        for (&gv, &w) in gy_plane.iter().zip(w_plane) {
            if w != INACTIVE {
                scratch.by_winner[next[w as usize]] = ((channel * k) as u32, gv);
                next[w as usize] += 1;
            }
        }
    }
    scratch.dx.fill(0.0);
    for r in 0..starts.len() - 1 {
        let picks = &scratch.by_winner[starts[r]..starts[r + 1]];
        if picks.is_empty() {
            continue;
        }
        let origin = padded.origin(r);
        for i in 0..padded.g.kernel_h {
            let part = &mut scratch.dx[origin + i * step..][..run];
            add_weighted_runs(part, weight_rows, i * run, picks);
        }
    }
    let dx_hwc: &[f32] = if padded.g.padding > 0 {
        padded.crop_into(&scratch.dx, &mut scratch.dx_hwc);
        &scratch.dx_hwc
    } else {
        &scratch.dx
    };
    let positions = padded.g.height * padded.g.width;
    to_channels_last(dx_hwc, positions, &mut scratch.dx_chw);
    gx_n.iter_mut()
        .zip(&scratch.dx_chw)
        .for_each(|(a, &v)| *a += v);
}

/// `out[l] += Σ_(start, g) ∈ picks  g · src[start + shift + l]` for `l < out.len()`: the
/// accumulators for 96 values at a time (a run of the book's second layer: 3 × 32 channels;
/// six AVX-512 or twelve AVX2 registers) stay in registers over all the picks.
#[inline(always)]
fn add_weighted_runs(out: &mut [f32], src: &[f32], shift: usize, picks: &[(u32, f32)]) {
    const WIDE: usize = 96;
    const NARROW: usize = 16;
    let mut at = 0;
    while at + WIDE <= out.len() {
        add_weighted_piece::<WIDE>(&mut out[at..at + WIDE], src, shift + at, picks);
        at += WIDE;
    }
    while at + NARROW <= out.len() {
        add_weighted_piece::<NARROW>(&mut out[at..at + NARROW], src, shift + at, picks);
        at += NARROW;
    }
    for (l, o) in out.iter_mut().enumerate().skip(at) {
        *o += picks
            .iter()
            .map(|&(start, g)| g * src[start as usize + shift + l])
            .sum::<f32>();
    }
}

/// [`add_weighted_runs`] for one piece of `L` values.
#[inline(always)]
fn add_weighted_piece<const L: usize>(
    out: &mut [f32],
    src: &[f32],
    shift: usize,
    picks: &[(u32, f32)],
) {
    let mut acc: [f32; L] = out.try_into().expect("a piece");
    for &(start, g) in picks {
        let row: &[f32; L] = src[start as usize + shift..][..L]
            .try_into()
            .expect("a piece");
        for (a, &v) in acc.iter_mut().zip(row) {
            *a = g.mul_add(v, *a);
        }
    }
    out.copy_from_slice(&acc);
}
