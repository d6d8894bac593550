//! Feature scaling, fitted on training data and applied to any data.
//!
//! ```text
//! standardisation:  x' = (x − μ) / σ              (σ = 1 where a column is constant)
//! min-max:          x' = (x − min) / (max − min)  (range 1 where a column is constant)
//! ```
//!
//! Fit on the training set only, then transform both training and test sets, so that no
//! information from the test set leaks into training.

use crate::tensor::Tensor;
use ndarray::{Array1, Axis};

fn columns(op: &str, x: &Tensor) -> ndarray::Array2<f32> {
    match x.ndim() {
        1 => x
            .clone()
            .insert_axis(Axis(1))
            .into_dimensionality()
            .unwrap(),
        2 => x.clone().into_dimensionality().unwrap(),
        _ => panic!(
            "{op}: expected a [n] or [n, d] tensor, got shape {:?}",
            x.shape()
        ),
    }
}

#[track_caller]
fn check_width(op: &str, x: &ndarray::Array2<f32>, expected: usize, shape: &[usize]) {
    assert!(
        x.ncols() == expected,
        "{op}: fitted on {expected} columns, got a tensor of shape {shape:?}"
    );
}

/// Standardisation to zero mean and unit variance per column (scikit-learn `StandardScaler`).
///
/// ```
/// use dl_core::data::Standardizer;
/// let x = dl_core::tensor::from_vec(&[4, 1], vec![1.0, 2.0, 3.0, 4.0]);
/// let scaler = Standardizer::fit(&x);
/// let z = scaler.transform(&x);
/// assert!(z.mean().unwrap().abs() < 1e-6);
/// assert!((scaler.inverse_transform(&z) - &x).iter().all(|d| d.abs() < 1e-5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Column means μ.
    pub mean: Array1<f32>,
    /// Column standard deviations σ (population).
    pub std: Array1<f32>,
}

impl Standardizer {
    /// Learns μ and σ of each column of `[n, d]` (or `[n]`) data, ignoring `NaN`s.
    #[track_caller]
    pub fn fit(x: &Tensor) -> Standardizer {
        let m = columns("Standardizer::fit", x);
        let mut mean = Array1::zeros(m.ncols());
        let mut std = Array1::ones(m.ncols());
        for (j, col) in m.columns().into_iter().enumerate() {
            let obs: Vec<f64> = col
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| v as f64)
                .collect();
            let n = obs.len().max(1) as f64;
            let mu = obs.iter().sum::<f64>() / n;
            let sigma = (obs.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n).sqrt();
            mean[j] = mu as f32;
            std[j] = if sigma > 1e-12 { sigma as f32 } else { 1.0 };
        }
        Standardizer { mean, std }
    }

    /// `(x − μ) / σ`.
    #[track_caller]
    pub fn transform(&self, x: &Tensor) -> Tensor {
        let m = columns("Standardizer::transform", x);
        check_width("Standardizer::transform", &m, self.mean.len(), x.shape());
        ((m - &self.mean) / &self.std)
            .into_dyn()
            .into_shape_with_order(x.raw_dim())
            .unwrap()
    }

    /// `x σ + μ`.
    #[track_caller]
    pub fn inverse_transform(&self, x: &Tensor) -> Tensor {
        let m = columns("Standardizer::inverse_transform", x);
        check_width(
            "Standardizer::inverse_transform",
            &m,
            self.mean.len(),
            x.shape(),
        );
        (m * &self.std + &self.mean)
            .into_dyn()
            .into_shape_with_order(x.raw_dim())
            .unwrap()
    }
}

/// Min-max scaling of each column to `[0, 1]` (scikit-learn `MinMaxScaler`).
///
/// ```
/// use dl_core::data::MinMaxScaler;
/// let x = dl_core::tensor::from_vec(&[3, 1], vec![10.0, 15.0, 20.0]);
/// let s = MinMaxScaler::fit(&x);
/// assert_eq!(s.transform(&x).as_slice().unwrap(), &[0.0, 0.5, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MinMaxScaler {
    /// Column minima.
    pub min: Array1<f32>,
    /// Column ranges `max − min` (1 for constant columns).
    pub range: Array1<f32>,
}

impl MinMaxScaler {
    /// Learns each column's minimum and range, ignoring `NaN`s.
    #[track_caller]
    pub fn fit(x: &Tensor) -> MinMaxScaler {
        let m = columns("MinMaxScaler::fit", x);
        let mut min = Array1::zeros(m.ncols());
        let mut range = Array1::ones(m.ncols());
        for (j, col) in m.columns().into_iter().enumerate() {
            let lo = col
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f32::INFINITY, f32::min);
            let hi = col
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f32::NEG_INFINITY, f32::max);
            if lo.is_finite() {
                min[j] = lo;
                range[j] = if hi - lo > 0.0 { hi - lo } else { 1.0 };
            }
        }
        MinMaxScaler { min, range }
    }

    /// `(x − min) / (max − min)`.
    #[track_caller]
    pub fn transform(&self, x: &Tensor) -> Tensor {
        let m = columns("MinMaxScaler::transform", x);
        check_width("MinMaxScaler::transform", &m, self.min.len(), x.shape());
        ((m - &self.min) / &self.range)
            .into_dyn()
            .into_shape_with_order(x.raw_dim())
            .unwrap()
    }

    /// `x (max − min) + min`.
    #[track_caller]
    pub fn inverse_transform(&self, x: &Tensor) -> Tensor {
        let m = columns("MinMaxScaler::inverse_transform", x);
        check_width(
            "MinMaxScaler::inverse_transform",
            &m,
            self.min.len(),
            x.shape(),
        );
        (m * &self.range + &self.min)
            .into_dyn()
            .into_shape_with_order(x.raw_dim())
            .unwrap()
    }
}
