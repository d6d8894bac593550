//! Renders every kind of figure to PNG and SVG files in a directory (default: the temp dir),
//! for looking at them: `cargo run --release -p dl-core --example plot_gallery [dir]`.

use dl_core::prelude::*;
use std::path::PathBuf;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dl_core::seed(0);
    let x = dl_core::init::uniform(&[200, 2], 0.0, 1.0);
    let labels: Vec<usize> = x
        .outer_iter()
        .map(|r| (r[0] + r[1] > 1.0) as usize)
        .collect();
    let mut history = History::default();
    for (i, (l, a)) in [(0.9, 0.6), (0.5, 0.8), (0.3, 0.9), (0.25, 0.93)]
        .iter()
        .enumerate()
    {
        history.push("loss", *l);
        history.push("val_loss", l + 0.05 * i as f32);
        history.push("accuracy", *a);
        history.push("val_accuracy", a - 0.03);
    }
    let roc = dl_core::metrics::roc_curve(&[0, 0, 1, 1, 0, 1], &[0.1, 0.4, 0.35, 0.8, 0.2, 0.9]);
    let figures = vec![
        ("history", history.plot()),
        ("roc", roc.plot()),
        (
            "line",
            plot::line(
                "Loss",
                &[
                    ("train", &[1.0, 0.6, 0.4, 0.3, 0.25]),
                    ("validation", &[1.1, 0.7, 0.55, 0.5, 0.52]),
                ],
            )
            .x_label("epoch")
            .y_label("loss"),
        ),
        ("scatter", plot::scatter("Two classes", &x, &labels)),
        (
            "fit_line",
            plot::fit_line(
                "y = 3x + 1 + noise",
                &dl_core::tensor::column(&[0.1, 0.4, 0.5, 0.9]),
                &dl_core::tensor::column(&[1.7, 2.6, 3.1, 4.2]),
                3.0,
                1.4,
            ),
        ),
        (
            "decision_boundary",
            plot::decision_boundary("x₀ + x₁ > 1", &x, &labels, |g| {
                g.map_axis(Axis(1), |r| (r[0] + r[1] > 1.0) as u8 as f32)
                    .insert_axis(Axis(1))
                    .into_dyn()
            }),
        ),
        (
            "histogram",
            plot::histogram(
                "Normal samples",
                &dl_core::init::normal(&[1000], 0.0, 1.0),
                30,
            ),
        ),
        (
            "confusion",
            plot::confusion_matrix(
                &dl_core::metrics::confusion_matrix(
                    &[0, 0, 1, 1, 2, 2, 2],
                    &[0, 1, 1, 1, 2, 0, 2],
                    3,
                ),
                &["cat", "dog", "bird"],
            ),
        ),
        (
            "images",
            plot::image_grid(
                "Digits",
                &dl_core::init::uniform(&[8, 28, 28], 0.0, 1.0),
                &["0", "1", "2", "3", "4", "5", "6", "7"],
                4,
            ),
        ),
    ];
    for (name, fig) in figures {
        for ext in ["png", "svg"] {
            let path = dir.join(format!("dl-core-{name}.{ext}"));
            fig.save(&path).expect("save figure");
            println!("{}", path.display());
        }
    }
}
