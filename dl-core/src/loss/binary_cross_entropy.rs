//! Binary cross-entropy, from probabilities and from logits.
//!
//! ```text
//! from probabilities p:   L = −(1/N) Σ [ y ln p + (1 − y) ln(1 − p) ]      (each log clamped ≥ −100)
//!                         ∂L/∂p = (p − y) / (p (1 − p)) / N                 (denominator ≥ 1e-12)
//! from logits z:          L = (1/N) Σ [ max(z, 0) − z y + ln(1 + e^(−|z|)) ]
//!                         ∂L/∂z = (σ(z) − y) / N
//! ```
//!
//! The logits form is the stable one (PyTorch `BCEWithLogitsLoss`, Keras `from_logits=True`):
//! put no Sigmoid layer at the end of the model and use it.

use crate::nn::sigmoid;
use crate::tensor::{Tensor, assert_same_shape};

/// Binary cross-entropy of probabilities `p` in `[0, 1]` against targets `y` (PyTorch `BCELoss`).
///
/// ```
/// let p = dl_core::tensor::column(&[0.5]);
/// let y = dl_core::tensor::column(&[1.0]);
/// assert!((dl_core::loss::binary_cross_entropy(&y, &p) - 2f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn binary_cross_entropy(y: &Tensor, p: &Tensor) -> f32 {
    assert_same_shape("binary_cross_entropy", p, y);
    let n = y.len().max(1) as f32;
    p.iter()
        .zip(y.iter())
        .map(|(&p, &y)| -(y * p.ln().max(-100.0) + (1.0 - y) * (1.0 - p).ln().max(-100.0)))
        .sum::<f32>()
        / n
}

/// Gradient of [`binary_cross_entropy`] with respect to `p`.
#[track_caller]
pub fn binary_cross_entropy_grad(y: &Tensor, p: &Tensor) -> Tensor {
    assert_same_shape("binary_cross_entropy_grad", p, y);
    let n = y.len().max(1) as f32;
    let mut g = p.clone();
    ndarray::Zip::from(&mut g)
        .and(y)
        .for_each(|g, &y| *g = (*g - y) / (*g * (1.0 - *g)).max(1e-12) / n);
    g
}

/// Binary cross-entropy of logits `z` against targets `y` (PyTorch `BCEWithLogitsLoss`).
///
/// ```
/// let z = dl_core::tensor::column(&[0.0]);
/// let y = dl_core::tensor::column(&[1.0]);
/// assert!((dl_core::loss::binary_cross_entropy_with_logits(&y, &z) - 2f32.ln()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn binary_cross_entropy_with_logits(y: &Tensor, z: &Tensor) -> f32 {
    assert_same_shape("binary_cross_entropy_with_logits", z, y);
    let n = y.len().max(1) as f32;
    z.iter()
        .zip(y.iter())
        .map(|(&z, &y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p())
        .sum::<f32>()
        / n
}

/// Gradient of [`binary_cross_entropy_with_logits`] with respect to `z`.
#[track_caller]
pub fn binary_cross_entropy_with_logits_grad(y: &Tensor, z: &Tensor) -> Tensor {
    assert_same_shape("binary_cross_entropy_with_logits_grad", z, y);
    let n = y.len().max(1) as f32;
    let mut g = z.clone();
    ndarray::Zip::from(&mut g)
        .and(y)
        .for_each(|g, &y| *g = (sigmoid(*g) - y) / n);
    g
}
