//! Layer normalisation over the last axis, as one fused operation.
//!
//! ```text
//! μ = mean(x),  σ = √(var(x) + ε),  x̂ = (x − μ)/σ,  y = γ ⊙ x̂ + β      (per row of d values)
//!
//! ∂L/∂γ = Σ_rows g ⊙ x̂        ∂L/∂β = Σ_rows g
//! ∂L/∂x = (1/σ) (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂))      with ĝ = g ⊙ γ
//! ```
//!
//! Unlike batch normalisation, every sample is normalised by its own statistics, so training
//! and inference compute the same thing and the batch size does not matter.

use crate::autograd::Var;
use crate::ops::fast_math;
use crate::tensor::{Tensor, zeros_in_parallel};
use ndarray::IxDyn;
use rayon::prelude::*;

/// Rows normalised by one task: blocks are fixed, so the sums for `γ` and `β` are added in the
/// same order whatever the number of threads.
const ROWS_PER_TASK: usize = 64;

impl Var {
    /// Layer normalisation of the last axis with scale `gamma [d]` and shift `beta [d]`.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let x = Var::constant(from_vec(&[1, 4], vec![1., 2., 3., 4.]));
    /// let y = x.layer_norm(&Var::constant(from_vec(&[4], vec![1.; 4])), &Var::constant(dl_core::tensor::zeros(&[4])), 1e-5);
    /// assert!(y.value().sum().abs() < 1e-5); // mean 0
    /// assert!((y.value().mapv(|v| v * v).sum() / 4.0 - 1.0).abs() < 1e-3); // variance 1
    /// ```
    #[track_caller]
    pub fn layer_norm(&self, gamma: &Var, beta: &Var, eps: f32) -> Var {
        let d = *self.shape().last().unwrap_or(&0);
        assert!(
            gamma.shape() == [d] && beta.shape() == [d],
            "layer_norm: gamma {:?} and beta {:?} must be [{d}] for an input of shape {:?}",
            gamma.shape(),
            beta.shape(),
            self.shape()
        );
        let x = self.value().as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let (g, b) = (gamma.value(), beta.value());
        let (g, b) = (g.as_slice().expect("1-D"), b.as_slice().expect("1-D"));
        let rows = x.len() / d.max(1);
        let mut normalised = zeros_in_parallel(&[x.len()]).into_raw_vec_and_offset().0;
        let mut inv_std = vec![0.0; rows];
        let mut y = zeros_in_parallel(&[x.len()]).into_raw_vec_and_offset().0;
        // Blocks of rows in parallel; every row is independent.
        let block = ROWS_PER_TASK * d.max(1);
        y.par_chunks_mut(block)
            .zip(normalised.par_chunks_mut(block))
            .zip(inv_std.par_chunks_mut(ROWS_PER_TASK))
            .zip(x.par_chunks(block))
            .for_each(|(((y, normalised), inv_std), x)| {
                normalise_rows(x, g, b, d, eps, y, normalised, inv_std);
            });
        let value = Tensor::from_shape_vec(IxDyn(self.shape()), y).expect("input shape");
        Var::from_op(
            "layer_norm",
            value,
            &[self, gamma, beta],
            Box::new(move |grad, inputs, _| {
                let grad = grad.as_standard_layout();
                let grad = grad.as_slice().expect("standard layout");
                let gamma = inputs[1].value();
                let gamma = gamma.as_slice().expect("1-D");
                let mut dx = zeros_in_parallel(&[grad.len()]).into_raw_vec_and_offset().0;
                let block = ROWS_PER_TASK * d.max(1);
                // Each block of rows writes its rows of ∂L/∂x and returns its partial sums
                // for γ and β, added afterwards in block order (the same result for any
                // number of threads).
                let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
                    .par_chunks_mut(block)
                    .zip(grad.par_chunks(block))
                    .zip(normalised.par_chunks(block))
                    .zip(inv_std.par_chunks(ROWS_PER_TASK))
                    .map(|(((dx, grad), normalised), inv_std)| {
                        let mut dgamma = vec![0.0; d];
                        let mut dbeta = vec![0.0; d];
                        let mut gh = vec![0.0; d];
                        normalise_rows_backward(
                            grad,
                            normalised,
                            inv_std,
                            gamma,
                            d,
                            dx,
                            &mut dgamma,
                            &mut dbeta,
                            &mut gh,
                        );
                        (dgamma, dbeta)
                    })
                    .collect();
                let mut dgamma = vec![0.0; d];
                let mut dbeta = vec![0.0; d];
                for (pg, pb) in &partials {
                    dgamma.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
                    dbeta.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
                }
                vec![
                    Some(
                        Tensor::from_shape_vec(IxDyn(inputs[0].shape()), dx).expect("input shape"),
                    ),
                    Some(Tensor::from_shape_vec(IxDyn(&[d]), dgamma).expect("[d]")),
                    Some(Tensor::from_shape_vec(IxDyn(&[d]), dbeta).expect("[d]")),
                ]
            }),
        )
    }
}

