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
use crate::ops::fast_math;
use crate::ops::gemm::{Stored, product};
use crate::tensor::{Tensor, collect_in_parallel};
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
        let (value, (m, n, k)) = affine_value(self, weight, bias);
        Var::from_op(
            "affine",
            value,
            &[self, weight, bias],
            Box::new(move |g, inputs, _| affine_backward(&contiguous(g), inputs, (m, n, k))),
        )
    }

    /// `max(x W + b, 0)`: [`Var::affine`] and a ReLU in one operation (a feed-forward
    /// network's first layer). The ReLU works in place on the product, and backward masks
    /// the gradient once, where the two nodes would each allocate and copy a tensor both ways.
    ///
    /// ```text
    /// Y = max(X W + b, 0)        G' = G ⊙ [Y > 0],  then the affine map's gradients of G'
    /// ```
    ///
    /// ```
    /// use dl_core::autograd::Var;
    /// use dl_core::tensor::from_vec;
    /// let x = Var::new(from_vec(&[2, 1], vec![1., -1.]));
    /// let w = Var::new(from_vec(&[1, 1], vec![2.]));
    /// let b = Var::new(from_vec(&[1], vec![0.5]));
    /// let y = x.affine_relu(&w, &b);
    /// assert_eq!(y.value().as_slice().unwrap(), &[2.5, 0.]); // max(2.5, 0), max(−1.5, 0)
    /// y.sum().backward();
    /// assert_eq!(w.grad().unwrap()[[0, 0]], 1.0); // only the first row passes the ReLU
    /// ```
    #[track_caller]
    pub fn affine_relu(&self, weight: &Var, bias: &Var) -> Var {
        let (mut value, (m, n, k)) = affine_value(self, weight, bias);
        for_each_chunk(
            value.as_slice_mut().expect("fresh tensor"),
            VALUES_PER_TASK,
            |_, c| c.iter_mut().for_each(|v| *v = v.max(0.0)),
        );
        Var::from_op(
            "affine_relu",
            value,
            &[self, weight, bias],
            Box::new(move |g, inputs, y| {
                let g = contiguous(g);
                let y = y.as_slice().expect("fresh tensor");
                let masked = collect_in_parallel(g.len(), |run| {
                    let y = &y[run.clone()];
                    g[run]
                        .iter()
                        .zip(y)
                        .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 })
                });
                affine_backward(&masked, inputs, (m, n, k))
            }),
        )
    }
}

/// `X W + b` for `x [.., k]`, `weight [k, n]`, `bias [n]`, and the product's `(m, n, k)`
/// (`m` rows of `x`).
#[track_caller]
fn affine_value(x: &Var, weight: &Var, bias: &Var) -> (Tensor, (usize, usize, usize)) {
    let (xs, ws) = (x.shape(), weight.shape());
    assert!(
        !xs.is_empty() && ws.len() == 2 && xs[xs.len() - 1] == ws[0] && bias.shape() == [ws[1]],
        "affine: input {xs:?}, weight {ws:?} and bias {:?} do not fit ([.., k], [k, n], [n])",
        bias.shape()
    );
    let (k, n) = (ws[0], ws[1]);
    let m: usize = xs[..xs.len() - 1].iter().product();
    let mut shape = xs[..xs.len() - 1].to_vec();
    shape.push(n);
    let x = contiguous(x.value());
    let w = contiguous(weight.value());
    let b = contiguous(bias.value());
    // The product into fresh memory, then the bias added to every row (no pass of zeros
    // first; equal to adding the product into rows of the bias up to rounding).
    let mut y = product(m, n, k, &x, Stored::AsIs, &w, Stored::AsIs);
    let rows_per_task = (VALUES_PER_TASK / n.max(1)).max(1);
    for_each_chunk(&mut y, rows_per_task * n, |_, rows| {
        rows.chunks_exact_mut(n.max(1)).for_each(|row| {
            row.iter_mut().zip(b.iter()).for_each(|(v, b)| *v += b);
        });
    });
    (
        Tensor::from_shape_vec(IxDyn(&shape), y).expect("output shape"),
        (m, n, k),
    )
}

/// The gradients of `X W + b` (inputs `[x, weight, bias]`) from `G = ∂L/∂Y`, `[m, n]`
/// row-major: `G Wᵀ`, `Xᵀ G`, `Σ_rows G`, each only where its input needs one.
fn affine_backward(
    g: &[f32],
    inputs: &[Var],
    (m, n, k): (usize, usize, usize),
) -> Vec<Option<Tensor>> {
    let grad_x = inputs[0].requires_grad().then(|| {
        // ∂L/∂X = G Wᵀ: [m, n] · [n, k]
        let w = contiguous(inputs[1].value());
        let dx = product(m, k, n, g, Stored::AsIs, &w, Stored::Transposed);
        Tensor::from_shape_vec(inputs[0].value().raw_dim(), dx).expect("input shape")
    });
    let grad_w = inputs[1].requires_grad().then(|| {
        // ∂L/∂W = Xᵀ G: [k, m] · [m, n]
        let x = contiguous(inputs[0].value());
        let dw = product(k, n, m, &x, Stored::Transposed, g, Stored::AsIs);
        Tensor::from_shape_vec(IxDyn(&[k, n]), dw).expect("weight shape")
    });
    let grad_b = inputs[2]
        .requires_grad()
        .then(|| Tensor::from_shape_vec(IxDyn(&[n]), column_sums(g, n)).expect("bias shape"));
    vec![grad_x, grad_w, grad_b]
}

