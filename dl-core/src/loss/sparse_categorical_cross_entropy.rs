//! Sparse categorical cross-entropy: integer class labels instead of one-hot rows.
//!
//! Labels `c` have shape `[n]` or `[n, 1]` (class indices stored as f32); predictions `[n, k]`.
//!
//! ```text
//! from probabilities p:  L = −(1/n) Σ_i ln max(p_{i, c_i}, 1e-7)
//! from logits z:         L =  (1/n) Σ_i [ logsumexp(z_i) − z_{i, c_i} ]
//! ```
//!
//! The same as the categorical loss with `y = one_hot(c)`, without building the one-hot matrix.

use crate::loss::categorical_cross_entropy as cce;
use crate::tensor::Tensor;

/// One-hot rows `[n, k]` for labels of shape `[n]` or `[n, 1]`.
///
/// **Panics** naming both shapes if the label count does not match `n`, or a label is not a
/// class index below `k`.
#[track_caller]
pub fn labels_to_one_hot(op: &str, labels: &Tensor, predictions: &Tensor) -> Tensor {
    assert!(
        predictions.ndim() == 2,
        "{op}: expected predictions [n, classes], got shape {:?}",
        predictions.shape()
    );
    let (n, k) = (predictions.shape()[0], predictions.shape()[1]);
    assert!(
        labels.len() == n && (labels.ndim() == 1 || (labels.ndim() == 2 && labels.shape()[1] == 1)),
        "{op}: labels of shape {:?} do not fit predictions of shape {:?} (expected [{n}] or [{n}, 1])",
        labels.shape(),
        predictions.shape()
    );
    let mut one_hot = Tensor::zeros(predictions.raw_dim());
    for (i, &c) in labels.iter().enumerate() {
        let c_index = c as usize;
        assert!(
            c >= 0.0 && c.fract() == 0.0 && c_index < k,
            "{op}: label {c} at row {i} is not a class index in 0..{k}"
        );
        one_hot[[i, c_index]] = 1.0;
    }
    one_hot
}

/// Sparse categorical cross-entropy of probabilities `[n, k]` against labels `[n]`.
///
/// ```
/// let p = dl_core::tensor::from_vec(&[1, 2], vec![0.25, 0.75]);
/// let labels = dl_core::tensor::from_vec(&[1], vec![1.0]);
/// assert!((dl_core::loss::sparse_categorical_cross_entropy(&labels, &p) + 0.75f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn sparse_categorical_cross_entropy(labels: &Tensor, p: &Tensor) -> f32 {
    let y = labels_to_one_hot("sparse_categorical_cross_entropy", labels, p);
    cce::categorical_cross_entropy(&y, p)
}

/// Gradient of [`sparse_categorical_cross_entropy`] with respect to the probabilities.
#[track_caller]
pub fn sparse_categorical_cross_entropy_grad(labels: &Tensor, p: &Tensor) -> Tensor {
    let y = labels_to_one_hot("sparse_categorical_cross_entropy_grad", labels, p);
    cce::categorical_cross_entropy_grad(&y, p)
}

/// Sparse categorical cross-entropy of logits `[n, k]` against labels (PyTorch
/// `CrossEntropyLoss` with class-index targets).
///
/// ```
/// let z = dl_core::tensor::from_vec(&[1, 2], vec![0.0, 0.0]);
/// let labels = dl_core::tensor::from_vec(&[1], vec![0.0]);
/// assert!((dl_core::loss::sparse_categorical_cross_entropy_with_logits(&labels, &z) - 2f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn sparse_categorical_cross_entropy_with_logits(labels: &Tensor, z: &Tensor) -> f32 {
    let y = labels_to_one_hot("sparse_categorical_cross_entropy_with_logits", labels, z);
    cce::categorical_cross_entropy_with_logits(&y, z)
}

/// Gradient of [`sparse_categorical_cross_entropy_with_logits`] with respect to the logits.
#[track_caller]
pub fn sparse_categorical_cross_entropy_with_logits_grad(labels: &Tensor, z: &Tensor) -> Tensor {
    let y = labels_to_one_hot(
        "sparse_categorical_cross_entropy_with_logits_grad",
        labels,
        z,
    );
    cce::categorical_cross_entropy_with_logits_grad(&y, z)
}
