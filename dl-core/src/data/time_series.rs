//! Sliding windows over a time series, for sequence models.
//!
//! With window length `w` and horizon `h`, sample `i` is
//!
//! ```text
//! x_i = (s_i, s_{i+1}, …, s_{i+w−1})        shape [w, 1]
//! y_i = s_{i+w+h−1}                          (h = 1: the next value)
//! ```
//!
//! giving `n − w − h + 1` samples as `x: [samples, w, 1]`, `y: [samples, 1]`.

use crate::tensor::{Tensor, from_vec};

/// Windows of length `window` and the value `horizon` steps after each window.
///
/// **Panics** if the series is shorter than `window + horizon` or `horizon` is 0.
///
/// ```
/// let (x, y) = dl_core::data::sliding_windows(&[1.0, 2.0, 3.0, 4.0, 5.0], 3, 1);
/// assert_eq!(x.shape(), &[2, 3, 1]);
/// assert_eq!(y.as_slice().unwrap(), &[4.0, 5.0]);
/// ```
#[track_caller]
pub fn sliding_windows(series: &[f32], window: usize, horizon: usize) -> (Tensor, Tensor) {
    assert!(horizon >= 1, "sliding_windows: horizon must be at least 1");
    assert!(
        window >= 1 && series.len() >= window + horizon,
        "sliding_windows: a series of length {} is too short for window {window} and horizon {horizon}",
        series.len()
    );
    let samples = series.len() - window - horizon + 1;
    let mut xs = Vec::with_capacity(samples * window);
    let mut ys = Vec::with_capacity(samples);
    for i in 0..samples {
        xs.extend_from_slice(&series[i..i + window]);
        ys.push(series[i + window + horizon - 1]);
    }
    (
        from_vec(&[samples, window, 1], xs),
        from_vec(&[samples, 1], ys),
    )
}
