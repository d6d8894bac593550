//! Scatter plot of two features, one colour per class.

use crate::plot::Figure;
use crate::tensor::Tensor;

/// Points `x[i] = (x₀, x₁)` coloured by `labels[i]`, one legend entry per class.
///
/// **Panics** if `x` is not `[n, 2]` or has a different number of rows than `labels`.
///
/// ```
/// use dl_core::prelude::*;
/// let x = dl_core::tensor::from_vec(&[3, 2], vec![0.0, 0.0, 1.0, 1.0, 0.5, 0.2]);
/// let fig = plot::scatter("Two classes", &x, &[0, 1, 0]);
/// assert!(fig.to_svg().unwrap().contains("class 1"));
/// ```
#[track_caller]
pub fn scatter(title: &str, x: &Tensor, labels: &[usize]) -> Figure {
    assert!(
        x.ndim() == 2 && x.shape()[1] == 2 && x.shape()[0] == labels.len(),
        "scatter: expected x of shape [{}, 2] to match {} labels, got {:?}",
        labels.len(),
        labels.len(),
        x.shape()
    );
    let num_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut fig = Figure::new(title).x_label("x₀").y_label("x₁");
    for class in 0..num_classes {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        let xs: Vec<f32> = rows.iter().map(|&i| x[[i, 0]]).collect();
        let ys: Vec<f32> = rows.iter().map(|&i| x[[i, 1]]).collect();
        fig = fig.scatter(&format!("class {class}"), &xs, &ys);
    }
    fig
}
