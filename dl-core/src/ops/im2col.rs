//! im2col: unrolling image patches into the columns of a matrix, so that a convolution
//! becomes one matrix product.
//!
//! For one image `x` of shape `[c, h, w]`, a `kh × kw` kernel, stride `s` and zero padding `p`,
//! the output has `oh = (h + 2p − kh) / s + 1` rows and `ow = (w + 2p − kw) / s + 1` columns, and
//!
//! ```text
//! cols[(ci, i, j), (oy, ox)] = x[ci, oy·s − p + i, ox·s − p + j]     (0 outside the image)
//! cols: [c·kh·kw, oh·ow]
//! ```
//!
//! so `y = W · cols` with `W: [out_c, c·kh·kw]`. col2im is its adjoint: it adds every column
//! entry back onto the pixel it was copied from (`∂L/∂x = col2im(Wᵀ · ∂L/∂y)`).

use crate::ops::fast_math::with_best_simd;

/// [`im2col`] for stride 1 and no padding (every window inside the image): each row of the
/// columns is `oh` straight runs of `ow` pixels.
#[inline(always)]
fn im2col_dense(x: &[f32], g: &Geometry, cols: &mut [f32]) {
    let (oh, ow, w) = (g.out_h(), g.out_w(), g.width);
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for plane in x.chunks_exact(g.height * w) {
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                let row = rows.next().expect("patch_len rows");
                for (oy, out) in row.chunks_exact_mut(ow).enumerate() {
                    copy_short_run(&plane[(oy + i) * w + j..][..ow], out);
                }
            }
        }
    }
}

/// Lanes of one piece of [`copy_short_run`]: one AVX2 register of `f32`.
const RUN_PIECE: usize = 8;

/// `dst = src` for a run of a few dozen values (one output row of a window: 11 values in the
/// book CNN's second layer, 26 in its first), in whole pieces of [`RUN_PIECE`] values, the last
/// one overlapping the one before it when the length is not a multiple of the piece. The
/// compiler otherwise turns the copy into a call of `memcpy`, whose set-up costs as much as
/// copying 11 values: it was a quarter of im2col's time.
#[inline(always)]
fn copy_short_run(src: &[f32], dst: &mut [f32]) {
    let len = dst.len();
    assert_eq!(src.len(), len, "copy_short_run: lengths");
    if len < RUN_PIECE {
        dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
        return;
    }
    let piece = |at: usize, dst: &mut [f32]| {
        let from: [f32; RUN_PIECE] = src[at..at + RUN_PIECE].try_into().expect("piece");
        dst[at..at + RUN_PIECE].copy_from_slice(&from);
    };
    let mut at = 0;
    while at + RUN_PIECE <= len {
        piece(at, dst);
        at += RUN_PIECE;
    }
    if at < len {
        piece(len - RUN_PIECE, dst);
    }
}

/// [`col2im`] for stride 1 and no padding: the adjoint of [`im2col_dense`].
#[inline(always)]
fn col2im_dense(cols: &[f32], g: &Geometry, dx: &mut [f32]) {
    let (ow, w) = (g.out_w(), g.width);
    let mut rows = cols.chunks_exact(g.out_len());
    for plane in dx.chunks_exact_mut(g.height * w) {
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                let row = rows.next().expect("patch_len rows");
                for (oy, src) in row.chunks_exact(ow).enumerate() {
                    let dst = &mut plane[(oy + i) * w + j..][..ow];
                    dst.iter_mut().zip(src).for_each(|(d, v)| *d += v);
                }
            }
        }
    }
}

/// The sizes of a 2-D convolution or pooling window over NCHW images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels.
    pub channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Step between windows (both directions).
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