fast_math::best_simd_fn! {
    /// Rows of `d` values of `x` → `y = γ ⊙ x̂ + β`, keeping `x̂` and `1/σ` of each row.
    #[allow(clippy::too_many_arguments)]
    fn normalise_rows(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        d: usize,
        eps: f32,
        y: &mut [f32],
        normalised: &mut [f32],
        inv_std: &mut [f32],
    ) {
        let rows = x
            .chunks_exact(d.max(1))
            .zip(y.chunks_exact_mut(d.max(1)))
            .zip(normalised.chunks_exact_mut(d.max(1)));
        for (((row, y), normalised), s_r) in rows.zip(inv_std) {
            let mean = fast_math::sum_map(row, |v| v) / d as f32;
            let var = fast_math::sum_map(row, |v| (v - mean) * (v - mean)) / d as f32;
            let s = 1.0 / (var + eps).sqrt();
            *s_r = s;
            let out = y.iter_mut().zip(normalised.iter_mut());
            for (((y, n), &x), (&g, &b)) in out.zip(row).zip(gamma.iter().zip(beta)) {
                *n = (x - mean) * s;
                *y = g * *n + b;
            }
        }
    }
}

fast_math::best_simd_fn! {
    /// ∂L/∂x of rows of `d` values, from `g = ∂L/∂y`, `x̂` and `1/σ`; adds each row's share
    /// of ∂L/∂γ and ∂L/∂β (`gh` holds one row's `ĝ = g ⊙ γ`).
    #[allow(clippy::too_many_arguments)]
    fn normalise_rows_backward(
        grad: &[f32],
        normalised: &[f32],
        inv_std: &[f32],
        gamma: &[f32],
        d: usize,
        dx: &mut [f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
        gh: &mut [f32],
    ) {
        let rows = dx
            .chunks_exact_mut(d.max(1))
            .zip(grad.chunks_exact(d.max(1)))
            .zip(normalised.chunks_exact(d.max(1)));
        for (((dx, gr), nr), &s) in rows.zip(inv_std) {
            let sums = dgamma.iter_mut().zip(dbeta.iter_mut());
            let row = gr.iter().zip(nr).zip(gh.iter_mut().zip(gamma));
            for ((dg, db), ((&g, &n), (gh, &gm))) in sums.zip(row) {
                *dg += g * n;
                *db += g;
                *gh = g * gm;
            }
            let mean_g = fast_math::sum_map(gh, |v| v) / d as f32;
            let mean_gn = fast_math::dot(gh, nr) / d as f32;
            for ((dx, &gh), &n) in dx.iter_mut().zip(&*gh).zip(nr) {
                *dx = s * (gh - mean_g - n * mean_gn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn layer_norm_gradients_agree_with_central_differences() {
        crate::seed(11);
        let x = uniform(&[2, 3, 5], -2.0, 2.0);
        let gamma = uniform(&[5], 0.5, 1.5);
        let beta = uniform(&[5], -0.5, 0.5);
        let r = uniform(&[2, 3, 5], -1.0, 1.0);
        check_gradients(
            |v| v[0].layer_norm(&v[1], &v[2], 1e-5).mul(&v[3]).sum(),
            &[x, gamma, beta, r],
        )
        .assert_within(2e-2);
    }
}
