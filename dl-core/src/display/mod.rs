//! Rich output in the notebook: MIME bundles sent to the kernel as marker lines.
//!
//! Inside the kernel (`DL_KERNEL=1`) a display is one line on standard output:
//!
//! ```text
//! DLK_DISPLAY {"data":{"image/png":"<base64>","text/plain":"..."},"metadata":{},"display_id":"fit-1a2b","update":false}
//! ```
//!
//! `update: true` replaces the earlier output with the same `display_id` in place (live
//! progress bars and plots). Outside a kernel only the `text/plain` part is printed.

mod array;
mod base64;

pub use array::{array_html, array_text};
pub use base64::base64_encode;

use serde_json::{Map, Value, json};
use std::io::Write;

/// The prefix of a display marker line.
pub const DISPLAY_MARKER: &str = "DLK_DISPLAY ";
/// The prefix of a clear-output marker line.
pub const CLEAR_MARKER: &str = "DLK_CLEAR_OUTPUT ";

/// True inside the dl-core Jupyter kernel (environment `DL_KERNEL=1`).
pub fn in_kernel() -> bool {
    std::env::var("DL_KERNEL").is_ok_and(|v| v == "1")
}

/// A MIME bundle: the same content in several formats, the front end picks the richest.
///
/// ```
/// use dl_core::display::MimeBundle;
/// let b = MimeBundle::text("hello").with_html("<b>hello</b>");
/// assert_eq!(b.get("text/html"), Some("<b>hello</b>"));
/// assert_eq!(b.plain_text(), "hello");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MimeBundle {
    data: Map<String, Value>,
    metadata: Map<String, Value>,
}

impl MimeBundle {
    /// A bundle holding only `text/plain` (every bundle should have it).
    pub fn text(text: &str) -> MimeBundle {
        MimeBundle::default().with("text/plain", text)
    }

    /// Adds a textual MIME type.
    pub fn with(mut self, mime: &str, content: &str) -> MimeBundle {
        self.data
            .insert(mime.to_string(), Value::String(content.to_string()));
        self
    }

    /// Adds a MIME type whose content is JSON (a widget's view, `application/vnd.jupyter.widget-view+json`).
    pub fn with_json(mut self, mime: &str, content: Value) -> MimeBundle {
        self.data.insert(mime.to_string(), content);
        self
    }

    /// Adds `text/html`.
    pub fn with_html(self, html: &str) -> MimeBundle {
        self.with("text/html", html)
    }

    /// Adds `image/svg+xml`.
    pub fn with_svg(self, svg: &str) -> MimeBundle {
        self.with("image/svg+xml", svg)
    }

    /// Adds `image/png` (base64-encoded here) with its display size in metadata.
    pub fn with_png(mut self, png: &[u8], width: u32, height: u32) -> MimeBundle {
        self.data
            .insert("image/png".into(), Value::String(base64_encode(png)));
        self.metadata.insert(
            "image/png".into(),
            json!({"width": width, "height": height}),
        );
        self
    }

    /// The content of one MIME type, if present.
    pub fn get(&self, mime: &str) -> Option<&str> {
        self.data.get(mime).and_then(|v| v.as_str())
    }

    /// The `text/plain` content (empty if absent).
    pub fn plain_text(&self) -> &str {
        self.get("text/plain").unwrap_or("")
    }

    /// The marker line for this bundle (without the trailing newline).
    ///
    /// ```
    /// use dl_core::display::MimeBundle;
    /// let line = MimeBundle::text("x").marker_line(Some("p-1"), true);
    /// assert!(line.starts_with("DLK_DISPLAY {"));
    /// let v: serde_json::Value = serde_json::from_str(&line["DLK_DISPLAY ".len()..]).unwrap();
    /// assert_eq!(v["display_id"], "p-1");
    /// assert_eq!(v["update"], true);
    /// assert_eq!(v["data"]["text/plain"], "x");
    /// ```
    pub fn marker_line(&self, display_id: Option<&str>, update: bool) -> String {
        let record = json!({
            "data": self.data,
            "metadata": self.metadata,
            "display_id": display_id,
            "update": update,
        });
        format!("{DISPLAY_MARKER}{record}")
    }
}

/// Writes one line to stdout in a single `write` and flushes it.
pub(crate) fn emit_line(line: &str) {
    let mut out = std::io::stdout().lock();
    // One write: the kernel reads the marker even after a partial line from `print!`.
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let _ = out.write_all(buf.as_bytes());
    let _ = out.flush();
}

/// Shows a bundle: a marker line inside the kernel, its plain text elsewhere.
pub fn display(bundle: &MimeBundle) {
    display_with_id(bundle, None, false);
}