impl Geometry {
    /// Output height `(h + 2p − kh) / s + 1`.
    pub fn out_h(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel_h) / self.stride + 1
    }
    /// Output width `(w + 2p − kw) / s + 1`.
    pub fn out_w(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel_w) / self.stride + 1
    }
    /// Rows of the column matrix: `c·kh·kw`.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }
    /// Output positions per channel: `oh·ow`.
    pub fn out_len(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// Values in one input image: `c·h·w`.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    /// True if the (padded) image holds at least one window.
    pub fn fits(&self) -> bool {
        self.stride > 0
            && self.height + 2 * self.padding >= self.kernel_h
            && self.width + 2 * self.padding >= self.kernel_w
    }
}

/// Unrolls one image `x: [c, h, w]` into `cols: [c·kh·kw, oh·ow]` (every entry written).
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn im2col(x: &[f32], g: &Geometry, cols: &mut [f32]) {
    assert_eq!(
        x.len(),
        g.image_len(),
        "im2col: image length vs geometry {g:?}"
    );
    assert_eq!(
        cols.len(),
        g.patch_len() * g.out_len(),
        "im2col: columns length vs geometry {g:?}"
    );
    if g.stride == 1 && g.padding == 0 {
        return with_best_simd(
            #[inline(always)]
            || im2col_dense(x, g, cols),
        );
    }
    let (oh, ow) = (g.out_h(), g.out_w());
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for c in 0..g.channels {
        let plane = &x[c * g.height * g.width..(c + 1) * g.height * g.width];
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                let row = rows.next().expect("patch_len rows");
                // Output columns whose input column is inside the image: [ox_lo, ox_hi).
                let ox_lo = (g.padding.saturating_sub(j)).div_ceil(g.stride).min(ow);
                let ox_hi = ((g.width + g.padding).saturating_sub(j))
                    .div_ceil(g.stride)
                    .min(ow)
                    .max(ox_lo);
                for oy in 0..oh {
                    let out = &mut row[oy * ow..(oy + 1) * ow];
                    let y = (oy * g.stride + i)
                        .checked_sub(g.padding)
                        .filter(|&y| y < g.height);
                    let Some(y) = y else {
                        out.fill(0.0);
                        continue;
                    };
                    let src = &plane[y * g.width..(y + 1) * g.width];
                    out[..ox_lo].fill(0.0);
                    out[ox_hi..].fill(0.0);
                    if ox_lo == ox_hi {
                        continue;
                    }
                    let x0 = ox_lo * g.stride + j - g.padding;
                    if g.stride == 1 {
                        out[ox_lo..ox_hi].copy_from_slice(&src[x0..x0 + (ox_hi - ox_lo)]);
                    } else {
                        for (k, o) in out[ox_lo..ox_hi].iter_mut().enumerate() {
                            *o = src[x0 + k * g.stride];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the columns `cols: [c·kh·kw, oh·ow]` back onto the image `dx: [c, h, w]` (the adjoint
/// of [`im2col`]). `dx` is accumulated into: pass zeros for the plain adjoint.
///
/// **Panics** if a slice length does not match `g`.
#[track_caller]
pub fn col2im(cols: &[f32], g: &Geometry, dx: &mut [f32]) {
    assert_eq!(
        dx.len(),
        g.image_len(),
        "col2im: image length vs geometry {g:?}"
    );
    assert_eq!(
        cols.len(),
        g.patch_len() * g.out_len(),
        "col2im: columns length vs geometry {g:?}"
    );
    if g.stride == 1 && g.padding == 0 {
        return with_best_simd(
            #[inline(always)]
            || col2im_dense(cols, g, dx),
        );
    }
    let (oh, ow) = (g.out_h(), g.out_w());
    let mut rows = cols.chunks_exact(oh * ow);
    for c in 0..g.channels {
        let plane = &mut dx[c * g.height * g.width..(c + 1) * g.height * g.width];
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                let row = rows.next().expect("patch_len rows");
                // Output columns whose input column is inside the image: [ox_lo, ox_hi).
                let ox_lo = (g.padding.saturating_sub(j)).div_ceil(g.stride).min(ow);
                let ox_hi = ((g.width + g.padding).saturating_sub(j))
                    .div_ceil(g.stride)
                    .min(ow)
                    .max(ox_lo);
                let x0 = (ox_lo * g.stride + j).wrapping_sub(g.padding);
                for oy in 0..oh {
                    let Some(y) = (oy * g.stride + i)
                        .checked_sub(g.padding)
                        .filter(|&y| y < g.height)
                    else {
                        continue;
                    };
                    let dst = &mut plane[y * g.width..(y + 1) * g.width];
                    let src = &row[oy * ow + ox_lo..oy * ow + ox_hi];
                    if src.is_empty() {
                        continue;
                    }
                    if g.stride == 1 {
                        dst[x0..x0 + src.len()]
                            .iter_mut()
                            .zip(src)
                            .for_each(|(d, v)| *d += v);
                    } else {
                        for (k, v) in src.iter().enumerate() {
                            dst[x0 + k * g.stride] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(stride: usize, padding: usize) -> Geometry {
        Geometry {
            channels: 2,
            height: 5,
            width: 6,
            kernel_h: 3,
            kernel_w: 2,
            stride,
            padding,
        }
    }

    /// The definition, entry by entry.
    fn reference(x: &[f32], g: &Geometry) -> Vec<f32> {
        let (oh, ow) = (g.out_h(), g.out_w());
        let mut cols = vec![0.0; g.patch_len() * oh * ow];
        for c in 0..g.channels {
            for i in 0..g.kernel_h {
                for j in 0..g.kernel_w {
                    let r = (c * g.kernel_h + i) * g.kernel_w + j;
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let y = (oy * g.stride + i) as isize - g.padding as isize;
                            let xx = (ox * g.stride + j) as isize - g.padding as isize;
                            if y >= 0
                                && xx >= 0
                                && (y as usize) < g.height
                                && (xx as usize) < g.width
                            {
                                cols[r * oh * ow + oy * ow + ox] =
                                    x[(c * g.height + y as usize) * g.width + xx as usize];
                            }
                        }
                    }
                }
            }
        }
        cols
    }

    #[test]
    fn the_dense_path_copies_runs_of_every_length() {
        // Stride 1, no padding: runs of ow = 1 … 20 values (under, at and over the 8-value
        // pieces, multiples of them or not), 3 channels, a 3 × 2 kernel.
        let mut r = crate::rng::Rng::new(5);
        for width in 2..=21 {
            let g = Geometry {
                channels: 3,
                height: 7,
                width,
                kernel_h: 3,
                kernel_w: 2,
                stride: 1,
                padding: 0,
            };
            let x: Vec<f32> = (0..g.image_len())
                .map(|_| r.uniform_range(-1.0, 1.0))
                .collect();
            let mut cols = vec![f32::NAN; g.patch_len() * g.out_len()];
            im2col(&x, &g, &mut cols);
            assert_eq!(cols, reference(&x, &g), "width {width}");
        }
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_adjoint() {
        let mut r = crate::rng::Rng::new(2);
        for stride in 1..=3 {
            for padding in 0..=2 {
                let g = geometry(stride, padding);
                let x: Vec<f32> = (0..g.image_len())
                    .map(|_| r.uniform_range(-1.0, 1.0))
                    .collect();
                let mut cols = vec![f32::NAN; g.patch_len() * g.out_len()];
                im2col(&x, &g, &mut cols);
                assert_eq!(cols, reference(&x, &g), "stride {stride} padding {padding}");
                // <im2col(x), c> == <x, col2im(c)>
                let c: Vec<f32> = (0..cols.len())
                    .map(|_| r.uniform_range(-1.0, 1.0))
                    .collect();
                let mut back = vec![0.0; x.len()];
                col2im(&c, &g, &mut back);
                let mut twice = back.clone();
                col2im(&c, &g, &mut twice); // accumulates
                assert!(
                    twice
                        .iter()
                        .zip(&back)
                        .all(|(t, b)| (t - 2.0 * b).abs() < 1e-5)
                );
                let lhs: f32 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
                let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
                assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
            }
        }
    }
}
