//! Softmax and log-softmax along an axis: probabilities from scores.
//!
//! ```text
//! y_i = e^{x_i − m} / Σ_j e^{x_j − m}         (m = max_j x_j, for stability)
//! ∂L/∂x_i = y_i (g_i − Σ_j g_j y_j)
//!
//! l_i = x_i − m − ln Σ_j e^{x_j − m}           (log-softmax)
//! ∂L/∂x_i = g_i − e^{l_i} Σ_j g_j
//! ```
//!
//! One fused operation each, so the graph holds one node instead of five, and
//! log-softmax never takes the logarithm of a rounded-down zero.

use crate::autograd::Var;
use crate::ops::fast_math;
use crate::tensor::Tensor;
use ndarray::Axis;

#[track_caller]
fn check_axis(op: &str, x: &Var, axis: usize) {
    assert!(
        axis < x.shape().len(),
        "{op}: axis {axis} of a variable of shape {:?}",
        x.shape()
    );
}

/// Softmax of every lane along `axis`.
fn softmax_lanes(x: &Tensor, axis: usize) -> Tensor {
    let mut y = x.as_standard_layout().into_owned();
    fast_math::with_best_simd(|| {
        for mut lane in y.lanes_mut(Axis(axis)) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let mut sum = 0.0;
            lane.mapv_inplace(|v| {
                // A masked score (−∞) has probability exactly 0.
                let e = if v == f32::NEG_INFINITY {
                    0.0
                } else {
                    fast_math::exp(v - max)
                };
                sum += e;
                e
            });
            let inv = 1.0 / sum;
            lane.mapv_inplace(|v| v * inv);
        }
    });
    y
}

impl Var {
    /// Softmax along `axis` (each lane sums to 1).
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// let x = Var::constant(dl_core::tensor::from_vec(&[1, 2], vec![0.0, 0.0]));
    /// assert_eq!(x.softmax(1).value().as_slice().unwrap(), &[0.5, 0.5]);
    /// ```
    #[track_caller]
    pub fn softmax(&self, axis: usize) -> Var {
        check_axis("softmax", self, axis);
        let value = softmax_lanes(self.value(), axis);
        Var::from_op(
            "softmax",
            value,
            &[self],
            Box::new(move |g, _, y| {
                let mut dx = g.as_standard_layout().into_owned();
                for (mut dx, y) in dx
                    .lanes_mut(Axis(axis))
                    .into_iter()
                    .zip(y.lanes(Axis(axis)))
                {
                    let dot: f32 = dx.iter().zip(y.iter()).map(|(g, y)| g * y).sum();
                    dx.zip_mut_with(&y, |g, &y| *g = y * (*g - dot));
                }
                vec![Some(dx)]
            }),
        )
    }

    /// `ln softmax(x)` along `axis`, computed without forming the probabilities' logarithm.
    #[track_caller]
    pub fn log_softmax(&self, axis: usize) -> Var {
        check_axis("log_softmax", self, axis);
        let mut value = self.value().as_standard_layout().into_owned();
        for mut lane in value.lanes_mut(Axis(axis)) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
            lane.mapv_inplace(|v| v - max - log_sum);
        }
        Var::from_op(
            "log_softmax",
            value,
            &[self],
            Box::new(move |g, _, l| {
                let mut dx = g.as_standard_layout().into_owned();
                for (mut dx, l) in dx
                    .lanes_mut(Axis(axis))
                    .into_iter()
                    .zip(l.lanes(Axis(axis)))
                {
                    let total: f32 = dx.sum();
                    dx.zip_mut_with(&l, |g, &l| *g -= l.exp() * total);
                }
                vec![Some(dx)]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn softmax_gradients_agree_with_central_differences() {
        crate::seed(6);
        let x = uniform(&[3, 4, 5], -2.0, 2.0);
        let r = uniform(&[3, 4, 5], -1.0, 1.0);
        for axis in [1, 2] {
            check_gradients(
                |v| v[0].softmax(axis).mul(&v[1]).sum(),
                &[x.clone(), r.clone()],
            )
            .assert_within(1e-2);
            check_gradients(
                |v| v[0].log_softmax(axis).mul(&v[1]).sum(),
                &[x.clone(), r.clone()],
            )
            .assert_within(1e-2);
        }
    }

    #[test]
    fn log_softmax_is_the_log_of_softmax_even_far_out() {
        let x = crate::autograd::Var::constant(crate::tensor::from_vec(
            &[1, 3],
            vec![0.0, 50.0, 200.0],
        ));
        let log_p = x.log_softmax(1);
        assert!(log_p.value().iter().all(|v| v.is_finite()));
        let p = x.softmax(1);
        assert!((p.value()[[0, 2]] - 1.0).abs() < 1e-6);
        assert!((log_p.value()[[0, 1]] + 150.0).abs() < 1e-3);
    }
}
