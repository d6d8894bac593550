//! Accuracy: the fraction of correct predictions, `(1/n) Σ_i [ŷ_i = y_i]`.

/// Fraction of positions where `y_pred` equals `y_true`.
///
/// **Panics** if the lengths differ.
///
/// ```
/// assert_eq!(dl_core::metrics::accuracy(&[0, 1, 1, 0], &[0, 1, 0, 0]), 0.75);
/// ```
#[track_caller]
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> f32 {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "accuracy: y_true has {} labels, y_pred has {}",
        y_true.len(),
        y_pred.len()
    );
    if y_true.is_empty() {
        return 0.0;
    }
    y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count() as f32 / y_true.len() as f32
}
