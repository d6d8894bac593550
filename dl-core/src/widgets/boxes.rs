//! Boxes lay widgets out: `HBox` in a row, `VBox` in a column (`children` are references
//! `"IPY_MODEL_<id>"` to the widgets' models).

use super::model::{Model, Widget, show_widget};
use serde_json::json;

fn open_box(model: &str, view: &str, children: &[&dyn Widget]) -> (Model, String) {
    let references: Vec<String> = children.iter().map(|c| c.model().reference()).collect();
    let described: Vec<String> = children.iter().map(|c| c.describe()).collect();
    let model = Model::control(
        model,
        view,
        None,
        json!({ "children": references, "box_style": "" }),
    );
    (model, described.join(", "))
}

/// Widgets side by side.
///
/// ```
/// use dl_core::widgets::{Button, HBox, Widget};
/// let row = HBox::new(&[&Button::new("a"), &Button::new("b")]);
/// assert_eq!(row.describe(), "HBox[Button(a), Button(b)]");
/// ```
#[derive(Clone, Debug)]
pub struct HBox {
    model: Model,
    described: String,
}

impl HBox {
    /// A row of `children`.
    pub fn new(children: &[&dyn Widget]) -> HBox {
        let (model, described) = open_box("HBoxModel", "HBoxView", children);
        HBox { model, described }
    }
}

impl Widget for HBox {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!("HBox[{}]", self.described)
    }
}

/// Widgets one above the other.
#[derive(Clone, Debug)]
pub struct VBox {
    model: Model,
    described: String,
}

impl VBox {
    /// A column of `children`.
    pub fn new(children: &[&dyn Widget]) -> VBox {
        let (model, described) = open_box("VBoxModel", "VBoxView", children);
        VBox { model, described }
    }
}

impl Widget for VBox {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!("VBox[{}]", self.described)
    }
}

show_widget!(HBox, VBox);
