//! Linear regression `ŷ = X w + b`, fitted by gradient descent or in closed form.
//!
//! ```text
//! loss:          L(w, b) = (1/n) Σ_i (x_i·w + b − y_i)²
//! gradient:      ∂L/∂w = (2/n) Xᵀ(ŷ − y),   ∂L/∂b = (2/n) Σ_i (ŷ_i − y_i)
//! descent:       w ← w − η ∂L/∂w,   b ← b − η ∂L/∂b
//! closed form:   [w; b] = (X̃ᵀX̃)⁻¹ X̃ᵀ y,  X̃ = [X 1]   (the normal equations, solved in f64)
//! ```

use crate::display::{MimeBundle, Show};
use crate::models::{as_matrix, as_targets};
use crate::tensor::Tensor;
use ndarray::{Array1, Array2};

/// Linear regression with `d` weights and a bias.
///
/// ```
/// use dl_core::prelude::*;
/// let x = dl_core::tensor::column(&[0.0, 1.0, 2.0, 3.0]);
/// let y = x.mapv(|v| 3.0 * v + 1.0);
/// let mut model = LinearRegression::new();
/// model.fit(&x, &y, 0.1, 2000);
/// assert!((model.slope() - 3.0).abs() < 1e-3 && (model.intercept() - 1.0).abs() < 1e-3);
/// model.fit_closed_form(&x, &y);
/// assert!((model.slope() - 3.0).abs() < 1e-4);
/// assert_eq!(model.predict(&x).shape(), &[4, 1]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct LinearRegression {
    /// Weights `w`, one per feature.
    pub weights: Array1<f32>,
    /// Bias `b`.
    pub bias: f32,
    /// The loss after each epoch of the last `fit`.
    pub loss_history: Vec<f32>,
}

impl LinearRegression {
    /// An unfitted model (weights appear at the first fit).
    pub fn new() -> LinearRegression {
        LinearRegression::default()
    }

    /// Full-batch gradient descent from zero weights, `num_epochs` steps of size `lr`.
    ///
    /// **Panics** if `x` (`[n]` or `[n, d]`) and `y` (`[n]` or `[n, 1]`) disagree.
    #[track_caller]
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, lr: f32, num_epochs: usize) -> &mut Self {
        let xm = as_matrix("LinearRegression::fit", x);
        let (n, d) = xm.dim();
        let yv = as_targets("LinearRegression::fit", y, n, x.shape());
        let mut w = Array1::<f32>::zeros(d);
        let mut b = 0.0f32;
        self.loss_history.clear();
        for _ in 0..num_epochs {
            if crate::interrupt::requested() {
                break;
            }
            let y_hat = xm.dot(&w) + b;
            let err = &y_hat - &yv;
            self.loss_history.push(err.mapv(|e| e * e).sum() / n as f32);
            let grad_w = xm.t().dot(&err) * (2.0 / n as f32);
            let grad_b = err.sum() * 2.0 / n as f32;
            w.scaled_add(-lr, &grad_w);
            b -= lr * grad_b;
        }
        self.weights = w;
        self.bias = b;
        self
    }

    /// The exact least-squares solution of the normal equations.
    ///
    /// **Panics** if the shapes disagree or the features are linearly dependent.
    #[track_caller]
    pub fn fit_closed_form(&mut self, x: &Tensor, y: &Tensor) -> &mut Self {
        let xm = as_matrix("LinearRegression::fit_closed_form", x);
        let (n, d) = xm.dim();
        let yv = as_targets("LinearRegression::fit_closed_form", y, n, x.shape());
        // Normal equations A θ = c with A = X̃ᵀX̃ ((d+1)×(d+1)), c = X̃ᵀy, in f64.
        let mut a = Array2::<f64>::zeros((d + 1, d + 1));
        let mut c = vec![0.0f64; d + 1];
        for i in 0..n {
            let row: Vec<f64> = xm.row(i).iter().map(|&v| v as f64).chain([1.0]).collect();
            for p in 0..=d {
                c[p] += row[p] * yv[i] as f64;
                for q in 0..=d {
                    a[[p, q]] += row[p] * row[q];
                }
            }
        }
        let theta = solve(a, c).unwrap_or_else(|| {
            panic!("LinearRegression::fit_closed_form: XᵀX is singular (features of shape {:?} are linearly dependent)", x.shape())
        });
        self.weights = theta[..d].iter().map(|&v| v as f32).collect();
        self.bias = theta[d] as f32;
        self.loss_history.clear();
        self
    }

    /// Predictions `[n, 1]`.
    ///
    /// **Panics** if the model is unfitted or the feature count differs.
    #[track_caller]
    pub fn predict(&self, x: &Tensor) -> Tensor {
        let xm = as_matrix("LinearRegression::predict", x);
        assert!(
            xm.ncols() == self.weights.len(),
            "LinearRegression::predict: fitted on {} features, got x of shape {:?}",
            self.weights.len(),
            x.shape()
        );
        (xm.dot(&self.weights) + self.bias)
            .insert_axis(ndarray::Axis(1))
            .into_dyn()
    }

    /// The first weight (the slope of a one-feature model).
    pub fn slope(&self) -> f32 {
        self.weights.first().copied().unwrap_or(0.0)
    }

    /// The bias (the intercept).
    pub fn intercept(&self) -> f32 {
        self.bias
    }

    /// R² of the predictions on `(x, y)`.
    #[track_caller]
    pub fn score(&self, x: &Tensor, y: &Tensor) -> f32 {
        let y_hat = self.predict(x);
        let y2 = y
            .clone()
            .into_shape_with_order(y_hat.raw_dim())
            .unwrap_or_else(|_| {
                panic!(
                    "LinearRegression::score: y of shape {:?} does not fit predictions {:?}",
                    y.shape(),
                    y_hat.shape()
                )
            });
        crate::metrics::r2_score(&y2, &y_hat)
    }
}

/// Gaussian elimination with partial pivoting; `None` if singular.
fn solve(mut a: Array2<f64>, mut c: Vec<f64>) -> Option<Vec<f64>> {
    let m = c.len();
    for col in 0..m {
        let pivot = (col..m).max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))?;
        if a[[pivot, col]].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..m {
                a.swap([col, k], [pivot, k]);
            }
            c.swap(col, pivot);
        }
        for row in col + 1..m {
            let f = a[[row, col]] / a[[col, col]];
            for k in col..m {
                a[[row, k]] -= f * a[[col, k]];
            }
            c[row] -= f * c[col];
        }
    }
    let mut x = vec![0.0; m];
    for row in (0..m).rev() {
        let s: f64 = (row + 1..m).map(|k| a[[row, k]] * x[k]).sum();
        x[row] = (c[row] - s) / a[[row, row]];
    }
    Some(x)
}

impl Show for LinearRegression {
    fn mime_bundle(&self) -> MimeBundle {
        let w: Vec<String> = self.weights.iter().map(|v| format!("{v:.4}")).collect();
        MimeBundle::text(&format!(
            "LinearRegression(weights=[{}], bias={:.4})",
            w.join(", "),
            self.bias
        ))
    }
}
