//! Rich display of arrays: an HTML table, abbreviated like NumPy's repr.
//!
//! Arrays with more than 1000 elements show only the first and last 3 entries of each axis,
//! with `…` between (NumPy's `threshold = 1000`, `edgeitems = 3`). Arrays of three or more
//! axes show their text form inside the HTML.

use ndarray::ArrayViewD;

const THRESHOLD: usize = 1000;
const EDGE: usize = 3;

fn shown_indices(len: usize, abbreviate: bool) -> Vec<Option<usize>> {
    if abbreviate && len > 2 * EDGE {
        let mut v: Vec<Option<usize>> = (0..EDGE).map(Some).collect();
        v.push(None);
        v.extend((len - EDGE..len).map(Some));
        v
    } else {
        (0..len).map(Some).collect()
    }
}

fn fmt_value(v: f32) -> String {
    if v == v.trunc() && v.abs() < 1e6 {
        format!("{v:.1}")
    } else if v.abs() >= 1e-4 && v.abs() < 1e6 {
        format!("{v:.4}")
    } else {
        format!("{v:.4e}")
    }
}

/// The text form: shape line, then ndarray's abbreviated display.
///
/// ```
/// let x = dl_core::tensor::zeros(&[2, 2]);
/// let t = dl_core::display::array_text(&x.view());
/// assert!(t.starts_with("array shape [2, 2]"));
/// ```
pub fn array_text(a: &ArrayViewD<f32>) -> String {
    format!("array shape {:?}\n{:.4}", a.shape(), a)
}

/// An HTML table for 0–2 axes (abbreviated beyond 1000 elements), with a shape caption.
///
/// ```
/// let x = dl_core::tensor::zeros(&[100, 100]);
/// let html = dl_core::display::array_html(&x.view());
/// assert!(html.contains("…") && html.contains("shape [100, 100]"));
/// assert_eq!(html.matches("<tr>").count(), 7); // 3 + … + 3 rows
/// ```
pub fn array_html(a: &ArrayViewD<f32>) -> String {
    let abbreviate = a.len() > THRESHOLD;
    let mut html = String::from(
        "<table style=\"border-collapse:collapse;font-family:monospace;font-size:12px\">",
    );
    html.push_str(&format!(
        "<caption style=\"text-align:left\">shape {:?}, f32</caption>",
        a.shape()
    ));
    let cell = |s: &str| format!("<td style=\"padding:2px 6px;text-align:right\">{s}</td>");
    match a.ndim() {
        0 => html.push_str(&format!("<tr>{}</tr>", cell(&fmt_value(a[[]])))),
        1 => {
            html.push_str("<tr>");
            for i in shown_indices(a.len(), abbreviate) {
                html.push_str(&cell(&i.map_or("…".into(), |i| fmt_value(a[[i]]))));
            }
            html.push_str("</tr>");
        }
        2 => {
            let (rows, cols) = (a.shape()[0], a.shape()[1]);
            let col_idx = shown_indices(cols, abbreviate);
            for r in shown_indices(rows, abbreviate) {
                html.push_str("<tr>");
                for c in &col_idx {
                    let s = match (r, c) {
                        (Some(r), Some(c)) => fmt_value(a[[r, *c]]),
                        _ => "…".into(),
                    };
                    html.push_str(&cell(&s));
                }
                html.push_str("</tr>");
            }
        }
        _ => {
            let text = format!("{:.4}", a)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            html.push_str(&format!("<tr><td><pre>{text}</pre></td></tr>"));
        }
    }
    html.push_str("</table>");
    html
}
