//! `interact`: a figure drawn from the widgets' values, redrawn in place whenever one changes.
//!
//! The controls show in a `VBox`; the figure is an ordinary display with a display id, so it
//! shows under nbconvert too, and every redraw is an `update_display_data` of that id (one
//! output updated, never appended). The page's slider events are coalesced before the redraw
//! runs (see [`super::comm`]), so a drag redraws the latest value, not every position.

use super::boxes::VBox;
use super::model::Widget;
use crate::display::{MimeBundle, Show, display_with_id, new_display_id};
use crate::plot::Figure;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The figure of an [`interact`], kept up to date.
#[derive(Clone)]
pub struct Interactive {
    display_id: String,
    redraws: Arc<AtomicUsize>,
    last: Arc<Mutex<MimeBundle>>,
}

impl Interactive {
    /// The display id of the figure.
    pub fn display_id(&self) -> &str {
        &self.display_id
    }

    /// How many times the figure was redrawn after the first drawing.
    pub fn redraws(&self) -> usize {
        self.redraws.load(Ordering::SeqCst)
    }

    /// The figure shown now (`image/png` and `text/plain`).
    pub fn figure(&self) -> MimeBundle {
        self.last.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// The bundle of a figure for a redraw: PNG only (an SVG would double the work of a frame).
fn png_bundle(figure: &Figure) -> MimeBundle {
    let text = format!("<Figure \"{}\">", figure.title);
    match figure.to_png() {
        Ok(png) => {
            let (w, h) = (figure.width, figure.height);
            MimeBundle::text(&text).with_png(&png, w, h)
        }
        Err(e) => MimeBundle::text(&format!("{text}: {e}")),
    }
}

/// Shows `controls` and the figure `draw` makes from their values; redraws it in place when
/// any of them changes.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::widgets::{FloatSlider, interact};
/// let slope = FloatSlider::new("slope", -2.0, 2.0, 0.1).with_value(1.0);
/// let s = slope.clone();
/// let view = interact(&[&slope], move || {
///     let xs: Vec<f32> = (0..10).map(|i| i as f32).collect();
///     let ys: Vec<f32> = xs.iter().map(|x| s.value() as f32 * x).collect();
///     plot::line("y = slope · x", &[("y", &ys)])
/// });
/// slope.set_value(-1.0);
/// assert_eq!(view.redraws(), 1);
/// assert!(view.figure().get("image/png").is_some());
/// ```
pub fn interact<F>(controls: &[&dyn Widget], draw: F) -> Interactive
where
    F: FnMut() -> Figure + Send + 'static,
{
    VBox::new(controls).show();
    let display_id = new_display_id("interact");
    let draw = Arc::new(Mutex::new(draw));
    let first = png_bundle(&(draw.lock().unwrap_or_else(|e| e.into_inner()))());
    display_with_id(&first, Some(&display_id), false);
    let view = Interactive {
        display_id,
        redraws: Arc::new(AtomicUsize::new(0)),
        last: Arc::new(Mutex::new(first)),
    };
    for control in controls {
        for key in ["value", "index"] {
            let (draw, view) = (Arc::clone(&draw), view.clone());
            control.model().observe(key, move |_| {
                let figure = (draw.lock().unwrap_or_else(|e| e.into_inner()))();
                let bundle = png_bundle(&figure);
                super::comm::display(&bundle, &view.display_id, true);
                view.redraws.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut last) = view.last.lock() {
                    *last = bundle;
                }
            });
        }
    }
    view
}