/// Rows summed by one task of [`column_sums`]: the blocks are fixed, so the partial sums are
/// added in the same order whatever the number of threads.
const ROWS_PER_TASK: usize = 64;

/// `Σ_rows g` of a row-major `[m, n]` matrix (the bias gradient): blocks of rows summed in
/// parallel, then the blocks' partial sums added in block order.
fn column_sums(g: &[f32], n: usize) -> Vec<f32> {
    use rayon::prelude::*;
    let n = n.max(1);
    let block = ROWS_PER_TASK * n;
    let partials: Vec<Vec<f32>> = if g.len() > block && rayon::current_num_threads() > 1 {
        g.par_chunks(block).map(|rows| add_rows(rows, n)).collect()
    } else {
        g.chunks(block).map(|rows| add_rows(rows, n)).collect()
    };
    let mut sums = vec![0.0; n];
    for partial in &partials {
        sums.iter_mut().zip(partial).for_each(|(s, p)| *s += p);
    }
    sums
}

/// The sum of the `n`-long rows of `rows`.
fn add_rows(rows: &[f32], n: usize) -> Vec<f32> {
    let mut sums = vec![0.0; n];
    add_rows_into(rows, &mut sums);
    sums
}

fast_math::best_simd_fn! {
    /// `sums += row` for every `sums.len()`-long row of `rows`, in vector lanes.
    fn add_rows_into(rows: &[f32], sums: &mut [f32]) {
        for row in rows.chunks_exact(sums.len()) {
            sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
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

    #[test]
    fn affine_relu_equals_affine_then_relu_with_the_same_gradients() {
        crate::seed(24);
        // Above the parallel thresholds (rows · width > 2¹⁶), an odd width.
        let x = Var::new(uniform(&[3, 700, 5], -1.0, 1.0));
        let w = Var::new(uniform(&[5, 37], -1.0, 1.0));
        let b = Var::new(uniform(&[37], -0.5, 0.5));
        let r = Var::constant(uniform(&[3, 700, 37], -1.0, 1.0));
        let fused = x.affine_relu(&w, &b);
        fused.mul(&r).sum().backward();
        let grads: Vec<_> = [&x, &w, &b].iter().map(|v| v.grad().unwrap()).collect();
        [&x, &w, &b].iter().for_each(|v| v.zero_grad());
        let reference = x.affine(&w, &b).relu();
        reference.mul(&r).sum().backward();
        assert_eq!(fused.value(), reference.value());
        for (v, g) in [&x, &w, &b].iter().zip(&grads) {
            let want = v.grad().unwrap();
            assert!(
                g.iter()
                    .zip(&want)
                    .all(|(a, e)| (a - e).abs() < 1e-3 * (1.0 + e.abs())),
                "{g} vs {want}"
            );
        }
    }

    #[test]
    fn affine_relu_gradients_agree_with_central_differences() {
        crate::seed(25);
        // Inputs kept away from the kink: every pre-activation at least 0.1 from 0.
        let x = uniform(&[2, 3, 4], -1.0, 1.0);
        let w = uniform(&[4, 5], -1.0, 1.0);
        let mut b = uniform(&[5], -1.0, 1.0);
        let pre = x
            .clone()
            .into_shape_with_order((6, 4))
            .unwrap()
            .dot(&w.clone().into_shape_with_order((4, 5)).unwrap());
        for (j, b) in b.iter_mut().enumerate() {
            while pre.column(j).iter().any(|p| (p + *b).abs() < 0.1) {
                *b += 0.05;
            }
        }
        let r = uniform(&[2, 3, 5], -1.0, 1.0);
        check_gradients(
            |v| v[0].affine_relu(&v[1], &v[2]).mul(&v[3]).sum(),
            &[x, w, b, r],
        )
        .assert_within(1e-2);
    }

    #[test]
    fn column_sums_over_blocks_of_rows_equal_the_plain_sums() {
        crate::seed(23);
        // Row counts below, at and above one block, and not a multiple of it; odd widths.
        for (m, n) in [(1, 1), (63, 5), (64, 7), (65, 3), (1000, 65), (2048, 13)] {
            let g = uniform(&[m, n], -1.0, 1.0);
            let g = g.as_slice().unwrap();
            let mut want = vec![0.0f64; n];
            for row in g.chunks(n) {
                want.iter_mut().zip(row).for_each(|(w, &v)| *w += v as f64);
            }
            let got = super::column_sums(g, n);
            assert_eq!(got.len(), n);
            for (got, want) in got.iter().zip(&want) {
                assert!(
                    (*got as f64 - want).abs() < 1e-3,
                    "[{m}, {n}]: {got} vs {want}"
                );
            }
        }
    }
}
