//! ROC curve and the area under it.
//!
//! Sorting the scores from high to low and lowering a threshold through them gives points
//!
//! ```text
//! TPR = TP / P      (recall)          FPR = FP / N
//! AUC = Σ (FPR_{i+1} − FPR_i)(TPR_{i+1} + TPR_i) / 2      (trapezoids)
//! ```
//!
//! Tied scores form one point (as in scikit-learn); the curve starts at (0, 0).

/// The points of a ROC curve, with the threshold at each point.
#[derive(Clone, Debug, PartialEq)]
pub struct RocCurve {
    /// False positive rates, increasing from 0 to 1.
    pub fpr: Vec<f32>,
    /// True positive rates, increasing from 0 to 1.
    pub tpr: Vec<f32>,
    /// Score thresholds (the first is +∞).
    pub thresholds: Vec<f32>,
}

impl RocCurve {
    /// The curve as a figure, with the chance diagonal and the AUC in the legend.
    ///
    /// ```
    /// let roc = dl_core::metrics::roc_curve(&[0, 1, 1], &[0.2, 0.7, 0.9]);
    /// assert!(roc.plot().to_svg().unwrap().contains("AUC"));
    /// ```
    pub fn plot(&self) -> crate::plot::Figure {
        crate::plot::Figure::new("ROC curve")
            .x_label("false positive rate")
            .y_label("true positive rate")
            .line(
                &format!("AUC = {:.3}", auc(&self.fpr, &self.tpr)),
                &self.fpr,
                &self.tpr,
            )
            .line("chance", &[0.0, 1.0], &[0.0, 1.0])
    }
}

/// ROC curve of binary labels (1 is positive) against scores (higher means more positive).
///
/// ```
/// let roc = dl_core::metrics::roc_curve(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]);
/// assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// ```
#[track_caller]
pub fn roc_curve(y_true: &[usize], scores: &[f32]) -> RocCurve {
    assert_eq!(
        y_true.len(),
        scores.len(),
        "roc_curve: {} labels but {} scores",
        y_true.len(),
        scores.len()
    );
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = y_true.iter().filter(|&&y| y == 1).count().max(1) as f32;
    let negatives = y_true.iter().filter(|&&y| y != 1).count().max(1) as f32;
    let (mut tp, mut fp) = (0.0f32, 0.0f32);
    let mut roc = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f32::INFINITY],
    };
    for (i, &idx) in order.iter().enumerate() {
        if y_true[idx] == 1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[idx]);
        if last_of_tie {
            roc.fpr.push(fp / negatives);
            roc.tpr.push(tp / positives);
            roc.thresholds.push(scores[idx]);
        }
    }
    roc
}

/// Area under a curve by the trapezoidal rule (x increasing).
///
/// ```
/// assert_eq!(dl_core::metrics::auc(&[0.0, 1.0], &[0.0, 1.0]), 0.5);
/// ```
pub fn auc(x: &[f32], y: &[f32]) -> f32 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0)
        .sum()
}

/// Area under the ROC curve (0.5 is chance, 1 is perfect).
///
/// ```
/// assert_eq!(dl_core::metrics::roc_auc_score(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), 0.75);
/// ```
pub fn roc_auc_score(y_true: &[usize], scores: &[f32]) -> f32 {
    let roc = roc_curve(y_true, scores);
    auc(&roc.fpr, &roc.tpr)
}
