//! An output area (`@jupyter-widgets/output` 1.0.0): while its `msg_id` names a request, the
//! page puts that request's outputs in the area instead of the cell's output.

use super::comm;
use super::model::{Model, Widget, show_widget};
use serde_json::json;

/// An area that collects what a callback prints or displays.
///
/// ```
/// use dl_core::widgets::Output;
/// let log = Output::new();
/// log.capture(|| println!("seen in the area when a page event runs this"));
/// ```
#[derive(Clone, Debug)]
pub struct Output {
    model: Model,
}

impl Output {
    /// An empty area.
    pub fn new() -> Output {
        let layout = Model::open(super::model::BASE, "LayoutModel", "LayoutView", json!({}));
        let model = Model::open(
            ("@jupyter-widgets/output", "1.0.0"),
            "OutputModel",
            "OutputView",
            json!({ "layout": layout.reference(), "msg_id": "", "outputs": [] }),
        );
        Output { model }
    }

    /// Runs `f`; inside a callback of a page event, what it prints or displays goes into the
    /// area (elsewhere, to the cell's output as usual).
    pub fn capture<T>(&self, f: impl FnOnce() -> T) -> T {
        use std::io::Write as _;
        let Some(msg_id) = comm::handling() else {
            return f();
        };
        self.model.set("msg_id", json!(msg_id));
        let result = f();
        let _ = std::io::stdout().flush();
        self.model.set("msg_id", json!(""));
        result
    }

    /// Empties the area.
    pub fn clear(&self) {
        self.model.set("outputs", json!([]));
    }
}

impl Default for Output {
    fn default() -> Self {
        Output::new()
    }
}

impl Widget for Output {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        "Output()".into()
    }
}

show_widget!(Output);
