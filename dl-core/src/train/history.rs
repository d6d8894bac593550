//! What `fit` returns: per-epoch values of the loss and every metric, and why training stopped.

use crate::display::{MimeBundle, Show};
use crate::plot::Figure;
use std::collections::BTreeMap;

/// Why `fit` stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// All epochs ran.
    Completed,
    /// A callback (early stopping) stopped after this epoch (1-based).
    EarlyStopped {
        /// Epoch after which training stopped.
        epoch: usize,
    },
    /// The kernel's interrupt stopped training before this batch; the model keeps its weights.
    Interrupted {
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
    },
    /// The loss became NaN or infinite at this epoch and batch; training stopped there.
    NonFiniteLoss {
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
        /// The loss value.
        loss: f32,
    },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Completed => write!(f, "completed"),
            StopReason::EarlyStopped { epoch } => write!(f, "stopped early after epoch {epoch}"),
            StopReason::Interrupted { epoch, batch } => {
                write!(
                    f,
                    "interrupted at epoch {epoch}, batch {batch}; the model keeps the weights trained so far"
                )
            }
            StopReason::NonFiniteLoss { epoch, batch, loss } => {
                write!(
                    f,
                    "loss became {loss} at epoch {epoch}, batch {batch}; training stopped (try a smaller learning rate or scale the inputs)"
                )
            }
        }
    }
}

/// Per-epoch training record (Keras `History.history`): `"loss"`, `"val_loss"`,
/// `"accuracy"`, `"val_accuracy"`, ...
///
/// ```
/// use dl_core::prelude::*;
/// let mut h = History::default();
/// h.push("loss", 0.5);
/// h.push("loss", 0.25);
/// assert_eq!(h.get("loss"), &[0.5, 0.25]);
/// assert_eq!(h.last("loss"), Some(0.25));
/// assert_eq!(h.num_epochs(), 2);
/// assert!(!h.interrupted());
/// ```
#[derive(Clone, Debug)]
pub struct History {
    /// Values per metric name, one per completed epoch.
    pub metrics: BTreeMap<String, Vec<f32>>,
    /// Why training stopped.
    pub stop_reason: StopReason,
}

impl Default for History {
    fn default() -> Self {
        History {
            metrics: BTreeMap::new(),
            stop_reason: StopReason::Completed,
        }
    }
}

impl History {
    /// Appends one epoch's value of `name`.
    pub fn push(&mut self, name: &str, value: f32) {
        self.metrics
            .entry(name.to_string())
            .or_default()
            .push(value);
    }
    /// All values of `name` (empty if never recorded).
    pub fn get(&self, name: &str) -> &[f32] {
        self.metrics.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }
    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<f32> {
        self.get(name).last().copied()
    }
    /// Number of completed epochs.
    pub fn num_epochs(&self) -> usize {
        self.get("loss").len()
    }
    /// True if the kernel's interrupt stopped training.
    pub fn interrupted(&self) -> bool {
        matches!(self.stop_reason, StopReason::Interrupted { .. })
    }
    /// Learning curves against the epoch number: the losses in one panel and, if any metric
    /// was recorded, the metrics (`accuracy`, `val_accuracy`, ...) in a second panel beside it.
    pub fn plot(&self) -> Figure {
        let panel = |title: &str, losses: bool| {
            let mut fig = Figure::new(title).x_label("epoch").y_label(title);
            for (name, values) in &self.metrics {
                if name.ends_with("loss") == losses {
                    let xs: Vec<f32> = (1..=values.len()).map(|e| e as f32).collect();
                    fig = fig.line(name, &xs, values);
                }
            }
            fig
        };
        let has_metrics = self.metrics.keys().any(|k| !k.ends_with("loss"));
        if has_metrics {
            Figure::panels(
                vec![
                    panel("loss", true).size(480, 320),
                    panel("metrics", false).size(480, 320),
                ],
                2,
            )
        } else {
            panel("loss", true)
        }
    }
}

impl Show for History {
    fn mime_bundle(&self) -> MimeBundle {
        let mut text = format!(
            "History: {} epochs, {}\n",
            self.num_epochs(),
            self.stop_reason
        );
        for (name, values) in &self.metrics {
            if let Some(last) = values.last() {
                text.push_str(&format!("  {name}: {last:.4}\n"));
            }
        }
        let fig = self.plot();
        fig.mime_bundle().with("text/plain", &text)
    }
}

/// The result of `evaluate`: the loss and each compiled metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the data.
    pub loss: f32,
    /// Metric values by name (`"accuracy"`, `"mae"`, ...).
    pub metrics: BTreeMap<String, f32>,
}

impl Evaluation {
    /// One metric by name (`"loss"` gives the loss).
    pub fn get(&self, name: &str) -> Option<f32> {
        if name == "loss" {
            Some(self.loss)
        } else {
            self.metrics.get(name).copied()
        }
    }
}

impl Show for Evaluation {
    fn mime_bundle(&self) -> MimeBundle {
        let mut parts = vec![format!("loss: {:.4}", self.loss)];
        parts.extend(self.metrics.iter().map(|(k, v)| format!("{k}: {v:.4}")));
        MimeBundle::text(&parts.join(" - "))
    }
}
