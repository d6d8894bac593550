//! Callbacks run at the end of each epoch: early stopping and checkpoints.
//!
//! ```text
//! early stopping:  stop when the monitored value has not improved by more than min_delta
//!                  for `patience` epochs; optionally restore the best weights
//! checkpoint:      save the model whenever the monitored value improves (or every epoch)
//! ```
//!
//! "Improves" means decreases for losses and errors, increases for accuracy-like metrics
//! (names containing `accuracy`, `precision`, `recall`, `f1`, `auc`, `r2`).

use crate::nn::Sequential;
use crate::tensor::Tensor;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a callback asks `fit` to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackAction {
    /// Go on training.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Code run by `fit` after each epoch with that epoch's values (`loss`, `val_loss`, ...).
pub trait Callback: Send {
    /// Called after epoch `epoch` (1-based).
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &BTreeMap<String, f32>,
        model: &mut Sequential,
    ) -> CallbackAction;
}

fn higher_is_better(name: &str) -> bool {
    ["accuracy", "precision", "recall", "f1", "auc", "r2"]
        .iter()
        .any(|k| name.contains(k))
}

fn monitored(name: &str, logs: &BTreeMap<String, f32>) -> Option<f32> {
    logs.get(name)
        .or_else(|| logs.get(name.trim_start_matches("val_")))
        .copied()
}

/// Stops training when a monitored value stops improving (Keras `EarlyStopping`).
///
/// If the monitored name (e.g. `"val_loss"`) is not recorded (no validation data), the
/// training value (`"loss"`) is used.
///
/// ```
/// use dl_core::prelude::*;
/// let stopper = EarlyStopping::new("val_loss", 5).min_delta(1e-4).restore_best_weights(true);
/// # let _ = stopper;
/// ```
pub struct EarlyStopping {
    monitor: String,
    patience: usize,
    min_delta: f32,
    restore_best: bool,
    best: Option<f32>,
    wait: usize,
    best_weights: Option<Vec<Tensor>>,
}

impl EarlyStopping {
    /// Stop after `patience` epochs without improvement of `monitor`.
    pub fn new(monitor: &str, patience: usize) -> EarlyStopping {
        EarlyStopping {
            monitor: monitor.to_string(),
            patience,
            min_delta: 0.0,
            restore_best: false,
            best: None,
            wait: 0,
            best_weights: None,
        }
    }
    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.min_delta = min_delta;
        self
    }
    /// Put the best epoch's weights back into the model when stopping.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best = restore;
        self
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &BTreeMap<String, f32>,
        model: &mut Sequential,
    ) -> CallbackAction {
        let Some(value) = monitored(&self.monitor, logs) else {
            return CallbackAction::Continue;
        };
        let sign = if higher_is_better(&self.monitor) {
            -1.0
        } else {
            1.0
        };
        let improved = match self.best {
            None => true,
            Some(best) => sign * (best - value) > self.min_delta,
        };
        if improved {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best {
                self.best_weights =
                    Some(model.parameters().iter().map(|p| p.value.clone()).collect());
            }
            CallbackAction::Continue
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                if let Some(weights) = &self.best_weights {
                    for (p, w) in model.parameters_mut().into_iter().zip(weights) {
                        p.value.assign(w);
                    }
                }
                CallbackAction::Stop
            } else {
                CallbackAction::Continue
            }
        }
    }
}

/// Saves the model to a file after epochs where the monitored value improves (Keras
/// `ModelCheckpoint(save_best_only=True)`), or after every epoch.
///
/// ```
/// use dl_core::prelude::*;
/// let checkpoint = ModelCheckpoint::new("best-model.json", "val_loss").save_best_only(true);
/// # let _ = checkpoint;
/// ```
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: String,
    save_best_only: bool,
    best: Option<f32>,
}

impl ModelCheckpoint {
    /// Checkpoint to `path`, watching `monitor`; saves only improvements by default.
    pub fn new(path: impl Into<PathBuf>, monitor: &str) -> ModelCheckpoint {
        ModelCheckpoint {
            path: path.into(),
            monitor: monitor.to_string(),
            save_best_only: true,
            best: None,
        }
    }
    /// Save only when the monitored value improves (true) or every epoch (false).
    pub fn save_best_only(mut self, best_only: bool) -> Self {
        self.save_best_only = best_only;
        self
    }
}

impl Callback for ModelCheckpoint {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &BTreeMap<String, f32>,
        model: &mut Sequential,
    ) -> CallbackAction {
        let value = monitored(&self.monitor, logs);
        let sign = if higher_is_better(&self.monitor) {
            -1.0
        } else {
            1.0
        };
        let improved = match (self.best, value) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(best), Some(v)) => sign * (best - v) > 0.0,
        };
        if improved {
            self.best = value;
        }
        if (improved || !self.save_best_only)
            && let Err(e) = model.save(&self.path)
        {
            eprintln!("ModelCheckpoint: epoch {epoch}: {e}");
        }
        CallbackAction::Continue
    }
}
