//! Logistic regression `p = σ(X w + b)`, fitted by gradient descent on binary cross-entropy.
//!
//! ```text
//! loss:      L = −(1/n) Σ_i [ y_i ln p_i + (1 − y_i) ln(1 − p_i) ]
//! gradient:  ∂L/∂w = (1/n) Xᵀ(p − y),   ∂L/∂b = (1/n) Σ_i (p_i − y_i)
//! descent:   w ← w − η ∂L/∂w,   b ← b − η ∂L/∂b
//! predict:   class 1 when p > 0.5
//! ```

use crate::display::{MimeBundle, Show};
use crate::models::{as_matrix, as_targets};
use crate::nn::sigmoid;
use crate::tensor::Tensor;
use ndarray::Array1;

/// Binary logistic regression.
///
/// ```
/// use dl_core::prelude::*;
/// let x = dl_core::tensor::column(&[0.0, 0.2, 0.8, 1.0]);
/// let y = dl_core::tensor::column(&[0.0, 0.0, 1.0, 1.0]);
/// let mut model = LogisticRegression::new();
/// model.fit(&x, &y, 1.0, 2000);
/// assert_eq!(model.predict(&x), vec![0, 0, 1, 1]);
/// assert_eq!(model.accuracy(&x, &y), 1.0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct LogisticRegression {
    /// Weights `w`, one per feature.
    pub weights: Array1<f32>,
    /// Bias `b`.
    pub bias: f32,
    /// The loss after each epoch of the last `fit`.
    pub loss_history: Vec<f32>,
}

impl LogisticRegression {
    /// An unfitted model.
    pub fn new() -> LogisticRegression {
        LogisticRegression::default()
    }

    /// Full-batch gradient descent from zero weights; `y` holds 0/1 labels.
    ///
    /// **Panics** if the shapes of `x` and `y` disagree.
    #[track_caller]
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, lr: f32, num_epochs: usize) -> &mut Self {
        let xm = as_matrix("LogisticRegression::fit", x);
        let (n, d) = xm.dim();
        let yv = as_targets("LogisticRegression::fit", y, n, x.shape());
        let mut w = Array1::<f32>::zeros(d);
        let mut b = 0.0f32;
        self.loss_history.clear();
        for _ in 0..num_epochs {
            if crate::interrupt::requested() {
                break;
            }
            let z = xm.dot(&w) + b;
            let p = z.mapv(sigmoid);
            let loss = z
                .iter()
                .zip(yv.iter())
                .map(|(&z, &y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p())
                .sum::<f32>()
                / n as f32;
            self.loss_history.push(loss);
            let err = &p - &yv;
            w.scaled_add(-lr / n as f32, &xm.t().dot(&err));
            b -= lr * err.sum() / n as f32;
        }
        self.weights = w;
        self.bias = b;
        self
    }

    /// Probabilities of class 1, `[n, 1]`.
    ///
    /// **Panics** if the feature count differs from the fitted one.
    #[track_caller]
    pub fn predict_proba(&self, x: &Tensor) -> Tensor {
        let xm = as_matrix("LogisticRegression::predict_proba", x);
        assert!(
            xm.ncols() == self.weights.len(),
            "LogisticRegression::predict_proba: fitted on {} features, got x of shape {:?}",
            self.weights.len(),
            x.shape()
        );
        (xm.dot(&self.weights) + self.bias)
            .mapv(sigmoid)
            .insert_axis(ndarray::Axis(1))
            .into_dyn()
    }

    /// Class predictions (1 when `p > 0.5`).
    #[track_caller]
    pub fn predict(&self, x: &Tensor) -> Vec<usize> {
        crate::metrics::predicted_classes(&self.predict_proba(x))
    }

    /// Accuracy on `(x, y)`.
    #[track_caller]
    pub fn accuracy(&self, x: &Tensor, y: &Tensor) -> f32 {
        crate::metrics::accuracy(&crate::metrics::labels(y), &self.predict(x))
    }
}

impl Show for LogisticRegression {
    fn mime_bundle(&self) -> MimeBundle {
        let w: Vec<String> = self.weights.iter().map(|v| format!("{v:.4}")).collect();
        MimeBundle::text(&format!(
            "LogisticRegression(weights=[{}], bias={:.4})",
            w.join(", "),
            self.bias
        ))
    }
}