/// Shows a bundle under a display id; `update = true` replaces the earlier output in place.
pub fn display_with_id(bundle: &MimeBundle, display_id: Option<&str>, update: bool) {
    if in_kernel() {
        emit_line(&bundle.marker_line(display_id, update));
    } else if !update || display_id.is_none() {
        println!("{}", bundle.plain_text());
    }
}

/// Clears the cell's output (`wait`: only when the next output arrives, avoiding flicker).
pub fn clear_output(wait: bool) {
    if in_kernel() {
        emit_line(&format!("{CLEAR_MARKER}{}", json!({ "wait": wait })));
    }
}

/// A fresh display id, unique within the process and across cells: `"{prefix}-{hex}"`.
pub fn new_display_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:x}{:x}-{n}", std::process::id(), nanos)
}

/// An output that can be updated in place (a live plot, a progress bar).
///
/// ```
/// use dl_core::display::{DisplayHandle, MimeBundle};
/// let mut h = DisplayHandle::new("progress");
/// h.show(&MimeBundle::text("0 %"));   // first call: a new output
/// h.show(&MimeBundle::text("50 %"));  // later calls: update in place
/// assert!(h.id().starts_with("progress-"));
/// ```
#[derive(Clone, Debug)]
pub struct DisplayHandle {
    id: String,
    shown: bool,
}

impl DisplayHandle {
    /// A handle with a fresh id; nothing is shown until [`DisplayHandle::show`].
    pub fn new(prefix: &str) -> DisplayHandle {
        DisplayHandle {
            id: new_display_id(prefix),
            shown: false,
        }
    }

    /// The display id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Shows the bundle the first time, updates it in place afterwards.
    pub fn show(&mut self, bundle: &MimeBundle) {
        display_with_id(bundle, Some(&self.id), self.shown);
        self.shown = true;
    }
}

/// Anything that can show itself in the notebook.
///
/// Implemented for figures, arrays (`x.show()`), models, histories. `show()` displays inline in
/// the kernel and prints plain text elsewhere.
///
/// ```
/// use dl_core::prelude::*;
/// let x = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let bundle = x.mime_bundle();
/// assert!(bundle.get("text/html").unwrap().contains("<table"));
/// x.show();
/// ```
pub trait Show {
    /// The MIME bundle (always with `text/plain`).
    fn mime_bundle(&self) -> MimeBundle;

    /// Displays it in the notebook (plain text outside a kernel).
    fn show(&self) {
        display(&self.mime_bundle());
    }

    /// evcxr's hook: a cell whose last expression has this method shows rich output.
    fn evcxr_display(&self) {
        self.show();
    }
}

impl Show for MimeBundle {
    fn mime_bundle(&self) -> MimeBundle {
        self.clone()
    }
}

impl<S, D> Show for ndarray::ArrayBase<S, D>
where
    S: ndarray::Data<Elem = f32>,
    D: ndarray::Dimension,
{
    fn mime_bundle(&self) -> MimeBundle {
        let view = self.view().into_dyn();
        MimeBundle::text(&array_text(&view)).with_html(&array_html(&view))
    }
}

/// Shows anything that implements [`Show`]: `show(&figure)`.
pub fn show(item: &impl Show) {
    item.show();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_lines_are_one_line_of_valid_json() {
        let bundle = MimeBundle::text("a\nb")
            .with_png(&[1, 2, 3], 10, 20)
            .with_svg("<svg/>");
        let line = bundle.marker_line(None, false);
        assert!(
            !line.contains('\n'),
            "one line even when the text has newlines"
        );
        let v: Value = serde_json::from_str(line.strip_prefix(DISPLAY_MARKER).unwrap()).unwrap();
        assert_eq!(v["data"]["image/png"], "AQID");
        assert_eq!(v["metadata"]["image/png"]["width"], 10);
        assert!(v["display_id"].is_null());
        assert_eq!(v["update"], false);
    }

    #[test]
    fn display_ids_are_unique() {
        let a = new_display_id("x");
        let b = new_display_id("x");
        assert_ne!(a, b);
    }

    #[test]
    fn small_arrays_show_every_value_and_large_ones_are_abbreviated() {
        let small = ndarray::array![[1.5f32, 2.0], [3.0, 4.25]].into_dyn();
        let html = array_html(&small.view());
        assert!(html.contains("1.5000") && html.contains("4.2500") && !html.contains('…'));
        let big = crate::tensor::zeros(&[2000]);
        let html = array_html(&big.view());
        assert_eq!(html.matches("<td").count(), 7);
        let cube = crate::tensor::zeros(&[2, 2, 2]);
        assert!(array_html(&cube.view()).contains("<pre>"));
    }
}
