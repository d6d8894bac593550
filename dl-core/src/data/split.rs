//! Train/test split: a seeded random permutation, the first `(1 − f)·n` samples for training,
//! the rest for testing.

use crate::rng::Rng;
use crate::tensor::{Tensor, select_rows};

/// The four parts of a train/test split.
#[derive(Clone, Debug)]
pub struct Split {
    /// Training features.
    pub x_train: Tensor,
    /// Test features.
    pub x_test: Tensor,
    /// Training targets.
    pub y_train: Tensor,
    /// Test targets.
    pub y_test: Tensor,
}

/// Shuffles with `seed` and holds out `test_fraction` of the samples (scikit-learn
/// `train_test_split`).
///
/// **Panics** if `x` and `y` have different sample counts or the fraction is outside (0, 1).
///
/// ```
/// let x = dl_core::tensor::from_vec(&[10, 1], (0..10).map(|v| v as f32).collect());
/// let split = dl_core::data::train_test_split(&x, &x, 0.3, 42);
/// assert_eq!(split.x_train.shape(), &[7, 1]);
/// assert_eq!(split.x_test.shape(), &[3, 1]);
/// assert_eq!(split.x_test, split.y_test);
/// ```
#[track_caller]
pub fn train_test_split(x: &Tensor, y: &Tensor, test_fraction: f32, seed: u64) -> Split {
    let n = x.shape()[0];
    assert!(
        y.shape()[0] == n,
        "train_test_split: x has shape {:?} and y has shape {:?}: the sample counts differ",
        x.shape(),
        y.shape()
    );
    assert!(
        test_fraction > 0.0 && test_fraction < 1.0,
        "train_test_split: test_fraction must be in (0, 1), got {test_fraction}"
    );
    let order = Rng::new(seed).permutation(n);
    let n_test = ((n as f32 * test_fraction).round() as usize).clamp(1, n.saturating_sub(1).max(1));
    let (test, train) = order.split_at(n_test);
    Split {
        x_train: select_rows(x, train),
        x_test: select_rows(x, test),
        y_train: select_rows(y, train),
        y_test: select_rows(y, test),
    }
}
