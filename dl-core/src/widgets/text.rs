//! Text: an editable `Text` box and a read-only `Label`.

use super::model::{Model, Widget, show_widget};
use serde_json::json;

/// A one-line text box.
///
/// ```
/// use dl_core::widgets::Text;
/// let prompt = Text::new("prompt", "the ");
/// assert_eq!(prompt.value(), "the ");
/// ```
#[derive(Clone, Debug)]
pub struct Text {
    model: Model,
}

impl Text {
    /// A box labelled `description` holding `value`.
    pub fn new(description: &str, value: &str) -> Text {
        let model = Model::control(
            "TextModel",
            "TextView",
            Some("TextStyleModel"),
            json!({ "description": description, "value": value, "placeholder": "", "continuous_update": true, "disabled": false }),
        );
        Text { model }
    }

    /// The text now.
    pub fn value(&self) -> String {
        self.model.get("value").as_str().unwrap_or("").to_owned()
    }

    /// Replaces the text (the callbacks run).
    pub fn set_value(&self, value: &str) {
        self.model.set("value", json!(value));
    }

    /// Runs `callback` with each new text.
    pub fn on_change(&self, mut callback: impl FnMut(&str) + Send + 'static) {
        self.model
            .observe("value", move |v| callback(v.as_str().unwrap_or("")));
    }
}

impl Widget for Text {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!("Text({:?})", self.value())
    }
}

/// A line of text the code updates.
///
/// ```
/// use dl_core::widgets::Label;
/// let status = Label::new("loss: -");
/// status.set_value("loss: 0.25");
/// assert_eq!(status.value(), "loss: 0.25");
/// ```
#[derive(Clone, Debug)]
pub struct Label {
    model: Model,
}

impl Label {
    /// A label showing `value`.
    pub fn new(value: &str) -> Label {
        let model = Model::control(
            "LabelModel",
            "LabelView",
            Some("LabelStyleModel"),
            json!({ "value": value, "placeholder": "" }),
        );
        Label { model }
    }

    /// The text shown.
    pub fn value(&self) -> String {
        self.model.get("value").as_str().unwrap_or("").to_owned()
    }

    /// Shows another text.
    pub fn set_value(&self, value: &str) {
        self.model.set("value", json!(value));
    }
}

impl Widget for Label {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        self.value()
    }
}

show_widget!(Text, Label);
