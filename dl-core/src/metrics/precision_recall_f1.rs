//! Precision, recall and F1, for the positive class (binary) or averaged over classes (macro).
//!
//! ```text
//! precision = TP / (TP + FP)      recall = TP / (TP + FN)
//! F1        = 2 · precision · recall / (precision + recall)
//! macro     = mean over classes of the per-class value (each class in turn is "positive")
//! ```
//!
//! A ratio with a zero denominator is 0 (scikit-learn's `zero_division=0`).

fn counts(y_true: &[usize], y_pred: &[usize], positive: usize) -> (f32, f32, f32) {
    let mut tp = 0.0;
    let mut fp = 0.0;
    let mut fn_ = 0.0;
    for (&t, &p) in y_true.iter().zip(y_pred) {
        match (t == positive, p == positive) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fn_ += 1.0,
            _ => {}
        }
    }
    (tp, fp, fn_)
}

fn ratio(a: f32, b: f32) -> f32 {
    if b == 0.0 { 0.0 } else { a / b }
}

#[track_caller]
fn check(op: &str, y_true: &[usize], y_pred: &[usize]) {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "{op}: y_true has {} labels, y_pred has {}",
        y_true.len(),
        y_pred.len()
    );
}

fn per_class(y_true: &[usize], y_pred: &[usize], positive: usize) -> (f32, f32, f32) {
    let (tp, fp, fn_) = counts(y_true, y_pred, positive);
    let p = ratio(tp, tp + fp);
    let r = ratio(tp, tp + fn_);
    (p, r, ratio(2.0 * p * r, p + r))
}

fn macro_average(y_true: &[usize], y_pred: &[usize], pick: fn((f32, f32, f32)) -> f32) -> f32 {
    let k = y_true.iter().chain(y_pred).max().map_or(0, |m| m + 1);
    if k == 0 {
        return 0.0;
    }
    (0..k)
        .map(|c| pick(per_class(y_true, y_pred, c)))
        .sum::<f32>()
        / k as f32
}

/// Binary precision of class 1.
///
/// ```
/// assert_eq!(dl_core::metrics::precision(&[1, 0, 1, 1], &[1, 1, 1, 0]), 2.0 / 3.0);
/// ```
#[track_caller]
pub fn precision(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("precision", y_true, y_pred);
    per_class(y_true, y_pred, 1).0
}

/// Binary recall of class 1.
///
/// ```
/// assert_eq!(dl_core::metrics::recall(&[1, 0, 1, 1], &[1, 1, 1, 0]), 2.0 / 3.0);
/// ```
#[track_caller]
pub fn recall(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("recall", y_true, y_pred);
    per_class(y_true, y_pred, 1).1
}

/// Binary F1 of class 1.
///
/// ```
/// let f1 = dl_core::metrics::f1_score(&[1, 0, 1, 1], &[1, 1, 1, 0]);
/// assert!((f1 - 2.0 / 3.0).abs() < 1e-6);
/// ```
#[track_caller]
pub fn f1_score(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("f1_score", y_true, y_pred);
    per_class(y_true, y_pred, 1).2
}

/// Precision averaged over all classes present (macro).
///
/// ```
/// assert_eq!(dl_core::metrics::precision_macro(&[0, 1, 2], &[0, 1, 2]), 1.0);
/// ```
#[track_caller]
pub fn precision_macro(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("precision_macro", y_true, y_pred);
    macro_average(y_true, y_pred, |c| c.0)
}

/// Recall averaged over all classes present (macro).
///
/// ```
/// assert_eq!(dl_core::metrics::recall_macro(&[0, 0, 1, 1], &[0, 0, 0, 1]), 0.75);
/// ```
#[track_caller]
pub fn recall_macro(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("recall_macro", y_true, y_pred);
    macro_average(y_true, y_pred, |c| c.1)
}

/// F1 averaged over all classes present (macro).
///
/// ```
/// let f = dl_core::metrics::f1_macro(&[0, 0, 1, 1], &[0, 0, 0, 1]);
/// assert!((f - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-6);
/// ```
#[track_caller]
pub fn f1_macro(y_true: &[usize], y_pred: &[usize]) -> f32 {
    check("f1_macro", y_true, y_pred);
    macro_average(y_true, y_pred, |c| c.2)
}
