//! Loss functions `L(y, ŷ)` (truth first, then prediction) and their gradients `∂L/∂ŷ`.
//!
//! Each loss is a pair of plain functions in its own file (`mse`, `mse_grad`, ...) and a
//! variant of the [`Loss`] enum that `Sequential::compile` takes. All losses are means over the
//! batch (PyTorch's `reduction="mean"`).

mod binary_cross_entropy;
mod categorical_cross_entropy;
mod mae;
mod mse;
mod sparse_categorical_cross_entropy;

pub use binary_cross_entropy::*;
pub use categorical_cross_entropy::*;
pub use mae::*;
pub use mse::*;
pub use sparse_categorical_cross_entropy::*;

use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The losses `compile` accepts (Keras names in brackets).
///
/// ```
/// use dl_core::prelude::*;
/// let y_hat = dl_core::tensor::column(&[0.5, 1.5]);
/// let y = dl_core::tensor::column(&[0.0, 1.0]);
/// assert_eq!(Loss::Mse.compute(&y, &y_hat), 0.25);
/// assert_eq!(Loss::Mse.gradient(&y, &y_hat).shape(), &[2, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Mean squared error (`"mse"`).
    Mse,
    /// Mean absolute error (`"mae"`).
    Mae,
    /// Binary cross-entropy of probabilities (`"binary_crossentropy"`), after a Sigmoid.
    BinaryCrossEntropy,
    /// Binary cross-entropy of logits (`BinaryCrossentropy(from_logits=True)`).
    BinaryCrossEntropyWithLogits,
    /// Categorical cross-entropy of probabilities with one-hot targets (`"categorical_crossentropy"`).
    CategoricalCrossEntropy,
    /// Categorical cross-entropy of logits with one-hot targets.
    CategoricalCrossEntropyWithLogits,
    /// Sparse categorical cross-entropy of probabilities with class-index targets
    /// (`"sparse_categorical_crossentropy"`).
    SparseCategoricalCrossEntropy,
    /// Sparse categorical cross-entropy of logits with class-index targets (PyTorch `CrossEntropyLoss`).
    SparseCategoricalCrossEntropyWithLogits,
}

impl Loss {
    /// The loss value for targets `y` and predictions `y_hat` (truth first).
    #[track_caller]
    pub fn compute(&self, y: &Tensor, y_hat: &Tensor) -> f32 {
        if let Some((labels, scores)) = self.positions_as_rows(y, y_hat) {
            return self.compute(&labels, &scores);
        }
        match self {
            Loss::Mse => mse(y, y_hat),
            Loss::Mae => mae(y, y_hat),
            Loss::BinaryCrossEntropy => binary_cross_entropy(y, y_hat),
            Loss::BinaryCrossEntropyWithLogits => binary_cross_entropy_with_logits(y, y_hat),
            Loss::CategoricalCrossEntropy => categorical_cross_entropy(y, y_hat),
            Loss::CategoricalCrossEntropyWithLogits => {
                categorical_cross_entropy_with_logits(y, y_hat)
            }
            Loss::SparseCategoricalCrossEntropy => sparse_categorical_cross_entropy(y, y_hat),
            Loss::SparseCategoricalCrossEntropyWithLogits => {
                sparse_categorical_cross_entropy_with_logits(y, y_hat)
            }
        }
    }

    /// The gradient `∂L/∂y_hat`.
    #[track_caller]
    pub fn gradient(&self, y: &Tensor, y_hat: &Tensor) -> Tensor {
        if let Some((labels, scores)) = self.positions_as_rows(y, y_hat) {
            let grad = self.gradient(&labels, &scores);
            return grad
                .into_shape_with_order(y_hat.raw_dim())
                .expect("same length");
        }
        match self {
            Loss::Mse => mse_grad(y, y_hat),
            Loss::Mae => mae_grad(y, y_hat),
            Loss::BinaryCrossEntropy => binary_cross_entropy_grad(y, y_hat),
            Loss::BinaryCrossEntropyWithLogits => binary_cross_entropy_with_logits_grad(y, y_hat),
            Loss::CategoricalCrossEntropy => categorical_cross_entropy_grad(y, y_hat),
            Loss::CategoricalCrossEntropyWithLogits => {
                categorical_cross_entropy_with_logits_grad(y, y_hat)
            }
            Loss::SparseCategoricalCrossEntropy => sparse_categorical_cross_entropy_grad(y, y_hat),
            Loss::SparseCategoricalCrossEntropyWithLogits => {
                sparse_categorical_cross_entropy_with_logits_grad(y, y_hat)
            }
        }
    }

    /// A sparse loss over predictions `[n, t, .., k]` with labels `[n, t, ..]` (a class per
    /// position, as a language model predicts one token per position) is the loss over
    /// `n·t·…` rows: the labels as `[rows]`, the predictions as `[rows, k]`.
    fn positions_as_rows(&self, y: &Tensor, y_hat: &Tensor) -> Option<(Tensor, Tensor)> {
        let sparse = matches!(
            self,
            Loss::SparseCategoricalCrossEntropy | Loss::SparseCategoricalCrossEntropyWithLogits
        );
        let k = *y_hat.shape().last()?;
        if !sparse || y_hat.ndim() <= 2 || y.len() * k != y_hat.len() {
            return None;
        }
        let rows = y.len();
        let labels = y
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(vec![rows])
            .ok()?;
        let scores = y_hat
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(vec![rows, k])
            .ok()?;
        Some((labels.into_dyn(), scores.into_dyn()))
    }

    /// True for the losses that take logits (no final Sigmoid/Softmax layer).
    pub fn from_logits(&self) -> bool {
        matches!(
            self,
            Loss::BinaryCrossEntropyWithLogits
                | Loss::CategoricalCrossEntropyWithLogits
                | Loss::SparseCategoricalCrossEntropyWithLogits
        )
    }

    /// The Keras-style name, e.g. `"binary_crossentropy"`.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::BinaryCrossEntropy => "binary_crossentropy",
            Loss::BinaryCrossEntropyWithLogits => "binary_crossentropy_from_logits",
            Loss::CategoricalCrossEntropy => "categorical_crossentropy",
            Loss::CategoricalCrossEntropyWithLogits => "categorical_crossentropy_from_logits",
            Loss::SparseCategoricalCrossEntropy => "sparse_categorical_crossentropy",
            Loss::SparseCategoricalCrossEntropyWithLogits => {
                "sparse_categorical_crossentropy_from_logits"
            }
        }
    }

    /// Every loss, for tests and documentation.
    pub const ALL: [Loss; 8] = [
        Loss::Mse,
        Loss::Mae,
        Loss::BinaryCrossEntropy,
        Loss::BinaryCrossEntropyWithLogits,
        Loss::CategoricalCrossEntropy,
        Loss::CategoricalCrossEntropyWithLogits,
        Loss::SparseCategoricalCrossEntropy,
        Loss::SparseCategoricalCrossEntropyWithLogits,
    ];
}
