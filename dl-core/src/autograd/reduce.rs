//! Sums and means, of everything or along one axis.
//!
//! ```text
//! y = Σ_i x_i          ∂L/∂x_i = g                (every input gets the output's gradient)
//! y = (1/n) Σ_i x_i    ∂L/∂x_i = g / n
//! ```
//!
//! Along an axis, the axis is kept with length 1 (NumPy's `keepdims=True`), so the result
//! broadcasts back against its input: `&x - &x.mean_axis(1)` centres every row.

use crate::autograd::Var;
use crate::tensor::Tensor;
use ndarray::{Axis, IxDyn};

#[track_caller]
fn check_axis(op: &str, x: &Var, axis: usize) {
    assert!(
        axis < x.shape().len(),
        "{op}: axis {axis} of a variable of shape {:?}",
        x.shape()
    );
}

impl Var {
    /// The sum of every value, a scalar (shape `[]`).
    pub fn sum(&self) -> Var {
        let value = Tensor::from_elem(IxDyn(&[]), self.value().sum());
        Var::from_op(
            "sum",
            value,
            &[self],
            Box::new(|g, inputs, _| {
                let g = g.iter().copied().next().unwrap_or(0.0);
                vec![Some(Tensor::from_elem(IxDyn(inputs[0].shape()), g))]
            }),
        )
    }

    /// The mean of every value, a scalar (shape `[]`).
    pub fn mean(&self) -> Var {
        let n = self.value().len().max(1) as f32;
        self.sum().scale(1.0 / n)
    }

    /// The sum along `axis`, kept with length 1.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// let x = Var::constant(dl_core::tensor::from_vec(&[2, 2], vec![1., 2., 3., 4.]));
    /// assert_eq!(x.sum_axis(1).value().as_slice().unwrap(), &[3., 7.]);
    /// assert_eq!(x.sum_axis(1).shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn sum_axis(&self, axis: usize) -> Var {
        check_axis("sum_axis", self, axis);
        let value = self.value().sum_axis(Axis(axis)).insert_axis(Axis(axis));
        Var::from_op(
            "sum_axis",
            value,
            &[self],
            Box::new(|g, inputs, _| {
                let shape = IxDyn(inputs[0].shape());
                vec![Some(g.broadcast(shape).expect("kept axis").to_owned())]
            }),
        )
    }

    /// The mean along `axis`, kept with length 1.
    #[track_caller]
    pub fn mean_axis(&self, axis: usize) -> Var {
        check_axis("mean_axis", self, axis);
        let n = self.shape()[axis].max(1) as f32;
        self.sum_axis(axis).scale(1.0 / n)
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn reduction_gradients_agree_with_central_differences() {
        crate::seed(4);
        let x = uniform(&[3, 4, 2], -1.0, 1.0);
        let r = uniform(&[3, 1, 2], -1.0, 1.0);
        check_gradients(|v| v[0].mean(), std::slice::from_ref(&x)).assert_within(1e-2);
        check_gradients(
            |v| v[0].sum_axis(1).mul(&v[1]).sum(),
            &[x.clone(), r.clone()],
        )
        .assert_within(1e-2);
        check_gradients(|v| v[0].mean_axis(1).mul(&v[1]).sum(), &[x, r]).assert_within(1e-2);
    }
}
