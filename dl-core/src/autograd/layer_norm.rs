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
use crate::tensor::Tensor;
use ndarray::IxDyn;

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
        let mut normalised = vec![0.0; x.len()];
        let mut inv_std = vec![0.0; rows];
        let mut y = vec![0.0; x.len()];
        for r in 0..rows {
            let row = &x[r * d..(r + 1) * d];
            let mean = row.iter().sum::<f32>() / d as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let s = 1.0 / (var + eps).sqrt();
            inv_std[r] = s;
            for j in 0..d {
                let n = (row[j] - mean) * s;
                normalised[r * d + j] = n;
                y[r * d + j] = g[j] * n + b[j];
            }
        }
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
                let mut dx = vec![0.0; grad.len()];
                let mut dgamma = vec![0.0; d];
                let mut dbeta = vec![0.0; d];
                for r in 0..rows {
                    let (gr, nr) = (&grad[r * d..(r + 1) * d], &normalised[r * d..(r + 1) * d]);
                    let (mut mean_g, mut mean_gn) = (0.0, 0.0);
                    for j in 0..d {
                        dgamma[j] += gr[j] * nr[j];
                        dbeta[j] += gr[j];
                        let gh = gr[j] * gamma[j];
                        mean_g += gh;
                        mean_gn += gh * nr[j];
                    }
                    mean_g /= d as f32;
                    mean_gn /= d as f32;
                    for j in 0..d {
                        dx[r * d + j] = inv_std[r] * (gr[j] * gamma[j] - mean_g - nr[j] * mean_gn);
                    }
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
