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

use rayon::prelude::*;

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
/// of [`im2col`]). `dx` is overwritten, not accumulated.
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
    dx.fill(0.0);
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

/// Unrolls a batch `x: [n, c, h, w]` into one matrix `cols: [c·kh·kw, n·oh·ow]` (image `b`
/// fills columns `b·oh·ow .. (b+1)·oh·ow`), so that one product `W · cols` convolves the whole
/// batch. Rows are filled in parallel.
///
/// **Panics** if a slice length does not match `g` and `n`.
#[track_caller]
pub fn im2col_batch(x: &[f32], g: &Geometry, n: usize, cols: &mut [f32]) {
    assert_eq!(
        x.len(),
        n * g.image_len(),
        "im2col_batch: input length vs {n} images of {g:?}"
    );
    assert_eq!(
        cols.len(),
        g.patch_len() * n * g.out_len(),
        "im2col_batch: columns length vs {g:?}"
    );
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.out_len());
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    cols.par_chunks_mut(n * p).enumerate().for_each(|(r, row)| {
        let (c, i, j) = (r / (kh * kw), (r / kw) % kh, r % kw);
        let ox_lo = (g.padding.saturating_sub(j)).div_ceil(g.stride).min(ow);
        let ox_hi = ((g.width + g.padding).saturating_sub(j))
            .div_ceil(g.stride)
            .min(ow)
            .max(ox_lo);
        for (b, out_b) in row.chunks_exact_mut(p).enumerate() {
            let plane = &x[(b * g.channels + c) * g.height * g.width..][..g.height * g.width];
            for oy in 0..oh {
                let out = &mut out_b[oy * ow..(oy + 1) * ow];
                let Some(y) = (oy * g.stride + i)
                    .checked_sub(g.padding)
                    .filter(|&y| y < g.height)
                else {
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
    });
}

/// The adjoint of [`im2col_batch`]: adds `cols: [c·kh·kw, n·oh·ow]` back onto the images
/// `dx: [n, c, h, w]` (overwritten). Images are processed in parallel.
///
/// **Panics** if a slice length does not match `g` and `n`.
#[track_caller]
pub fn col2im_batch(cols: &[f32], g: &Geometry, n: usize, dx: &mut [f32]) {
    assert_eq!(
        dx.len(),
        n * g.image_len(),
        "col2im_batch: input length vs {n} images of {g:?}"
    );
    assert_eq!(
        cols.len(),
        g.patch_len() * n * g.out_len(),
        "col2im_batch: columns length vs {g:?}"
    );
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.out_len());
    dx.par_chunks_mut(g.image_len())
        .enumerate()
        .for_each(|(b, image)| {
            image.fill(0.0);
            for c in 0..g.channels {
                let plane = &mut image[c * g.height * g.width..(c + 1) * g.height * g.width];
                for i in 0..g.kernel_h {
                    for j in 0..g.kernel_w {
                        let r = (c * g.kernel_h + i) * g.kernel_w + j;
                        let row = &cols[r * n * p + b * p..][..p];
                        let ox_lo = (g.padding.saturating_sub(j)).div_ceil(g.stride).min(ow);
                        let ox_hi = ((g.width + g.padding).saturating_sub(j))
                            .div_ceil(g.stride)
                            .min(ow)
                            .max(ox_lo);
                        for oy in 0..oh {
                            let Some(y) = (oy * g.stride + i)
                                .checked_sub(g.padding)
                                .filter(|&y| y < g.height)
                            else {
                                continue;
                            };
                            let dst = &mut plane[y * g.width..(y + 1) * g.width];
                            let src = &row[oy * ow + ox_lo..oy * ow + ox_hi];
                            if ox_lo == ox_hi {
                                continue;
                            }
                            let x0 = ox_lo * g.stride + j - g.padding;
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
        });
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
                let lhs: f32 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
                let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
                assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
                // The batched layout holds the same columns, image after image in each row.
                let two: Vec<f32> = x.iter().chain(x.iter()).map(|v| v * 2.0).collect();
                let mut batch = vec![f32::NAN; 2 * cols.len()];
                im2col_batch(&two, &g, 2, &mut batch);
                let p = g.out_len();
                for (r, row) in batch.chunks_exact(2 * p).enumerate() {
                    for b in 0..2 {
                        let want: Vec<f32> =
                            cols[r * p..(r + 1) * p].iter().map(|v| v * 2.0).collect();
                        assert_eq!(&row[b * p..(b + 1) * p], want.as_slice());
                    }
                }
                let mut back2 = vec![0.0; 2 * x.len()];
                let c2: Vec<f32> = batch.iter().map(|v| v * 0.5).collect();
                col2im_batch(&c2, &g, 2, &mut back2);
                let mut back1 = vec![0.0; x.len()];
                col2im(&cols, &g, &mut back1);
                for b in 0..2 {
                    for (u, v) in back2[b * x.len()..(b + 1) * x.len()].iter().zip(&back1) {
                        assert!((u - v).abs() < 1e-5);
                    }
                }
            }
        }
    }
}
