//! A widget model: the handle a cell keeps (its comm id), its state, and how it shows.
//!
//! Every control is a `@jupyter-widgets/controls` 2.0.0 model with a `@jupyter-widgets/base`
//! `LayoutModel` and a style model of its own, as ipywidgets 8 makes them. A model shows as
//! `application/vnd.jupyter.widget-view+json` (`{"version_major": 2, "version_minor": 0,
//! "model_id": ...}`) with a `text/plain` line for front ends without widgets (nbconvert).

use super::comm::{self, Callback};
use crate::display::MimeBundle;
use serde_json::{Map, Value, json};

/// The module and version of the controls' models and views.
pub const CONTROLS: (&str, &str) = ("@jupyter-widgets/controls", "2.0.0");
/// The module and version of the base models (layout).
pub const BASE: (&str, &str) = ("@jupyter-widgets/base", "2.0.0");

/// A widget model living in the page and in this process; cheap to clone (its id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    comm_id: String,
}

fn module_state(module: (&str, &str), model: &str, view: &str) -> Map<String, Value> {
    let state = json!({
        "_model_module": module.0, "_model_module_version": module.1, "_model_name": model,
        "_view_module": module.0, "_view_module_version": module.1, "_view_name": view,
    });
    state.as_object().cloned().unwrap_or_default()
}

impl Model {
    /// Opens a model of `module`: `model`/`view` names and its own `state`.
    pub fn open(module: (&str, &str), model: &str, view: &str, state: Value) -> Model {
        let mut full = module_state(module, model, view);
        if let Value::Object(state) = state {
            full.extend(state);
        }
        Model {
            comm_id: comm::open(full),
        }
    }

    /// Opens a DOM widget of `@jupyter-widgets/controls`, with a layout and, when `style` is
    /// given, a style model of that name.
    pub fn control(model: &str, view: &str, style: Option<&str>, state: Value) -> Model {
        let layout = Model::open(BASE, "LayoutModel", "LayoutView", json!({}));
        let mut full = json!({ "layout": layout.reference(), "_dom_classes": [] });
        if let Some(style) = style {
            let style = Model::open(CONTROLS, style, "StyleView", json!({}));
            full["style"] = Value::String(style.reference());
        }
        if let (Value::Object(full), Value::Object(state)) = (&mut full, state) {
            full.extend(state);
        }
        Model::open(CONTROLS, model, view, full)
    }

    /// The comm id, which is the model id.
    pub fn id(&self) -> &str {
        &self.comm_id
    }

    /// How another model's state names this one: `"IPY_MODEL_<id>"`.
    pub fn reference(&self) -> String {
        format!("IPY_MODEL_{}", self.comm_id)
    }

    /// One value of the state (`Null` when absent).
    pub fn get(&self, key: &str) -> Value {
        comm::get(&self.comm_id, key)
    }

    /// Sets one value: the page shows it, and the callbacks run.
    pub fn set(&self, key: &str, value: Value) {
        let mut changes = Map::new();
        changes.insert(key.to_owned(), value);
        comm::set(&self.comm_id, changes);
    }

    /// Runs `callback` with the new value whenever `key` changes (from the page or `set`).
    /// A panic in it is reported on standard error; the widget goes on working.
    pub fn observe(&self, key: &str, mut callback: impl FnMut(&Value) + Send + 'static) {
        let key = key.to_owned();
        let wrapped: Callback = Box::new(move |changes: &Map<String, Value>| {
            if let Some(value) = changes.get(&key) {
                guarded(|| callback(value));
            }
        });
        comm::on_change(&self.comm_id, wrapped);
    }

    /// Runs `callback` on each custom event (a button's `click`).
    pub fn on_event(&self, event: &str, mut callback: impl FnMut() + Send + 'static) {
        let event = event.to_owned();
        let wrapped: Callback = Box::new(move |changes: &Map<String, Value>| {
            if changes.get("event").and_then(Value::as_str) == Some(event.as_str()) {
                guarded(&mut callback);
            }
        });
        comm::on_change(&self.comm_id, wrapped);
    }

    /// Closes the model: its views disappear from the page.
    pub fn close(&self) {
        comm::close(&self.comm_id);
    }

    /// The MIME bundle of a view of this model, with `text` for front ends without widgets.
    pub fn view_bundle(&self, text: &str) -> MimeBundle {
        MimeBundle::text(text).with_json(
            "application/vnd.jupyter.widget-view+json",
            json!({ "version_major": 2, "version_minor": 0, "model_id": self.comm_id }),
        )
    }
}

/// Runs a callback, catching its panic (in the code of the cell that made it, whose copy of
/// std raised it) and flushing what it printed.
fn guarded(callback: impl FnOnce()) {
    use std::io::Write as _;
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)).is_err() {
        eprintln!("dl-core: a widget callback panicked; the widget goes on");
    }
    let _ = std::io::stdout().flush();
}

/// A widget: anything with a model, shown by its view.
pub trait Widget {
    /// The widget's model.
    fn model(&self) -> &Model;
    /// One line describing it, for front ends without widgets.
    fn describe(&self) -> String;
}

/// Shows a widget's view (a text line outside the kernel).
pub fn widget_bundle(widget: &(impl Widget + ?Sized)) -> MimeBundle {
    widget.model().view_bundle(&widget.describe())
}

macro_rules! show_widget {
    ($($t:ty),*) => {$(
        impl crate::display::Show for $t {
            fn mime_bundle(&self) -> crate::display::MimeBundle {
                crate::widgets::model::widget_bundle(self)
            }
        }
    )*};
}
pub(crate) use show_widget;
