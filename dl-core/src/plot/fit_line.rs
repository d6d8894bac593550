//! Data points and a fitted straight line `y = w x + b` through them.

use crate::plot::Figure;

/// Scatter of `(x, y)` and the line `y = slope · x + intercept` across the range of `x`.
///
/// ```
/// use dl_core::prelude::*;
/// let fig = fit_line("Fit", &[0.0, 1.0, 2.0], &[1.1, 2.9, 5.2], 2.0, 1.0);
/// assert!(fig.to_svg().unwrap().contains("y = 2.000 x + 1.000"));
/// ```
#[track_caller]
pub fn fit_line(title: &str, x: &[f32], y: &[f32], slope: f32, intercept: f32) -> Figure {
    let lo = x.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    Figure::new(title)
        .x_label("x")
        .y_label("y")
        .scatter("data", x, y)
        .line(
            &format!("y = {slope:.3} x + {intercept:.3}"),
            &[lo, hi],
            &[slope * lo + intercept, slope * hi + intercept],
        )
}
