//! Confusion matrix: `C[i][j]` = number of samples of true class `i` predicted as class `j`
//! (rows are the truth, columns the prediction, as in scikit-learn).

use ndarray::Array2;

/// The `k × k` confusion matrix (`k = num_classes`, or the largest label + 1 if 0).
///
/// ```
/// let cm = dl_core::metrics::confusion_matrix(&[0, 0, 1, 1], &[0, 1, 1, 1], 2);
/// assert_eq!(cm, ndarray::array![[1, 1], [0, 2]]);
/// ```
#[track_caller]
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], num_classes: usize) -> Array2<usize> {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "confusion_matrix: y_true has {} labels, y_pred has {}",
        y_true.len(),
        y_pred.len()
    );
    let k = if num_classes == 0 {
        y_true.iter().chain(y_pred).max().map_or(0, |m| m + 1)
    } else {
        num_classes
    };
    let mut cm = Array2::zeros((k, k));
    for (&t, &p) in y_true.iter().zip(y_pred) {
        assert!(
            t < k && p < k,
            "confusion_matrix: label {} or {} is not below num_classes {k}",
            t,
            p
        );
        cm[[t, p]] += 1;
    }
    cm
}
