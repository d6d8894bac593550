//! Heat map with the value written in each cell (a confusion matrix is the usual case).
//!
//! Cell colour goes from white (smallest value) to blue (largest): `t = (v − min) / (max − min)`.
//! A *diverging* heat map is for signed values: 0 is white, negative values blue and positive
//! values red, both scaled by the largest magnitude `m = max |v|` (`t = v / m` in `[−1, 1]`), so
//! that equal colours mean equal magnitudes on either side of zero.

use crate::plot::{Content, FONT, Figure};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A heat map of `values` with row and column labels (empty slices: indices 0, 1, …).
///
/// ```
/// use dl_core::prelude::*;
/// let fig = plot::heatmap("Correlation", &array![[1.0, 0.3], [0.3, 1.0]], &["a", "b"], &["a", "b"]);
/// assert!(fig.to_svg().unwrap().contains("0.30"));
/// ```
pub fn heatmap(
    title: &str,
    values: &Array2<f32>,
    row_labels: &[impl AsRef<str>],
    col_labels: &[impl AsRef<str>],
) -> Figure {
    let (rows, cols) = values.dim();
    let names = |given: &[String], n: usize| -> Vec<String> {
        if given.len() == n {
            given.to_vec()
        } else {
            (0..n).map(|i| i.to_string()).collect()
        }
    };
    let row_labels: Vec<String> = row_labels.iter().map(|s| s.as_ref().to_string()).collect();
    let col_labels: Vec<String> = col_labels.iter().map(|s| s.as_ref().to_string()).collect();
    let side = (60 * cols.max(rows) as u32 + 160).clamp(300, 760);
    Figure::with_content(
        title,
        Content::Heatmap {
            values: values.clone(),
            row_labels: names(&row_labels, rows),
            col_labels: names(&col_labels, cols),
            diverging: false,
        },
    )
    .size(side, side)
}

/// A heat map of signed `values` on a diverging scale centred at zero: white is 0, blue is
/// negative, red is positive, and the two sides share one scale (`±max |v|`), so zero and the
/// sign of every cell can be read off the colour.
///
/// ```
/// use dl_core::prelude::*;
/// let names: Vec<String> = Vec::new();
/// let fig = plot::diverging_heatmap("Signed gradient", &array![[-2.5, 0.0], [1.0, 2.0]], &names, &names);
/// assert!(fig.to_svg().unwrap().contains("-2.50"));
/// ```
pub fn diverging_heatmap(
    title: &str,
    values: &Array2<f32>,
    row_labels: &[impl AsRef<str>],
    col_labels: &[impl AsRef<str>],
) -> Figure {
    let mut fig = heatmap(title, values, row_labels, col_labels);
    if let Content::Heatmap { diverging, .. } = &mut fig.content {
        *diverging = true;
    }
    fig
}

/// `v / max(|lo|, |hi|)`, in `[−1, 1]`: where `v` lies on a diverging scale (0 when all are 0).
fn signed_share(v: f32, lo: f32, hi: f32) -> f32 {
    let m = lo.abs().max(hi.abs());
    if m > 0.0 {
        (v / m).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// The colour of `v` and whether its text should be white: white → blue on `[lo, hi]`, or
/// blue ← white → red on `[−m, m]` with `m = max(|lo|, |hi|)` when `diverging`.
fn cell_colour(v: f32, lo: f32, hi: f32, diverging: bool) -> (RGBColor, bool) {
    if diverging {
        let t = signed_share(v, lo, hi);
        let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t.abs()) as u8;
        let colour = if t < 0.0 {
            RGBColor(mix(255, 33), mix(255, 102), mix(255, 172))
        } else {
            RGBColor(mix(255, 178), mix(255, 24), mix(255, 43))
        };
        (colour, t.abs() > 0.5)
    } else {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t) as u8;
        (RGBColor(mix(255, 8), mix(255, 69), mix(255, 148)), t > 0.5)
    }
}

