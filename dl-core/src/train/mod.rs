//! Training a [`Sequential`](crate::nn::Sequential) the Keras way: `compile`, `fit`, `evaluate`.
//!
//! One step of mini-batch training:
//!
//! ```text
//! ŷ = model(x_batch)            forward, Mode::Train
//! L = loss(ŷ, y_batch)          stop if L is NaN or ±∞ (History names the epoch and batch)
//! ∂L/∂ŷ → backward → ∂L/∂θ      gradients accumulate in each Parameter
//! θ ← optimiser(θ, ∂L/∂θ)
//! ```
//!
//! Before each batch `fit` checks [`crate::interrupt::requested`]; on an interrupt it stops,
//! keeps the weights trained so far and marks the [`History`] as interrupted.

mod callbacks;
mod compile;
mod fit;
mod fit_options;
mod history;
mod progress;

pub use callbacks::{Callback, CallbackAction, EarlyStopping, ModelCheckpoint};
pub use compile::Compiled;
pub use fit_options::FitOptions;
pub use history::{Evaluation, History, StopReason};
