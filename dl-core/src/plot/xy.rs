//! Drawing of x–y charts: axes with padded ranges, series, legend, optional class regions.

use crate::plot::{FONT, Figure, PALETTE, Regions, Series, SeriesStyle};
use plotters::coord::Shift;
use plotters::prelude::*;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn padded(lo: f32, hi: f32) -> (f32, f32) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn range(values: impl Iterator<Item = f32>) -> (f32, f32) {
    values
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Upper right, unless the curves end in the upper half (rising curves): then lower right.
fn legend_position(series: &[Series], y0: f32, y1: f32) -> SeriesLabelPosition {
    let ends: Vec<f32> = series
        .iter()
        .filter(|s| s.style == SeriesStyle::Line)
        .filter_map(|s| s.ys.last().copied())
        .filter(|y| y.is_finite())
        .collect();
    if ends.is_empty() || y1 <= y0 {
        return SeriesLabelPosition::UpperRight;
    }
    let mean = ends.iter().map(|y| (y - y0) / (y1 - y0)).sum::<f32>() / ends.len() as f32;
    if mean > 0.5 {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

pub(crate) fn draw_xy<DB: DrawingBackend>(
    fig: &Figure,
    series: &[Series],
    regions: Option<&Regions>,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (mut x_lo, mut x_hi) = range(series.iter().flat_map(|s| s.xs.iter().copied()));
    let (mut y_lo, y_hi) = range(series.iter().flat_map(|s| s.ys.iter().copied()));
    for s in series {
        if let SeriesStyle::Bars { width } = s.style {
            x_lo = x_lo.min(range(s.xs.iter().copied()).0 - width / 2.0);
            x_hi = x_hi.max(range(s.xs.iter().copied()).1 + width / 2.0);
            y_lo = y_lo.min(0.0);
        }
    }
    let ((x0, x1), (y0, y1)) = match regions {
        Some(r) => (r.x_range, r.y_range),
        None => {
            let bars = series
                .iter()
                .any(|s| matches!(s.style, SeriesStyle::Bars { .. }));
            let (ylo, yhi) = padded(y_lo, y_hi);
            (
                padded(x_lo, x_hi),
                (if bars { 0.0f32.min(y_lo) } else { ylo }, yhi),
            )
        }
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    if let Some(r) = regions {
        let (rows, cols) = r.classes.dim();
        let dx = (x1 - x0) / cols as f32;
        let dy = (y1 - y0) / rows as f32;
        let mut cells = Vec::new();
        for i in 0..rows {
            // Merge runs of one class along a row into one rectangle.
            let mut j = 0;
            while j < cols {
                let class = r.classes[[i, j]];
                let start = j;
                while j < cols && r.classes[[i, j]] == class {
                    j += 1;
                }
                let color = PALETTE[class % PALETTE.len()].mix(0.22);
                cells.push(Rectangle::new(
                    [
                        (x0 + start as f32 * dx, y0 + i as f32 * dy),
                        (x0 + j as f32 * dx, y0 + (i + 1) as f32 * dy),
                    ],
                    color.filled(),
                ));
            }
        }
        chart.draw_series(cells)?;
    }
    let mut legend = false;
    for s in series {
        let color = PALETTE[s.color];
        let points = s.xs.iter().copied().zip(s.ys.iter().copied());
        let drawn = match s.style {
            SeriesStyle::Line => {
                chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?
            }
            SeriesStyle::Points => {
                chart.draw_series(points.map(|p| Circle::new(p, 3, color.filled())))?
            }
            SeriesStyle::Bars { width } => chart.draw_series(points.map(|(x, y)| {
                Rectangle::new(
                    [(x - width / 2.0, 0.0), (x + width / 2.0, y)],
                    color.mix(0.8).filled(),
                )
            }))?,
        };
        if !s.name.is_empty() {
            legend = true;
            match s.style {
                SeriesStyle::Line => drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                }),
                _ => drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x + 4, y - 5), (x + 14, y + 5)], color.filled())
                }),
            };
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(legend_position(series, y0, y1))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 12))
            .draw()?;
    }
    Ok(())
}
