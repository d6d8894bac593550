//! Choices: a `Dropdown` of labelled options (the page sends the chosen `index`) and a
//! `Checkbox` (`value` true or false).

use super::model::{Model, Widget, show_widget};
use serde_json::{Value, json};

/// A drop-down list of options.
///
/// ```
/// use dl_core::widgets::Dropdown;
/// let activation = Dropdown::new("activation", &["relu", "tanh", "sigmoid"]).with_index(1);
/// assert_eq!(activation.value(), "tanh");
/// ```
#[derive(Clone, Debug)]
pub struct Dropdown {
    model: Model,
    options: Vec<String>,
}

impl Dropdown {
    /// A list labelled `description`, its first option chosen.
    pub fn new(description: &str, options: &[impl AsRef<str>]) -> Dropdown {
        let options: Vec<String> = options.iter().map(|o| o.as_ref().to_owned()).collect();
        let model = Model::control(
            "DropdownModel",
            "DropdownView",
            Some("DescriptionStyleModel"),
            json!({ "description": description, "_options_labels": options, "index": 0, "disabled": false }),
        );
        Dropdown { model, options }
    }

    /// The same list with option `index` chosen.
    pub fn with_index(self, index: usize) -> Dropdown {
        self.model.set("index", json!(index));
        self
    }

    /// The chosen option's position.
    pub fn index(&self) -> usize {
        self.model.get("index").as_u64().unwrap_or(0) as usize
    }

    /// The chosen option.
    pub fn value(&self) -> &str {
        self.options.get(self.index()).map_or("", String::as_str)
    }

    /// Runs `callback` with the newly chosen option.
    pub fn on_change(&self, mut callback: impl FnMut(&str) + Send + 'static) {
        let options = self.options.clone();
        self.model.observe("index", move |v: &Value| {
            let i = v.as_u64().unwrap_or(0) as usize;
            callback(options.get(i).map_or("", String::as_str));
        });
    }
}

impl Widget for Dropdown {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!("Dropdown({})", self.value())
    }
}

/// A check box.
///
/// ```
/// use dl_core::widgets::Checkbox;
/// let shuffle = Checkbox::new("shuffle", true);
/// assert!(shuffle.value());
/// ```
#[derive(Clone, Debug)]
pub struct Checkbox {
    model: Model,
}

impl Checkbox {
    /// A box labelled `description`, ticked when `value`.
    pub fn new(description: &str, value: bool) -> Checkbox {
        let model = Model::control(
            "CheckboxModel",
            "CheckboxView",
            Some("CheckboxStyleModel"),
            json!({ "description": description, "value": value, "indent": true, "disabled": false }),
        );
        Checkbox { model }
    }

    /// Whether it is ticked.
    pub fn value(&self) -> bool {
        self.model.get("value").as_bool().unwrap_or(false)
    }

    /// Ticks or clears it (the callbacks run).
    pub fn set_value(&self, value: bool) {
        self.model.set("value", json!(value));
    }

    /// Runs `callback` with each new value.
    pub fn on_change(&self, mut callback: impl FnMut(bool) + Send + 'static) {
        self.model
            .observe("value", move |v| callback(v.as_bool().unwrap_or(false)));
    }
}

impl Widget for Checkbox {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!("Checkbox({})", self.value())
    }
}

show_widget!(Dropdown, Checkbox);
