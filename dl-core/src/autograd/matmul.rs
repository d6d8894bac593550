//! The matrix product, on dl-core's GEMM kernel.
//!
//! ```text
//! Y = A B          A [m, k], B [k, n], Y [m, n]
//! ∂L/∂A = G Bᵀ     ∂L/∂B = Aᵀ G            (G = ∂L/∂Y)
//! ```
//!
//! Two batched forms: `A [.., m, k] · B [.., k, n]` multiplies matrix by matrix along the
//! leading axes (attention's `Q Kᵀ` per head), and `A [.., m, k] · B [k, n]` applies one `B`
//! to every row (a dense layer over a sequence), so `∂L/∂B` sums over all rows. The
//! transposes are read through strides by the kernel ([`Stored::Transposed`]), never copied.

use crate::autograd::Var;
use crate::ops::gemm::{Output, Stored, gemm};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// How the two operands' shapes chain.
#[derive(Clone, Copy)]
struct Chain {
    /// Number of matrix pairs (`1` for plain matrices, and for one `B` shared by every row of
    /// `A`, which then counts all of `A`'s rows as `m`).
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
}

#[track_caller]
fn chain(a: &[usize], b: &[usize]) -> Chain {
    let bad = || {
        panic!(
            "matmul: shapes {a:?} and {b:?} do not chain ([.., m, k] · [.., k, n] or [.., m, k] · [k, n])"
        )
    };
    if a.len() < 2 || b.len() < 2 {
        bad();
    }
    let k = a[a.len() - 1];
    if b[b.len() - 2] != k {
        bad();
    }
    let n = b[b.len() - 1];
    if b.len() == 2 {
        let rows: usize = a[..a.len() - 1].iter().product();
        return Chain {
            batch: 1,
            m: rows,
            k,
            n,
        };
    }
    if a.len() != b.len() || a[..a.len() - 2] != b[..b.len() - 2] {
        bad();
    }
    Chain {
        batch: a[..a.len() - 2].iter().product(),
        m: a[a.len() - 2],
        k,
        n,
    }
}

/// `C ← op(A)·op(B)` for every matrix pair of a batch, on contiguous slices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn batched_gemm(
    batch: usize,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    a_stored: Stored,
    b: &[f32],
    b_stored: Stored,
    c: &mut [f32],
    output: Output,
) {
    let (a_len, b_len, c_len) = (m * k, k * n, m * n);
    let one = |i: usize, c: &mut [f32]| {
        gemm(
            m,
            n,
            k,
            &a[i * a_len..(i + 1) * a_len],
            a_stored,
            &b[i * b_len..(i + 1) * b_len],
            b_stored,
            c,
            output,
        )
    };
    if batch > 1 && m * n * k < 64 * 64 * 64 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        c.par_chunks_mut(c_len)
            .enumerate()
            .for_each(|(i, c)| one(i, c));
    } else {
        for (i, c) in c.chunks_mut(c_len).enumerate().take(batch) {
            one(i, c);
        }
    }
}

pub(crate) fn contiguous(t: &Tensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(t.iter().copied().collect()),
    }
}

impl Var {
    /// The matrix product `self · other` (see the module docs for the batched forms).
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let a = Var::new(from_vec(&[1, 2], vec![1.0, 2.0]));
    /// let b = Var::new(from_vec(&[2, 1], vec![3.0, 4.0]));
    /// let y = a.matmul(&b);
    /// assert_eq!(y.item(), 11.0);
    /// y.backward();
    /// assert_eq!(a.grad().unwrap().as_slice().unwrap(), &[3.0, 4.0]); // G Bᵀ
    /// assert_eq!(b.grad().unwrap().as_slice().unwrap(), &[1.0, 2.0]); // Aᵀ G
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Var) -> Var {
        let c = chain(self.shape(), other.shape());
        let mut shape = self.shape()[..self.shape().len() - 1].to_vec();
        shape.push(c.n);
        let a = contiguous(self.value());
        let b = contiguous(other.value());
        let mut y = vec![0.0; c.batch * c.m * c.n];
        batched_gemm(
            c.batch,
            (c.m, c.n, c.k),
            &a,
            Stored::AsIs,
            &b,
            Stored::AsIs,
            &mut y,
            Output::Overwrite,
        );
        let value = Tensor::from_shape_vec(IxDyn(&shape), y).expect("product shape");
        Var::from_op(
            "matmul",
            value,
            &[self, other],
            Box::new(move |g, inputs, _| {
                let g = contiguous(g);
                let (a, b) = (contiguous(inputs[0].value()), contiguous(inputs[1].value()));
                let grad_a = inputs[0].requires_grad().then(|| {
                    // ∂L/∂A = G Bᵀ: [m, n] · [n, k]
                    let mut da = vec![0.0; c.batch * c.m * c.k];
                    batched_gemm(
                        c.batch,
                        (c.m, c.k, c.n),
                        &g,
                        Stored::AsIs,
                        &b,
                        Stored::Transposed,
                        &mut da,
                        Output::Overwrite,
                    );
                    Tensor::from_shape_vec(IxDyn(inputs[0].shape()), da).expect("shape of A")
                });
                let grad_b = inputs[1].requires_grad().then(|| {
                    // ∂L/∂B = Aᵀ G: [k, m] · [m, n] (summed over every row of A when B is shared)
                    let mut db = vec![0.0; c.batch * c.k * c.n];
                    batched_gemm(
                        c.batch,
                        (c.k, c.n, c.m),
                        &a,
                        Stored::Transposed,
                        &g,
                        Stored::AsIs,
                        &mut db,
                        Output::Overwrite,
                    );
                    Tensor::from_shape_vec(IxDyn(inputs[1].shape()), db).expect("shape of B")
                });
                vec![grad_a, grad_b]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn matmul_gradients_agree_with_central_differences() {
        crate::seed(2);
        let a = uniform(&[3, 4], -1.0, 1.0);
        let b = uniform(&[4, 2], -1.0, 1.0);
        let r = uniform(&[3, 2], -1.0, 1.0);
        check_gradients(|v| v[0].matmul(&v[1]).mul(&v[2]).sum(), &[a, b.clone(), r])
            .assert_within(1e-2);
        // One B for every row of a sequence batch.
        let seq = uniform(&[2, 3, 4], -1.0, 1.0);
        let r = uniform(&[2, 3, 2], -1.0, 1.0);
        check_gradients(
            |v| v[0].matmul(&v[1]).mul(&v[2]).sum(),
            &[seq.clone(), b, r],
        )
        .assert_within(1e-2);
        // Matrix by matrix along a batch axis.
        let other = uniform(&[2, 4, 5], -1.0, 1.0);
        let r = uniform(&[2, 3, 5], -1.0, 1.0);
        check_gradients(|v| v[0].matmul(&v[1]).mul(&v[2]).sum(), &[seq, other, r])
            .assert_within(1e-2);
    }

    #[test]
    fn matmul_agrees_with_ndarray() {
        crate::seed(3);
        let a = uniform(&[5, 7], -1.0, 1.0);
        let b = uniform(&[7, 3], -1.0, 1.0);
        let ours = crate::autograd::Var::constant(a.clone()).matmul(&b.clone().into());
        let a2 = a.into_dimensionality::<ndarray::Ix2>().unwrap();
        let b2 = b.into_dimensionality::<ndarray::Ix2>().unwrap();
        let expected = a2.dot(&b2).into_dyn();
        assert!(
            ours.value()
                .iter()
                .zip(expected.iter())
                .all(|(x, y)| (x - y).abs() < 1e-5)
        );
    }
}
