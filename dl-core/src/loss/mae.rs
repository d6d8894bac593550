//! Mean absolute error.
//!
//! ```text
//! L       = (1/N) Σ_i |ŷ_i − y_i|
//! ∂L/∂ŷ_i = sign(ŷ_i − y_i) / N            (sign(0) = 0, as in PyTorch)
//! ```

use crate::tensor::{Tensor, assert_same_shape};

/// Mean absolute error over all elements (PyTorch `L1Loss()`, Keras `"mae"`).
///
/// ```
/// let y_hat = dl_core::tensor::column(&[1.0, 2.0]);
/// let y = dl_core::tensor::column(&[0.0, 4.0]);
/// assert_eq!(dl_core::loss::mae(&y, &y_hat), 1.5);
/// ```
#[track_caller]
pub fn mae(y: &Tensor, y_hat: &Tensor) -> f32 {
    assert_same_shape("mae", y_hat, y);
    let n = y.len().max(1) as f32;
    y_hat
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / n
}

/// Gradient of [`mae`] with respect to `y_hat`.
#[track_caller]
pub fn mae_grad(y: &Tensor, y_hat: &Tensor) -> Tensor {
    assert_same_shape("mae_grad", y_hat, y);
    let n = y.len().max(1) as f32;
    let mut g = y_hat - y;
    g.mapv_inplace(|d| {
        if d > 0.0 {
            1.0 / n
        } else if d < 0.0 {
            -1.0 / n
        } else {
            0.0
        }
    });
    g
}
