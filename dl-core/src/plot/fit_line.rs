//! Data points and a fitted straight line `y = w x + b` through them.

use crate::plot::Figure;
use crate::tensor::Tensor;

/// Scatter of `(x, y)` and the line `y = slope · x + intercept` across the range of `x`
/// (`x` and `y` hold one value per point, in order: `[n]` or `[n, 1]`).
///
/// **Panics** if `x` and `y` hold different numbers of values.
///
/// ```
/// use dl_core::prelude::*;
/// let (x, y) = (tensor::column(&[0.0, 1.0, 2.0]), tensor::column(&[1.1, 2.9, 5.2]));
/// let fig = plot::fit_line("Fit", &x, &y, 2.0, 1.0);
/// assert!(fig.to_svg().unwrap().contains("y = 2.000 x + 1.000"));
/// ```
#[track_caller]
pub fn fit_line(title: &str, x: &Tensor, y: &Tensor, slope: f32, intercept: f32) -> Figure {
    assert!(
        x.len() == y.len(),
        "fit_line: x of shape {:?} and y of shape {:?} hold different numbers of points",
        x.shape(),
        y.shape()
    );
    let (x, y): (Vec<f32>, Vec<f32>) = (x.iter().copied().collect(), y.iter().copied().collect());
    let lo = x.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    Figure::new(title)
        .x_label("x")
        .y_label("y")
        .scatter("data", &x, &y)
        .line(
            &format!("y = {slope:.3} x + {intercept:.3}"),
            &[lo, hi],
            &[slope * lo + intercept, slope * hi + intercept],
        )
}
