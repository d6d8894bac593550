//! Filling missing values (`NaN`) column by column.
//!
//! ```text
//! mean:    x_ij ← (1/m) Σ_{k observed} x_kj
//! median:  x_ij ← the middle observed value of column j (mean of the two middle ones if m is even)
//! ```
//!
//! A column with no observed value is filled with 0.

use crate::tensor::Tensor;
use ndarray::Axis;

fn columns_view(x: &Tensor) -> ndarray::Array2<f32> {
    match x.ndim() {
        1 => x
            .clone()
            .insert_axis(Axis(1))
            .into_dimensionality()
            .unwrap(),
        2 => x.clone().into_dimensionality().unwrap(),
        _ => panic!(
            "impute: expected a [n] or [n, d] tensor, got shape {:?}",
            x.shape()
        ),
    }
}

fn impute(x: &Tensor, fill: fn(&mut [f32]) -> f32) -> Tensor {
    let mut m = columns_view(x);
    for mut col in m.columns_mut() {
        let mut observed: Vec<f32> = col.iter().copied().filter(|v| !v.is_nan()).collect();
        let value = if observed.is_empty() {
            0.0
        } else {
            fill(&mut observed)
        };
        col.mapv_inplace(|v| if v.is_nan() { value } else { v });
    }
    m.into_dyn().into_shape_with_order(x.raw_dim()).unwrap()
}

/// Replaces each `NaN` by its column's mean.
///
/// **Panics** if `x` has more than two axes.
///
/// ```
/// let x = dl_core::tensor::from_vec(&[3, 1], vec![1.0, f32::NAN, 3.0]);
/// assert_eq!(dl_core::data::impute_mean(&x).as_slice().unwrap(), &[1.0, 2.0, 3.0]);
/// ```
#[track_caller]
pub fn impute_mean(x: &Tensor) -> Tensor {
    impute(x, |v| v.iter().sum::<f32>() / v.len() as f32)
}

/// Replaces each `NaN` by its column's median.
///
/// **Panics** if `x` has more than two axes.
///
/// ```
/// let x = dl_core::tensor::from_vec(&[4], vec![1.0, f32::NAN, 10.0, 2.0]);
/// assert_eq!(dl_core::data::impute_median(&x).as_slice().unwrap(), &[1.0, 2.0, 10.0, 2.0]);
/// ```
#[track_caller]
pub fn impute_median(x: &Tensor) -> Tensor {
    impute(x, median)
}

pub(crate) fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Fills gaps in a series by straight lines between the nearest observed neighbours
/// (`NaN`s before the first or after the last observation take that observation's value).
///
/// ```text
/// x_t ← x_a + (x_b − x_a)(t − a)/(b − a)     a < t < b the nearest observed indices
/// ```
///
/// ```
/// let filled = dl_core::data::interpolate_linear(&[1.0, f32::NAN, f32::NAN, 4.0, f32::NAN]);
/// assert_eq!(filled, vec![1.0, 2.0, 3.0, 4.0, 4.0]);
/// ```
pub fn interpolate_linear(series: &[f32]) -> Vec<f32> {
    let observed: Vec<usize> = (0..series.len()).filter(|&i| !series[i].is_nan()).collect();
    if observed.is_empty() {
        return vec![0.0; series.len()];
    }
    let mut out = series.to_vec();
    for (t, v) in out.iter_mut().enumerate() {
        if !v.is_nan() {
            continue;
        }
        let next = observed.partition_point(|&i| i < t);
        *v = match (next.checked_sub(1).map(|p| observed[p]), observed.get(next)) {
            (Some(a), Some(&b)) => {
                series[a] + (series[b] - series[a]) * (t - a) as f32 / (b - a) as f32
            }
            (Some(a), None) => series[a],
            (None, Some(&b)) => series[b],
            (None, None) => 0.0,
        };
    }
    out
}
