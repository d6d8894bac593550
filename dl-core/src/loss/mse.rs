//! Mean squared error.
//!
//! ```text
//! L       = (1/N) Σ_i (ŷ_i − y_i)²          N = number of elements
//! ∂L/∂ŷ_i = 2 (ŷ_i − y_i) / N
//! ```

use crate::tensor::{Tensor, assert_same_shape};

/// Mean squared error over all elements (PyTorch `MSELoss()`, Keras `"mse"`).
///
/// ```
/// let y_hat = dl_core::tensor::column(&[1.0, 2.0]);
/// let y = dl_core::tensor::column(&[0.0, 4.0]);
/// assert_eq!(dl_core::loss::mse(&y, &y_hat), 2.5);
/// ```
#[track_caller]
pub fn mse(y: &Tensor, y_hat: &Tensor) -> f32 {
    assert_same_shape("mse", y_hat, y);
    let n = y.len().max(1) as f32;
    y_hat
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        / n
}

/// Gradient of [`mse`] with respect to `y_hat`.
#[track_caller]
pub fn mse_grad(y: &Tensor, y_hat: &Tensor) -> Tensor {
    assert_same_shape("mse_grad", y_hat, y);
    let n = y.len().max(1) as f32;
    (y_hat - y) * (2.0 / n)
}
