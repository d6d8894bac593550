//! Operations that move values without changing them: reshape, permute axes, slice, concatenate.
//!
//! Each gradient moves the values back: a reshape's gradient is reshaped to the input's
//! shape, a permutation's is permuted by the inverse permutation, a slice's is written into
//! zeros at the slice, and a concatenation's is cut into the parts' pieces.

use crate::autograd::Var;
use crate::tensor::Tensor;
use ndarray::{Axis, IxDyn, Slice};

impl Var {
    /// The same values in a new shape (row-major order), like NumPy's `reshape`.
    ///
    /// **Panics** if the number of values differs.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Var {
        let len: usize = shape.iter().product();
        assert!(
            len == self.value().len(),
            "reshape: {:?} has {} values, shape {shape:?} needs {len}",
            self.shape(),
            self.value().len()
        );
        let value = self
            .value()
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .expect("length checked");
        Var::from_op(
            "reshape",
            value,
            &[self],
            Box::new(|g, inputs, _| {
                let g = g.as_standard_layout().into_owned();
                vec![Some(
                    g.into_shape_with_order(IxDyn(inputs[0].shape()))
                        .expect("same length"),
                )]
            }),
        )
    }

    /// The axes in a new order: output axis `i` is input axis `order[i]` (NumPy's `transpose`).
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// let x = Var::constant(dl_core::tensor::zeros(&[2, 3, 4]));
    /// assert_eq!(x.permute(&[0, 2, 1]).shape(), &[2, 4, 3]);
    /// ```
    #[track_caller]
    pub fn permute(&self, order: &[usize]) -> Var {
        let mut sorted = order.to_vec();
        sorted.sort_unstable();
        assert!(
            sorted == (0..self.shape().len()).collect::<Vec<_>>(),
            "permute: {order:?} is not an order of the {} axes of shape {:?}",
            self.shape().len(),
            self.shape()
        );
        let value = self
            .value()
            .view()
            .permuted_axes(IxDyn(order))
            .as_standard_layout()
            .into_owned();
        let mut inverse = vec![0; order.len()];
        for (i, &o) in order.iter().enumerate() {
            inverse[o] = i;
        }
        Var::from_op(
            "permute",
            value,
            &[self],
            Box::new(move |g, _, _| {
                vec![Some(
                    g.view()
                        .permuted_axes(IxDyn(&inverse))
                        .as_standard_layout()
                        .into_owned(),
                )]
            }),
        )
    }

    /// The last two axes swapped (a matrix transpose, per matrix of a batch).
    #[track_caller]
    pub fn transpose(&self) -> Var {
        let n = self.shape().len();
        assert!(
            n >= 2,
            "transpose: needs at least 2 axes, got shape {:?}",
            self.shape()
        );
        let mut order: Vec<usize> = (0..n).collect();
        order.swap(n - 2, n - 1);
        self.permute(&order)
    }

    /// The part `start..end` along `axis`.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// let x = Var::constant(dl_core::tensor::from_vec(&[1, 4], vec![1., 2., 3., 4.]));
    /// assert_eq!(x.slice(1, 1..3).value().as_slice().unwrap(), &[2., 3.]);
    /// ```
    #[track_caller]
    pub fn slice(&self, axis: usize, range: std::ops::Range<usize>) -> Var {
        assert!(
            axis < self.shape().len()
                && range.start <= range.end
                && range.end <= self.shape()[axis],
            "slice: {range:?} along axis {axis} of shape {:?}",
            self.shape()
        );
        let cut = Slice::from(range.clone());
        let value = self.value().slice_axis(Axis(axis), cut).to_owned();
        Var::from_op(
            "slice",
            value,
            &[self],
            Box::new(move |g, inputs, _| {
                let mut dx = Tensor::zeros(IxDyn(inputs[0].shape()));
                dx.slice_axis_mut(Axis(axis), cut).assign(g);
                vec![Some(dx)]
            }),
        )
    }

    /// The parts joined along `axis` (the other axes must agree).
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// let a = Var::constant(dl_core::tensor::zeros(&[2, 1]));
    /// let b = Var::constant(dl_core::tensor::zeros(&[2, 3]));
    /// assert_eq!(Var::concat(&[a, b], 1).shape(), &[2, 4]);
    /// ```
    #[track_caller]
    pub fn concat(parts: &[Var], axis: usize) -> Var {
        assert!(!parts.is_empty(), "concat: no parts");
        let views: Vec<_> = parts.iter().map(|p| p.value().view()).collect();
        let value = ndarray::concatenate(Axis(axis), &views).unwrap_or_else(|_| {
            let shapes: Vec<_> = parts.iter().map(|p| p.shape().to_vec()).collect();
            panic!("concat: shapes {shapes:?} do not join along axis {axis}")
        });
        let inputs: Vec<&Var> = parts.iter().collect();
        Var::from_op(
            "concat",
            value,
            &inputs,
            Box::new(move |g, inputs, _| {
                let mut start = 0;
                inputs
                    .iter()
                    .map(|input| {
                        let len = input.shape()[axis];
                        let piece = g
                            .slice_axis(Axis(axis), Slice::from(start..start + len))
                            .to_owned();
                        start += len;
                        Some(piece)
                    })
                    .collect()
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::{Var, check_gradients};
    use crate::init::uniform;

    #[test]
    fn shape_gradients_agree_with_central_differences() {
        crate::seed(7);
        let x = uniform(&[2, 3, 4], -1.0, 1.0);
        let y = uniform(&[2, 2, 4], -1.0, 1.0);
        let r = uniform(&[4, 3, 2], -1.0, 1.0);
        check_gradients(
            |v| v[0].permute(&[2, 1, 0]).mul(&v[1]).sum(),
            &[x.clone(), r.clone()],
        )
        .assert_within(1e-2);
        check_gradients(
            |v| v[0].reshape(&[4, 3, 2]).mul(&v[1]).sum(),
            &[x.clone(), r],
        )
        .assert_within(1e-2);
        let r = uniform(&[2, 2, 4], -1.0, 1.0);
        check_gradients(|v| v[0].slice(1, 1..3).mul(&v[1]).sum(), &[x.clone(), r])
            .assert_within(1e-2);
        let r = uniform(&[2, 5, 4], -1.0, 1.0);
        check_gradients(
            |v| {
                Var::concat(&[v[0].clone(), v[1].clone()], 1)
                    .mul(&v[2])
                    .sum()
            },
            &[x, y, r],
        )
        .assert_within(1e-2);
    }
}
