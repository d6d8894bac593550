//! Looking values up by index (an embedding) and hiding values behind a mask.
//!
//! ```text
//! gather:       y[i, :] = table[ids_i, :]         ∂L/∂table[r, :] = Σ_{i: ids_i = r} g[i, :]
//! masked_fill:  y = x where the mask is 0, else c  ∂L/∂x = g where the mask is 0, else 0
//! ```
//!
//! A causal mask fills the scores of later positions with −∞ before a softmax, so each
//! position attends only to itself and the past.

use crate::autograd::Var;
use crate::tensor::Tensor;
use ndarray::IxDyn;

impl Var {
    /// Rows of a `[rows, d]` table picked by `ids` (whole numbers stored as f32, any shape):
    /// the result has shape `ids.shape() + [d]`. An embedding lookup.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let table = Var::new(from_vec(&[3, 2], vec![0., 0., 1., 1., 2., 2.]));
    /// let ids = from_vec(&[2], vec![2.0, 2.0]);
    /// let y = table.gather(&ids);
    /// assert_eq!(y.value().as_slice().unwrap(), &[2., 2., 2., 2.]);
    /// y.sum().backward();
    /// assert_eq!(table.grad().unwrap().as_slice().unwrap(), &[0., 0., 0., 0., 2., 2.]);
    /// ```
    /// **Panics** if the table is not 2-D or an id is not a row index.
    #[track_caller]
    pub fn gather(&self, ids: &Tensor) -> Var {
        assert!(
            self.shape().len() == 2,
            "gather: the table must be [rows, d], got shape {:?}",
            self.shape()
        );
        let (rows, d) = (self.shape()[0], self.shape()[1]);
        let rows_of: Vec<usize> = ids
            .iter()
            .map(|&id| {
                assert!(
                    id >= 0.0 && id.fract() == 0.0 && (id as usize) < rows,
                    "gather: id {id} is not a row of a table with {rows} rows"
                );
                id as usize
            })
            .collect();
        let table = self.value().as_standard_layout();
        let table = table.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(rows_of.len() * d);
        for &r in &rows_of {
            out.extend_from_slice(&table[r * d..(r + 1) * d]);
        }
        let mut shape = ids.shape().to_vec();
        shape.push(d);
        let value = Tensor::from_shape_vec(IxDyn(&shape), out).expect("gathered shape");
        Var::from_op(
            "gather",
            value,
            &[self],
            Box::new(move |g, inputs, _| {
                let g = g.as_standard_layout();
                let g = g.as_slice().expect("standard layout");
                let mut dtable = Tensor::zeros(IxDyn(inputs[0].shape()));
                let dt = dtable.as_slice_mut().expect("fresh tensor");
                for (i, &r) in rows_of.iter().enumerate() {
                    for (t, v) in dt[r * d..(r + 1) * d]
                        .iter_mut()
                        .zip(&g[i * d..(i + 1) * d])
                    {
                        *t += v;
                    }
                }
                vec![Some(dtable)]
            }),
        )
    }

    /// `value` wherever `mask` is non-zero, the variable elsewhere; `mask` broadcasts to the
    /// variable's shape.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let scores = Var::constant(from_vec(&[1, 2], vec![3.0, 4.0]));
    /// let masked = scores.masked_fill(&from_vec(&[2], vec![0.0, 1.0]), f32::NEG_INFINITY);
    /// assert_eq!(masked.softmax(1).value().as_slice().unwrap(), &[1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn masked_fill(&self, mask: &Tensor, value: f32) -> Var {
        let mask = mask
            .broadcast(IxDyn(self.shape()))
            .unwrap_or_else(|| {
                panic!(
                    "masked_fill: a mask of shape {:?} does not broadcast to {:?}",
                    mask.shape(),
                    self.shape()
                )
            })
            .to_owned();
        let mut out = self.value().to_owned();
        out.zip_mut_with(&mask, |x, &m| {
            if m != 0.0 {
                *x = value
            }
        });
        Var::from_op(
            "masked_fill",
            out,
            &[self],
            Box::new(move |g, _, _| {
                let mut dx = g.to_owned();
                dx.zip_mut_with(&mask, |g, &m| {
                    if m != 0.0 {
                        *g = 0.0
                    }
                });
                vec![Some(dx)]
            }),
        )
    }
}

/// The causal mask for `t` positions: `[t, t]`, 1 above the diagonal (the future), 0 elsewhere.
///
/// ```
/// let m = dl_core::autograd::causal_mask(3);
/// assert_eq!(m.as_slice().unwrap(), &[0., 1., 1., 0., 0., 1., 0., 0., 0.]);
/// ```
pub fn causal_mask(t: usize) -> Tensor {
    Tensor::from_shape_fn(IxDyn(&[t, t]), |i| if i[1] > i[0] { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use crate::autograd::{causal_mask, check_gradients};
    use crate::init::uniform;
    use crate::tensor::from_vec;

    #[test]
    fn index_gradients_agree_with_central_differences() {
        crate::seed(8);
        let table = uniform(&[5, 3], -1.0, 1.0);
        let ids = from_vec(&[2, 3], vec![0., 4., 4., 1., 0., 2.]);
        let r = uniform(&[2, 3, 3], -1.0, 1.0);
        check_gradients(|v| v[0].gather(&ids).mul(&v[1]).sum(), &[table, r]).assert_within(1e-2);
        let scores = uniform(&[2, 4, 4], -1.0, 1.0);
        let r = uniform(&[2, 4, 4], -1.0, 1.0);
        let mask = causal_mask(4);
        check_gradients(
            |v| v[0].masked_fill(&mask, -1e9).softmax(2).mul(&v[1]).sum(),
            &[scores, r],
        )
        .assert_within(1e-2);
    }
}
