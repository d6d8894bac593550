//! Line plot of several series against their index 1, 2, … (loss curves, time series).

use crate::plot::Figure;

/// A line plot with one line per `(name, values)`; x is 1, 2, 3, … and a legend names each.
///
/// ```
/// use dl_core::prelude::*;
/// let fig = plot::line("Loss", &[("train", &[0.9, 0.5, 0.3]), ("validation", &[1.0, 0.7, 0.6])]);
/// assert!(fig.to_svg().unwrap().contains("validation"));
/// ```
pub fn line(title: &str, series: &[(&str, &[f32])]) -> Figure {
    let mut fig = Figure::new(title);
    for (name, values) in series {
        let xs: Vec<f32> = (1..=values.len()).map(|i| i as f32).collect();
        fig = fig.line(name, &xs, values);
    }
    fig
}
