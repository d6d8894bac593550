//! The book's models as first-class types: the classical ones, and a small GPT with its
//! sampling.

mod gpt;
mod linear_regression;
mod logistic_regression;
mod sampling;

pub use gpt::{Gpt, GptConfig};
pub use linear_regression::LinearRegression;
pub use logistic_regression::LogisticRegression;
pub use sampling::{Sampling, generate};

use crate::tensor::Tensor;
use ndarray::Array2;

/// `[n]` or `[n, d]` features as an `[n, d]` matrix.
#[track_caller]
pub(crate) fn as_matrix(op: &str, x: &Tensor) -> Array2<f32> {
    match x.ndim() {
        1 => x
            .clone()
            .insert_axis(ndarray::Axis(1))
            .into_dimensionality()
            .unwrap(),
        2 => x.clone().into_dimensionality().unwrap(),
        _ => panic!(
            "{op}: expected features of shape [n] or [n, d], got {:?}",
            x.shape()
        ),
    }
}

/// `[n]` or `[n, 1]` targets as a vector, checked against `n`.
#[track_caller]
pub(crate) fn as_targets(
    op: &str,
    y: &Tensor,
    n: usize,
    x_shape: &[usize],
) -> ndarray::Array1<f32> {
    assert!(
        y.len() == n && (y.ndim() == 1 || (y.ndim() == 2 && y.shape()[1] == 1)),
        "{op}: targets of shape {:?} do not fit features of shape {:?} (expected [{n}] or [{n}, 1])",
        y.shape(),
        x_shape
    );
    y.iter().copied().collect()
}
