//! A button: the page sends `{"method": "custom", "content": {"event": "click"}}` per click.

use super::model::{Model, Widget, show_widget};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A button that runs its callbacks when clicked.
///
/// ```
/// use dl_core::widgets::Button;
/// let reset = Button::new("reset");
/// reset.on_click(|| println!("reset!"));
/// reset.click(); // as the page does
/// assert_eq!(reset.clicks(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Button {
    model: Model,
    clicks: Arc<AtomicUsize>,
}

impl Button {
    /// A button showing `description`.
    pub fn new(description: &str) -> Button {
        let model = Model::control(
            "ButtonModel",
            "ButtonView",
            Some("ButtonStyleModel"),
            json!({ "description": description, "button_style": "", "icon": "", "tooltip": null, "disabled": false }),
        );
        let clicks = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&clicks);
        model.on_event("click", move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        Button { model, clicks }
    }

    /// Runs `callback` on each click.
    pub fn on_click(&self, callback: impl FnMut() + Send + 'static) {
        self.model.on_event("click", callback);
    }

    /// Clicks it from Rust: the callbacks run here.
    pub fn click(&self) {
        let mut event = serde_json::Map::new();
        event.insert("event".into(), json!("click"));
        super::comm::run_event(self.model.id(), &event);
    }

    /// How many times it was clicked.
    pub fn clicks(&self) -> usize {
        self.clicks.load(Ordering::SeqCst)
    }
}

impl Widget for Button {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        format!(
            "Button({})",
            self.model.get("description").as_str().unwrap_or("")
        )
    }
}

show_widget!(Button);
