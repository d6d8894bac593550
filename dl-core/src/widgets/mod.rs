//! ipywidgets from Rust: sliders, a drop-down, a check box, a button, text, boxes, an output
//! area, and [`interact()`].
//!
//! The widgets speak the Jupyter widget protocol (version 2) to the maintained front end,
//! `jupyterlab_widgets`, over the kernel's comms ([`comm`] says how). A widget shows itself
//! with [`Show::show`](crate::display::Show::show) or as a cell's last value; its value is read
//! from any later cell; callbacks are ordinary closures (`Send + 'static`), run when the page
//! changes the widget, while a cell runs or not. Outside the kernel, or under nbconvert where
//! no page listens, widgets keep their state, `set_value` runs the callbacks, and `interact`
//! draws its first figure, so a notebook's assertions hold there too.
//!
//! ```
//! use dl_core::prelude::*;
//! use dl_core::widgets::{Button, FloatSlider, HBox, Label};
//! let lr = FloatSlider::new("learning rate", 0.001, 1.0, 0.001).with_value(0.1);
//! let status = Label::new("lr = 0.1");
//! let (l, s) = (lr.clone(), status.clone());
//! lr.on_change(move |v| s.set_value(&format!("lr = {v}")));
//! let reset = Button::new("reset");
//! reset.on_click(move || l.set_value(0.1));
//! HBox::new(&[&lr, &status, &reset]).show();
//! lr.set_value(0.5);
//! assert_eq!(status.value(), "lr = 0.5");
//! reset.click();
//! assert_eq!(status.value(), "lr = 0.1");
//! ```

pub mod boxes;
pub mod button;
pub mod choice;
pub mod comm;
pub mod interact;
pub mod model;
pub mod output;
pub mod slider;
pub mod text;

pub use boxes::{HBox, VBox};
pub use button::Button;
pub use choice::{Checkbox, Dropdown};
pub use interact::{Interactive, interact};
pub use model::{Model, Widget};
pub use output::Output;
pub use slider::{FloatSlider, IntSlider};
pub use text::{Label, Text};
