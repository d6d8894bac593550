//! Decision boundary of a classifier over two features.
//!
//! The plane around the data is cut into a 120 × 120 grid; the classifier labels each grid
//! point; each region is tinted with its class colour and the data are drawn on top.

use crate::metrics::predicted_classes;
use crate::plot::{Content, Figure, Regions};
use crate::tensor::Tensor;
use ndarray::Array2;

const GRID: usize = 120;

/// Class regions of `predict` (scores `[m, k]` or probabilities `[m, 1]` for a `[m, 2]` grid)
/// behind a scatter of `x` `[n, 2]` coloured by `labels`.
///
/// ```
/// use dl_core::prelude::*;
/// let x = dl_core::tensor::from_vec(&[4, 2], vec![0.1, 0.1, 0.2, 0.8, 0.8, 0.3, 0.9, 0.9]);
/// let labels = [0, 0, 1, 1];
/// // A rule that says "class 1 when x₀ > 0.5".
/// let fig = plot::decision_boundary("x₀ > 0.5", &x, &labels, |grid| grid.map_axis(ndarray::Axis(1), |row| (row[0] > 0.5) as i32 as f32).insert_axis(ndarray::Axis(1)));
/// assert!(fig.to_png().is_ok());
/// ```
#[track_caller]
pub fn decision_boundary(
    title: &str,
    x: &Tensor,
    labels: &[usize],
    mut predict: impl FnMut(&Tensor) -> Tensor,
) -> Figure {
    let mut fig = crate::plot::scatter(title, x, labels);
    let col = |j: usize| {
        x.index_axis(ndarray::Axis(1), j)
            .iter()
            .copied()
            .collect::<Vec<f32>>()
    };
    let bounds = |v: Vec<f32>| {
        let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let pad = ((hi - lo) * 0.1).max(1e-3);
        (lo - pad, hi + pad)
    };
    let (x_range, y_range) = (bounds(col(0)), bounds(col(1)));
    let mut grid = Vec::with_capacity(GRID * GRID * 2);
    for i in 0..GRID {
        let gy = y_range.0 + (i as f32 + 0.5) / GRID as f32 * (y_range.1 - y_range.0);
        for j in 0..GRID {
            let gx = x_range.0 + (j as f32 + 0.5) / GRID as f32 * (x_range.1 - x_range.0);
            grid.push(gx);
            grid.push(gy);
        }
    }
    let scores = predict(&crate::tensor::from_vec(&[GRID * GRID, 2], grid));
    let classes = predicted_classes(&scores);
    assert!(
        classes.len() == GRID * GRID,
        "decision_boundary: predict returned shape {:?} for a grid of shape [{}, 2]",
        scores.shape(),
        GRID * GRID
    );
    if let Content::Xy { regions, .. } = &mut fig.content {
        *regions = Some(Regions {
            x_range,
            y_range,
            classes: Array2::from_shape_vec((GRID, GRID), classes).expect("grid size"),
        });
    }
    fig
}
