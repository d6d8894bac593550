//! Image shifts for data augmentation: a digit moved by a pixel is still the same digit.
//!
//! ```text
//! shift_image(x, dy, dx):   y[.., i, j] = x[.., i − dy, j − dx]   where 0 ≤ i − dy < h, 0 ≤ j − dx < w
//!                                       = 0                       elsewhere (the new border)
//! random_shifts(x, s, seed): every image of [n, c, h, w] moved by its own (dy, dx),
//!                            each drawn uniformly from −s … s with a seeded generator
//! ```
//!
//! A positive `dy` moves the picture down, a positive `dx` to the right; the pixels that leave
//! the frame are lost and the ones that enter are 0 (black on MNIST).

use crate::rng::Rng;
use crate::tensor::Tensor;
use ndarray::{Axis, s};

/// Source and destination ranges along one side of length `len` for a shift by `d`.
fn ranges(len: usize, d: isize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let k = d.unsigned_abs().min(len);
    if d >= 0 {
        (0..len - k, k..len)
    } else {
        (k..len, 0..len - k)
    }
}

/// One image (`[h, w]` or `[c, h, w]`, or a batch `[n, c, h, w]` moved as a whole) shifted by
/// `dy` rows and `dx` columns along its last two axes; uncovered pixels become 0.
///
/// **Panics** if the tensor has fewer than two axes.
///
/// ```
/// use dl_core::prelude::*;
/// let x = array![[1.0f32, 2.0], [3.0, 4.0]].into_dyn();
/// let down_right = dl_core::data::shift_image(&x, 1, 1);
/// assert_eq!(down_right, array![[0.0f32, 0.0], [0.0, 1.0]].into_dyn());
/// let up = dl_core::data::shift_image(&x, -1, 0);
/// assert_eq!(up, array![[3.0f32, 4.0], [0.0, 0.0]].into_dyn());
/// ```
#[track_caller]
pub fn shift_image(x: &Tensor, dy: isize, dx: isize) -> Tensor {
    let nd = x.ndim();
    assert!(
        nd >= 2,
        "shift_image: expected an image [.., h, w], got shape {:?}",
        x.shape()
    );
    let (h, w) = (x.shape()[nd - 2], x.shape()[nd - 1]);
    let (rows_from, rows_to) = ranges(h, dy);
    let (cols_from, cols_to) = ranges(w, dx);
    let mut out = Tensor::zeros(x.raw_dim());
    let mut target = out.view_mut();
    let mut source = x.view();
    target.slice_axis_inplace(Axis(nd - 2), rows_to.into());
    target.slice_axis_inplace(Axis(nd - 1), cols_to.into());
    source.slice_axis_inplace(Axis(nd - 2), rows_from.into());
    source.slice_axis_inplace(Axis(nd - 1), cols_from.into());
    target.assign(&source);
    out
}

/// A copy of a batch of images `[n, c, h, w]` in which every image is moved by its own random
/// shift of at most `max_shift` pixels in each direction (drawn from `Rng::new(seed)`, so the
/// same seed gives the same copies). Concatenated with the originals it doubles a training set.
///
/// **Panics** if `x` is not `[n, c, h, w]`.
///
/// ```
/// use dl_core::prelude::*;
/// let x = dl_core::init::uniform(&[5, 1, 8, 8], 0.0, 1.0);
/// let moved = dl_core::data::random_shifts(&x, 1, 7);
/// assert_eq!(moved.shape(), x.shape());
/// assert_eq!(moved, dl_core::data::random_shifts(&x, 1, 7));
/// ```
#[track_caller]
pub fn random_shifts(x: &Tensor, max_shift: usize, seed: u64) -> Tensor {
    assert_eq!(
        x.ndim(),
        4,
        "random_shifts: expected images [n, c, h, w], got shape {:?}",
        x.shape()
    );
    let mut rng = Rng::new(seed);
    let choices = 2 * max_shift + 1;
    let mut out = Tensor::zeros(x.raw_dim());
    for i in 0..x.shape()[0] {
        let dy = rng.below(choices) as isize - max_shift as isize;
        let dx = rng.below(choices) as isize - max_shift as isize;
        let image = x.index_axis(Axis(0), i).to_owned();
        out.slice_mut(s![i, .., .., ..])
            .assign(&shift_image(&image, dy, dx));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_moves_every_pixel_and_zero_fills_the_border() {
        let x = crate::init::uniform(&[1, 1, 5, 6], 0.5, 1.0);
        let y = shift_image(&x, 2, -1);
        for i in 0..5 {
            for j in 0..6 {
                let (si, sj) = (i as isize - 2, j as isize + 1);
                let expected = if (0..5).contains(&si) && (0..6).contains(&sj) {
                    x[[0, 0, si as usize, sj as usize]]
                } else {
                    0.0
                };
                assert_eq!(y[[0, 0, i, j]], expected, "pixel ({i}, {j})");
            }
        }
    }

    #[test]
    fn shifting_back_restores_the_interior_and_large_shifts_blank_the_image() {
        let x = crate::init::uniform(&[2, 3, 7, 7], 0.5, 1.0);
        let there_and_back = shift_image(&shift_image(&x, 1, 1), -1, -1);
        assert_eq!(
            there_and_back.slice(s![.., .., ..6, ..6]),
            x.slice(s![.., .., ..6, ..6])
        );
        assert_eq!(shift_image(&x, 9, 0).sum(), 0.0);
    }

    #[test]
    fn random_shifts_stay_within_the_bound_and_keep_the_shape() {
        let mut x = Tensor::zeros(ndarray::IxDyn(&[40, 1, 9, 9]));
        x.slice_mut(s![.., 0, 4, 4]).fill(1.0); // one bright centre pixel per image
        let moved = random_shifts(&x, 1, 3);
        let mut seen = std::collections::HashSet::new();
        for i in 0..40 {
            let img = moved.index_axis(Axis(0), i);
            let pos = img.indexed_iter().find(|(_, v)| **v == 1.0).unwrap().0;
            assert!((3..=5).contains(&pos[1]) && (3..=5).contains(&pos[2]));
            seen.insert((pos[1], pos[2]));
        }
        assert!(seen.len() > 5, "the shifts vary: {seen:?}");
    }
}
