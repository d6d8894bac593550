//! Sliders: `FloatSliderModel` and `IntSliderModel` (`value` between `min` and `max`, moved
//! by `step`). The page sends every position while the slider is dragged
//! (`continuous_update`); a burst is coalesced to its latest value.

use super::model::{Model, Widget, show_widget};
use serde_json::json;

/// A slider of real numbers.
///
/// ```
/// use dl_core::widgets::{FloatSlider, Widget};
/// let lr = FloatSlider::new("learning rate", 0.001, 1.0, 0.001).with_value(0.1);
/// assert!((lr.value() - 0.1).abs() < 1e-12);
/// lr.set_value(0.5);
/// assert_eq!(lr.value(), 0.5);
/// assert!(lr.describe().contains("learning rate"));
/// ```
#[derive(Clone, Debug)]
pub struct FloatSlider {
    model: Model,
}

impl FloatSlider {
    /// A slider labelled `description` from `min` to `max` by `step`, at `min`.
    pub fn new(description: &str, min: f64, max: f64, step: f64) -> FloatSlider {
        let model = Model::control(
            "FloatSliderModel",
            "FloatSliderView",
            Some("SliderStyleModel"),
            json!({
                "description": description, "min": min, "max": max, "step": step, "value": min,
                "continuous_update": true, "orientation": "horizontal", "readout": true,
                "readout_format": ".3f", "behavior": "drag-tap", "disabled": false,
            }),
        );
        FloatSlider { model }
    }

    /// The same slider at `value`.
    pub fn with_value(self, value: f64) -> FloatSlider {
        self.set_value(value);
        self
    }

    /// The current value (the page's latest).
    pub fn value(&self) -> f64 {
        self.model.get("value").as_f64().unwrap_or(f64::NAN)
    }

    /// Moves the slider (the callbacks run).
    pub fn set_value(&self, value: f64) {
        self.model.set("value", json!(value));
    }

    /// Runs `callback` with each new value.
    pub fn on_change(&self, mut callback: impl FnMut(f64) + Send + 'static) {
        self.model
            .observe("value", move |v| callback(v.as_f64().unwrap_or(f64::NAN)));
    }
}

impl Widget for FloatSlider {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        let description = self.model.get("description");
        format!(
            "FloatSlider({} = {})",
            description.as_str().unwrap_or(""),
            self.value()
        )
    }
}

/// A slider of integers.
///
/// ```
/// use dl_core::widgets::IntSlider;
/// let steps = IntSlider::new("steps", 1, 200, 1).with_value(50);
/// assert_eq!(steps.value(), 50);
/// ```
#[derive(Clone, Debug)]
pub struct IntSlider {
    model: Model,
}

impl IntSlider {
    /// A slider labelled `description` from `min` to `max` by `step`, at `min`.
    pub fn new(description: &str, min: i64, max: i64, step: i64) -> IntSlider {
        let model = Model::control(
            "IntSliderModel",
            "IntSliderView",
            Some("SliderStyleModel"),
            json!({
                "description": description, "min": min, "max": max, "step": step, "value": min,
                "continuous_update": true, "orientation": "horizontal", "readout": true,
                "readout_format": "d", "behavior": "drag-tap", "disabled": false,
            }),
        );
        IntSlider { model }
    }

    /// The same slider at `value`.
    pub fn with_value(self, value: i64) -> IntSlider {
        self.set_value(value);
        self
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        let v = self.model.get("value");
        v.as_i64()
            .or_else(|| v.as_f64().map(|f| f.round() as i64))
            .unwrap_or(0)
    }

    /// Moves the slider (the callbacks run).
    pub fn set_value(&self, value: i64) {
        self.model.set("value", json!(value));
    }

    /// Runs `callback` with each new value.
    pub fn on_change(&self, mut callback: impl FnMut(i64) + Send + 'static) {
        self.model.observe("value", move |v| {
            callback(
                v.as_i64()
                    .or_else(|| v.as_f64().map(|f| f.round() as i64))
                    .unwrap_or(0),
            )
        });
    }
}

impl Widget for IntSlider {
    fn model(&self) -> &Model {
        &self.model
    }
    fn describe(&self) -> String {
        let description = self.model.get("description");
        format!(
            "IntSlider({} = {})",
            description.as_str().unwrap_or(""),
            self.value()
        )
    }
}

show_widget!(FloatSlider, IntSlider);
