//! Categorical cross-entropy with one-hot (or soft) targets `y` of shape `[n, k]`.
//!
//! ```text
//! from probabilities p:  L = −(1/n) Σ_rows Σ_k y_k ln max(p_k, 1e-7)
//!                        ∂L/∂p_k = −y_k / max(p_k, 1e-7) / n
//! from logits z:         L = (1/n) Σ_rows [ logsumexp(z) − Σ_k y_k z_k ]
//!                        ∂L/∂z_k = (softmax(z)_k Σ_j y_j − y_k) / n
//! ```
//!
//! Keras' `categorical_crossentropy` takes probabilities (after a Softmax layer); PyTorch's
//! `CrossEntropyLoss` takes logits. The logits form is the stable one.

use crate::nn::softmax_last_axis;
use crate::tensor::{Tensor, assert_same_shape};

const EPS: f32 = 1e-7;

#[track_caller]
fn rows(op: &str, t: &Tensor) -> usize {
    assert!(
        t.ndim() == 2,
        "{op}: expected [n, classes], got shape {:?}",
        t.shape()
    );
    t.shape()[0].max(1)
}

/// Categorical cross-entropy of probabilities `p` `[n, k]` against one-hot `y` `[n, k]`.
///
/// ```
/// let p = dl_core::tensor::from_vec(&[1, 2], vec![0.25, 0.75]);
/// let y = dl_core::tensor::from_vec(&[1, 2], vec![0.0, 1.0]);
/// assert!((dl_core::loss::categorical_cross_entropy(&y, &p) + 0.75f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn categorical_cross_entropy(y: &Tensor, p: &Tensor) -> f32 {
    assert_same_shape("categorical_cross_entropy", p, y);
    let n = rows("categorical_cross_entropy", p) as f32;
    -p.iter()
        .zip(y.iter())
        .map(|(&p, &y)| if y != 0.0 { y * p.max(EPS).ln() } else { 0.0 })
        .sum::<f32>()
        / n
}

/// Gradient of [`categorical_cross_entropy`] with respect to `p`.
#[track_caller]
pub fn categorical_cross_entropy_grad(y: &Tensor, p: &Tensor) -> Tensor {
    assert_same_shape("categorical_cross_entropy_grad", p, y);
    let n = rows("categorical_cross_entropy_grad", p) as f32;
    let mut g = p.clone();
    ndarray::Zip::from(&mut g)
        .and(y)
        .for_each(|g, &y| *g = -y / g.max(EPS) / n);
    g
}

/// Categorical cross-entropy of logits `z` `[n, k]` against one-hot `y` (PyTorch
/// `CrossEntropyLoss` with probability targets).
///
/// ```
/// let z = dl_core::tensor::from_vec(&[1, 2], vec![0.0, 0.0]);
/// let y = dl_core::tensor::from_vec(&[1, 2], vec![1.0, 0.0]);
/// assert!((dl_core::loss::categorical_cross_entropy_with_logits(&y, &z) - 2f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn categorical_cross_entropy_with_logits(y: &Tensor, z: &Tensor) -> f32 {
    assert_same_shape("categorical_cross_entropy_with_logits", z, y);
    let n = rows("categorical_cross_entropy_with_logits", z) as f32;
    let mut total = 0.0;
    for (zr, yr) in z.outer_iter().zip(y.outer_iter()) {
        let max = zr.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + zr.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
        let y_sum: f32 = yr.sum();
        let yz: f32 = zr.iter().zip(yr.iter()).map(|(z, y)| z * y).sum();
        total += y_sum * lse - yz;
    }
    total / n
}

/// Gradient of [`categorical_cross_entropy_with_logits`] with respect to `z`.
#[track_caller]
pub fn categorical_cross_entropy_with_logits_grad(y: &Tensor, z: &Tensor) -> Tensor {
    assert_same_shape("categorical_cross_entropy_with_logits_grad", z, y);
    let n = rows("categorical_cross_entropy_with_logits_grad", z) as f32;
    let mut g = softmax_last_axis(z);
    for (mut gr, yr) in g.outer_iter_mut().zip(y.outer_iter()) {
        let y_sum: f32 = yr.sum();
        ndarray::Zip::from(&mut gr)
            .and(&yr)
            .for_each(|g, &y| *g = (*g * y_sum - y) / n);
    }
    g
}
