//! Taming outliers by clipping each column to a range computed from that column.
//!
//! ```text
//! IQR rule:   [Q1 − k·IQR, Q3 + k·IQR],  IQR = Q3 − Q1   (k = 1.5 is Tukey's fence)
//! z-score:    [μ − z·σ, μ + z·σ]                        (z = 3 is usual)
//! ```
//!
//! Quartiles use linear interpolation between order statistics (NumPy's default). `NaN` values
//! are ignored when computing the range and left as they are.

use crate::tensor::Tensor;
use ndarray::{Array2, Axis};

fn as_columns(op: &str, x: &Tensor) -> Array2<f32> {
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

/// The `q`-quantile (`0 ≤ q ≤ 1`) with linear interpolation (NumPy's default method).
///
/// ```
/// assert_eq!(dl_core::data::quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
/// ```
pub fn quantile(values: &[f32], q: f32) -> f32 {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(f32::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f32;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f32)
}

fn clip_columns(op: &str, x: &Tensor, bounds: impl Fn(&[f32]) -> (f32, f32)) -> Tensor {
    let mut m = as_columns(op, x);
    for mut col in m.columns_mut() {
        let values: Vec<f32> = col.iter().copied().collect();
        let (lo, hi) = bounds(&values);
        col.mapv_inplace(|v| if v.is_nan() { v } else { v.clamp(lo, hi) });
    }
    m.into_dyn().into_shape_with_order(x.raw_dim()).unwrap()
}

/// Clips each column to `[Q1 − k·IQR, Q3 + k·IQR]`.
///
/// ```
/// let x = dl_core::tensor::from_vec(&[5], vec![1.0, 2.0, 3.0, 4.0, 100.0]);
/// let clipped = dl_core::data::clip_outliers_iqr(&x, 1.5);
/// assert_eq!(clipped[4], 7.0); // Q1 = 2, Q3 = 4, IQR = 2 → upper fence 7
/// ```
#[track_caller]
pub fn clip_outliers_iqr(x: &Tensor, k: f32) -> Tensor {
    clip_columns("clip_outliers_iqr", x, |v| {
        let (q1, q3) = (quantile(v, 0.25), quantile(v, 0.75));
        let iqr = q3 - q1;
        (q1 - k * iqr, q3 + k * iqr)
    })
}

/// Clips each column to `[μ − z·σ, μ + z·σ]` (σ the population standard deviation).
///
/// ```
/// let mut v = vec![0.0f32; 99];
/// v.push(100.0);
/// let x = dl_core::tensor::from_vec(&[100], v);
/// let clipped = dl_core::data::clip_outliers_zscore(&x, 3.0);
/// assert!(clipped[99] < 100.0);
/// ```
#[track_caller]
pub fn clip_outliers_zscore(x: &Tensor, z: f32) -> Tensor {
    clip_columns("clip_outliers_zscore", x, |v| {
        let obs: Vec<f64> = v
            .iter()
            .filter(|x| !x.is_nan())
            .map(|&x| x as f64)
            .collect();
        let n = obs.len().max(1) as f64;
        let mean = obs.iter().sum::<f64>() / n;
        let std = (obs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        (
            (mean - z as f64 * std) as f32,
            (mean + z as f64 * std) as f32,
        )
    })
}
