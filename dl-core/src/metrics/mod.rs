//! Metrics: how good predictions are.
//!
//! Classification metrics take class labels (`&[usize]`); [`predicted_classes`] and
//! [`labels`] turn model outputs and label tensors into them. Regression metrics take tensors.

mod accuracy;
mod confusion_matrix;
mod precision_recall_f1;
mod regression;
mod roc;

pub use accuracy::accuracy;
pub use confusion_matrix::confusion_matrix;
pub use precision_recall_f1::{
    f1_macro, f1_score, precision, precision_macro, recall, recall_macro,
};
pub use regression::{mean_absolute_error, mean_squared_error, r2_score};
pub use roc::{RocCurve, auc, roc_auc_score, roc_curve};

use crate::tensor::{Tensor, argmax_rows};
use serde::{Deserialize, Serialize};

/// Class predictions from model outputs: argmax of `[n, k]` scores (k > 1), or `score > 0.5`
/// for one column of probabilities (`[n]` or `[n, 1]`).
///
/// ```
/// let p = dl_core::tensor::column(&[0.2, 0.9]);
/// assert_eq!(dl_core::metrics::predicted_classes(&p), vec![0, 1]);
/// ```
pub fn predicted_classes(y_hat: &Tensor) -> Vec<usize> {
    predicted_classes_with_threshold(y_hat, 0.5)
}

/// Like [`predicted_classes`] with another threshold for the single-column case
/// (use `0.0` for logits).
pub fn predicted_classes_with_threshold(y_hat: &Tensor, threshold: f32) -> Vec<usize> {
    if y_hat.ndim() == 2 && y_hat.shape()[1] > 1 {
        argmax_rows(y_hat)
    } else {
        y_hat.iter().map(|&v| (v > threshold) as usize).collect()
    }
}

/// Class labels from a label tensor: one-hot rows `[n, k]` (k > 1) by argmax, else the values
/// themselves (`[n]` or `[n, 1]`, rounded).
///
/// ```
/// let y = dl_core::tensor::from_vec(&[3], vec![2.0, 0.0, 1.0]);
/// assert_eq!(dl_core::metrics::labels(&y), vec![2, 0, 1]);
/// ```
pub fn labels(y: &Tensor) -> Vec<usize> {
    if y.ndim() == 2 && y.shape()[1] > 1 {
        argmax_rows(y)
    } else {
        y.iter().map(|&v| v.round().max(0.0) as usize).collect()
    }
}

/// Metrics that `compile` can report each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Fraction of correct class predictions (binary, one-hot or sparse labels, chosen from
    /// the shapes as Keras' `"accuracy"` does).
    Accuracy,
    /// Mean absolute error.
    Mae,
    /// Mean squared error.
    Mse,
}

impl Metric {
    /// The name in `History` (`"accuracy"`, `"mae"`, `"mse"`).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Mae => "mae",
            Metric::Mse => "mse",
        }
    }
}

/// Running sums for one metric over the batches of an epoch.
#[derive(Clone, Debug)]
pub struct MetricAccumulator {
    metric: Metric,
    from_logits: bool,
    sum: f64,
    count: usize,
}

impl MetricAccumulator {
    /// A fresh accumulator; `from_logits` sets the binary threshold to 0 instead of 0.5.
    pub fn new(metric: Metric, from_logits: bool) -> MetricAccumulator {
        MetricAccumulator {
            metric,
            from_logits,
            sum: 0.0,
            count: 0,
        }
    }

    /// The metric accumulated.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Adds one batch of predictions and targets.
    #[track_caller]
    pub fn add(&mut self, y: &Tensor, y_hat: &Tensor) {
        match self.metric {
            Metric::Accuracy => {
                let threshold = if self.from_logits { 0.0 } else { 0.5 };
                let predicted = predicted_classes_with_threshold(y_hat, threshold);
                let truth = labels(y);
                assert_eq!(
                    predicted.len(),
                    truth.len(),
                    "accuracy: predictions of shape {:?} and targets of shape {:?} hold different sample counts",
                    y_hat.shape(),
                    y.shape()
                );
                self.sum += predicted.iter().zip(&truth).filter(|(a, b)| a == b).count() as f64;
                self.count += truth.len();
            }
            Metric::Mae | Metric::Mse => {
                crate::tensor::assert_same_shape(self.metric.name(), y_hat, y);
                for (a, b) in y_hat.iter().zip(y.iter()) {
                    let d = (a - b) as f64;
                    self.sum += if self.metric == Metric::Mae {
                        d.abs()
                    } else {
                        d * d
                    };
                }
                self.count += y.len();
            }
        }
    }

    /// The metric over everything added so far.
    pub fn value(&self) -> f32 {
        (self.sum / self.count.max(1) as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_metric_handles_binary_one_hot_and_sparse_targets() {
        let binary = crate::tensor::column(&[0.2, 0.8, 0.6]);
        let mut acc = MetricAccumulator::new(Metric::Accuracy, false);
        acc.add(&crate::tensor::column(&[0.0, 1.0, 0.0]), &binary);
        assert!((acc.value() - 2.0 / 3.0).abs() < 1e-6);

        let logits = crate::tensor::column(&[-1.0, 2.0]);
        let mut from_logits = MetricAccumulator::new(Metric::Accuracy, true);
        from_logits.add(&crate::tensor::column(&[0.0, 1.0]), &logits);
        assert_eq!(from_logits.value(), 1.0);

        let scores = crate::tensor::from_vec(&[2, 3], vec![0.1, 0.8, 0.1, 0.7, 0.2, 0.1]);
        let mut sparse = MetricAccumulator::new(Metric::Accuracy, false);
        sparse.add(&scores, &crate::tensor::from_vec(&[2], vec![1.0, 2.0]));
        assert_eq!(sparse.value(), 0.5);
        let mut one_hot = MetricAccumulator::new(Metric::Accuracy, false);
        one_hot.add(
            &scores,
            &crate::tensor::from_vec(&[2, 3], vec![0., 1., 0., 1., 0., 0.]),
        );
        assert_eq!(one_hot.value(), 1.0);
    }

    #[test]
    fn error_metrics_accumulate_over_batches() {
        let mut mae = MetricAccumulator::new(Metric::Mae, false);
        mae.add(
            &crate::tensor::column(&[1.0]),
            &crate::tensor::column(&[0.0]),
        );
        mae.add(
            &crate::tensor::column(&[0.0, 0.0]),
            &crate::tensor::column(&[2.0, 0.0]),
        );
        assert_eq!(mae.value(), 1.0);
    }

    #[test]
    fn roc_auc_of_a_perfect_and_a_reversed_ranking() {
        assert_eq!(roc_auc_score(&[0, 0, 1, 1], &[0.1, 0.2, 0.8, 0.9]), 1.0);
        assert_eq!(roc_auc_score(&[0, 0, 1, 1], &[0.9, 0.8, 0.2, 0.1]), 0.0);
        // Ties form one point: a constant score is chance.
        assert_eq!(roc_auc_score(&[0, 1, 0, 1], &[0.5; 4]), 0.5);
    }

    #[test]
    fn precision_recall_with_no_positive_predictions_are_zero() {
        assert_eq!(precision(&[1, 1], &[0, 0]), 0.0);
        assert_eq!(recall(&[1, 1], &[0, 0]), 0.0);
        assert_eq!(f1_score(&[1, 1], &[0, 0]), 0.0);
    }
}
