//! The affine map `y = x W + b` as one operation: a dense layer's product and bias in one
//! node.
//!
//! ```text
//! Y = X W + b        X [.., k] (every row), W [k, n], b [n] added to every row, Y [.., n]
//! ∂L/∂X = G Wᵀ       ∂L/∂W = Xᵀ G       ∂L/∂b = Σ_rows G          (G = ∂L/∂Y)
//! ```
//!
//! Written as `x.matmul(&w) + &b` it is two nodes: the product, then a second pass that
//! copies it to add the bias, and a backward that copies `G` for the product and sums it for
//! the bias. Fused, the output starts as `b` in every row and the GEMM adds `X W` into it;
//! backward reads `G` where it is.

use crate::autograd::Var;
use crate::autograd::elementwise::{VALUES_PER_TASK, for_each_chunk};
use crate::autograd::matmul::contiguous;
use crate::ops::gemm::{Output, Stored, gemm};
use crate::tensor::{Tensor, zeros_in_parallel};
use ndarray::IxDyn;

impl Var {
    /// `x W + b` on the last axis: `self [.., k]`, `weight [k, n]`, `bias [n]` →
    /// `[.., n]`; the same as `self.matmul(weight) + bias`, in one operation.
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let x = Var::new(from_vec(&[2, 2], vec![1., 2., 3., 4.]));
    /// let w = Var::new(from_vec(&[2, 1], vec![1., 1.]));
    /// let b = Var::new(from_vec(&[1], vec![10.]));
    /// let y = x.affine(&w, &b);
    /// assert_eq!(y.value().as_slice().unwrap(), &[13., 17.]);
    /// y.sum().backward();
    /// assert_eq!(b.grad().unwrap()[[0]], 2.0); // one per row
    /// assert_eq!(w.grad().unwrap().as_slice().unwrap(), &[4., 6.]); // Xᵀ 1
    /// ```
    #[track_caller]
    pub fn affine(&self, weight: &Var, bias: &Var) -> Var {
        let (xs, ws) = (self.shape(), weight.shape());
        assert!(
            !xs.is_empty() && ws.len() == 2 && xs[xs.len() - 1] == ws[0] && bias.shape() == [ws[1]],
            "affine: input {xs:?}, weight {ws:?} and bias {:?} do not fit ([.., k], [k, n], [n])",
            bias.shape()
        );
        let (k, n) = (ws[0], ws[1]);
        let m: usize = xs[..xs.len() - 1].iter().product();
        let mut shape = xs[..xs.len() - 1].to_vec();
        shape.push(n);
        let x = contiguous(self.value());
        let w = contiguous(weight.value());
        let b = contiguous(bias.value());
        // Every row starts as the bias; the product is added into it.
        let mut value = zeros_in_parallel(&shape);
        let y = value.as_slice_mut().expect("fresh tensor");
        let rows_per_task = (VALUES_PER_TASK / n.max(1)).max(1);
        for_each_chunk(y, rows_per_task * n, |_, rows| {
            rows.chunks_exact_mut(n.max(1))
                .for_each(|row| row.copy_from_slice(&b));
        });
        gemm(
            m,
            n,
            k,
            &x,
            Stored::AsIs,
            &w,
            Stored::AsIs,
            y,
            Output::Accumulate,
        );
        Var::from_op(
            "affine",
            value,
            &[self, weight, bias],
            Box::new(move |g, inputs, _| {
                let g = contiguous(g);
                let grad_x = inputs[0].requires_grad().then(|| {
                    // ∂L/∂X = G Wᵀ: [m, n] · [n, k]
                    let w = contiguous(inputs[1].value());
                    let mut dx = zeros_in_parallel(inputs[0].shape());
                    gemm(
                        m,
                        k,
                        n,
                        &g,
                        Stored::AsIs,
                        &w,
                        Stored::Transposed,
                        dx.as_slice_mut().expect("fresh tensor"),
                        Output::Overwrite,
                    );
                    dx
                });
                let grad_w = inputs[1].requires_grad().then(|| {
                    // ∂L/∂W = Xᵀ G: [k, m] · [m, n]
                    let x = contiguous(inputs[0].value());
                    let mut dw = vec![0.0; k * n];
                    gemm(
                        k,
                        n,
                        m,
                        &x,
                        Stored::Transposed,
                        &g,
                        Stored::AsIs,
                        &mut dw,
                        Output::Overwrite,
                    );
                    Tensor::from_shape_vec(IxDyn(&[k, n]), dw).expect("weight shape")
                });
                let grad_b = inputs[2].requires_grad().then(|| {
                    let mut db = vec![0.0; n];
                    for row in g.chunks_exact(n.max(1)) {
                        db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                    }
                    Tensor::from_shape_vec(IxDyn(&[n]), db).expect("bias shape")
                });
                vec![grad_x, grad_w, grad_b]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::{Var, check_gradients};
    use crate::init::uniform;

    #[test]
    fn affine_gradients_agree_with_central_differences() {
        crate::seed(21);
        let x = uniform(&[2, 3, 4], -1.0, 1.0);
        let w = uniform(&[4, 5], -1.0, 1.0);
        let b = uniform(&[5], -1.0, 1.0);
        let r = uniform(&[2, 3, 5], -1.0, 1.0);
        check_gradients(
            |v| v[0].affine(&v[1], &v[2]).mul(&v[3]).sum(),
            &[x, w, b, r],
        )
        .assert_within(1e-2);
    }

    #[test]
    fn affine_equals_matmul_plus_bias_with_the_same_gradients() {
        crate::seed(22);
        let x = Var::new(uniform(&[6, 4], -1.0, 1.0));
        let w = Var::new(uniform(&[4, 3], -1.0, 1.0));
        let b = Var::new(uniform(&[3], -1.0, 1.0));
        let r = Var::constant(uniform(&[6, 3], -1.0, 1.0));
        let close = |a: &crate::tensor::Tensor, e: &crate::tensor::Tensor| {
            assert_eq!(a.shape(), e.shape());
            assert!(
                a.iter().zip(e).all(|(a, e)| (a - e).abs() < 1e-5),
                "{a} vs {e}"
            );
        };
        let fused = x.affine(&w, &b);
        fused.mul(&r).sum().backward();
        let grads: Vec<_> = [&x, &w, &b].iter().map(|v| v.grad().unwrap()).collect();
        [&x, &w, &b].iter().for_each(|v| v.zero_grad());
        let reference = x.matmul(&w) + &b;
        reference.mul(&r).sum().backward();
        close(fused.value(), reference.value());
        for (v, g) in [&x, &w, &b].iter().zip(&grads) {
            close(g, &v.grad().unwrap());
        }
    }
}