/// A confusion matrix (rows: true class, columns: predicted class) as a heat map with counts.
///
/// ```
/// use dl_core::prelude::*;
/// let cm = dl_core::metrics::confusion_matrix(&[0, 1, 1], &[0, 1, 0], 2);
/// let fig = plot::confusion_matrix(&cm, &["cat", "dog"]);
/// assert!(fig.to_svg().unwrap().contains("predicted"));
/// ```
pub fn confusion_matrix(cm: &Array2<usize>, class_names: &[impl AsRef<str>]) -> Figure {
    crate::plot::heatmap(
        "Confusion matrix",
        &cm.mapv(|v| v as f32),
        class_names,
        class_names,
    )
    .x_label("predicted")
    .y_label("true")
}

fn format_value(v: f32, integers: bool) -> String {
    if integers {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

pub(crate) fn draw_heatmap<DB: DrawingBackend>(
    fig: &Figure,
    values: &Array2<f32>,
    row_labels: &[String],
    col_labels: &[String],
    diverging: bool,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, h) = (fig.width as i32, fig.height as i32);
    let (rows, cols) = values.dim();
    let (left, top, right, bottom) = (110, 50, 20, 70);
    let cell_w = ((w - left - right) / cols.max(1) as i32).max(1);
    let cell_h = ((h - top - bottom) / rows.max(1) as i32).max(1);
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let integers = values.iter().all(|v| v.fract() == 0.0);
    let centre = Pos::new(HPos::Center, VPos::Center);
    let title_style =
        TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(fig.title.clone(), (w / 2, 10), title_style))?;
    let font_size = (cell_h.min(cell_w) / 3).clamp(10, 18);
    for r in 0..rows {
        for c in 0..cols {
            let v = values[[r, c]];
            let (color, dark) = cell_colour(v, lo, hi, diverging);
            let (x0, y0) = (left + c as i32 * cell_w, top + r as i32 * cell_h);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell_w, y0 + cell_h)],
                color.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell_w, y0 + cell_h)],
                RGBColor(200, 200, 200),
            ))?;
            let text_color = if dark { WHITE } else { BLACK };
            let style = TextStyle::from((FONT, font_size).into_font())
                .color(&text_color)
                .pos(centre);
            root.draw(&Text::new(
                format_value(v, integers),
                (x0 + cell_w / 2, y0 + cell_h / 2),
                style,
            ))?;
        }
    }
    let label_style =
        TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (r, name) in row_labels.iter().enumerate() {
        root.draw(&Text::new(
            name.clone(),
            (left - 8, top + r as i32 * cell_h + cell_h / 2),
            label_style.clone(),
        ))?;
    }
    let col_style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (c, name) in col_labels.iter().enumerate() {
        root.draw(&Text::new(
            name.clone(),
            (
                left + c as i32 * cell_w + cell_w / 2,
                top + rows as i32 * cell_h + 6,
            ),
            col_style.clone(),
        ))?;
    }
    let axis_style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    if !fig.x_label.is_empty() {
        root.draw(&Text::new(
            fig.x_label.clone(),
            (
                left + cols as i32 * cell_w / 2,
                top + rows as i32 * cell_h + 30,
            ),
            axis_style.clone(),
        ))?;
    }
    if !fig.y_label.is_empty() {
        let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom));
        root.draw(&Text::new(fig.y_label.clone(), (8, top - 6), style))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_scale_puts_white_at_zero_and_shares_one_scale() {
        // values in [−1, 4]: zero is white although it is not the middle of the range
        assert_eq!(cell_colour(0.0, -1.0, 4.0, true).0, RGBColor(255, 255, 255));
        let (negative, _) = cell_colour(-4.0, -4.0, 4.0, true);
        let (positive, _) = cell_colour(4.0, -4.0, 4.0, true);
        assert!(
            negative.2 > negative.0,
            "negative values are blue: {negative:?}"
        );
        assert!(
            positive.0 > positive.2,
            "positive values are red: {positive:?}"
        );
        // −1 and +1 sit equally far from white on the scale of the largest magnitude, 4
        assert_eq!(signed_share(-1.0, -1.0, 4.0), -0.25);
        assert_eq!(signed_share(1.0, -1.0, 4.0), 0.25);
    }

    #[test]
    fn sequential_scale_goes_from_white_to_blue() {
        assert_eq!(cell_colour(0.0, 0.0, 1.0, false).0, RGBColor(255, 255, 255));
        assert_eq!(cell_colour(1.0, 0.0, 1.0, false).0, RGBColor(8, 69, 148));
    }
}
