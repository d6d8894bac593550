//! Histogram: counts of values in `bins` equal-width intervals over `[min, max]`.
//!
//! ```text
//! width = (max − min) / bins;   bin(v) = min(⌊(v − min) / width⌋, bins − 1)
//! ```

use crate::plot::{Figure, SeriesStyle};
use crate::tensor::Tensor;

/// A histogram of `values` (a tensor of any shape, read in order) with `bins` bars
/// (non-finite values are skipped).
///
/// ```
/// use dl_core::prelude::*;
/// let fig = plot::histogram("Values", &tensor::column(&[1.0, 2.0, 2.5, 3.0]), 3);
/// assert!(fig.to_png().is_ok());
/// ```
pub fn histogram(title: &str, values: &Tensor, bins: usize) -> Figure {
    let bins = bins.max(1);
    let finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1e-6))
    } else {
        (0.0, 1.0)
    };
    let width = (hi - lo) / bins as f32;
    let mut counts = vec![0.0f32; bins];
    for v in finite {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1.0;
    }
    let centres: Vec<f32> = (0..bins).map(|b| lo + (b as f32 + 0.5) * width).collect();
    Figure::new(title)
        .x_label("value")
        .y_label("count")
        .push_series(
            "",
            SeriesStyle::Bars {
                width: width * 0.95,
            },
            &centres,
            &counts,
        )
}
