//! Regression metrics.
//!
//! ```text
//! MSE = (1/n) Σ (y − ŷ)²      MAE = (1/n) Σ |y − ŷ|
//! R²  = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²
//! ```

use crate::tensor::{Tensor, assert_same_shape};

/// Mean squared error between targets and predictions (same shape).
///
/// ```
/// let y = dl_core::tensor::column(&[1.0, 2.0]);
/// let y_hat = dl_core::tensor::column(&[1.0, 4.0]);
/// assert_eq!(dl_core::metrics::mean_squared_error(&y, &y_hat), 2.0);
/// ```
#[track_caller]
pub fn mean_squared_error(y: &Tensor, y_hat: &Tensor) -> f32 {
    assert_same_shape("mean_squared_error", y, y_hat);
    crate::loss::mse(y, y_hat)
}

/// Mean absolute error between targets and predictions (same shape).
///
/// ```
/// let y = dl_core::tensor::column(&[1.0, 2.0]);
/// let y_hat = dl_core::tensor::column(&[1.0, 4.0]);
/// assert_eq!(dl_core::metrics::mean_absolute_error(&y, &y_hat), 1.0);
/// ```
#[track_caller]
pub fn mean_absolute_error(y: &Tensor, y_hat: &Tensor) -> f32 {
    assert_same_shape("mean_absolute_error", y, y_hat);
    crate::loss::mae(y, y_hat)
}

/// Coefficient of determination R² (1 is perfect, 0 is as good as predicting the mean).
///
/// ```
/// let y = dl_core::tensor::column(&[1.0, 2.0, 3.0]);
/// assert_eq!(dl_core::metrics::r2_score(&y, &y), 1.0);
/// let mean = dl_core::tensor::column(&[2.0, 2.0, 2.0]);
/// assert_eq!(dl_core::metrics::r2_score(&y, &mean), 0.0);
/// ```
#[track_caller]
pub fn r2_score(y: &Tensor, y_hat: &Tensor) -> f32 {
    assert_same_shape("r2_score", y, y_hat);
    let n = y.len().max(1) as f64;
    let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n;
    let ss_res: f64 = y
        .iter()
        .zip(y_hat.iter())
        .map(|(&a, &b)| ((a - b) as f64).powi(2))
        .sum();
    let ss_tot: f64 = y.iter().map(|&a| (a as f64 - mean).powi(2)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    (1.0 - ss_res / ss_tot) as f32
}
