//! Scaled dot-product attention, the heart of a Transformer, fused into one operation.
//!
//! For each batch and head, queries `Q`, keys `K` and values `V` are `[t, d]`:
//!
//! ```text
//! S = Q Kᵀ / √d               scores: how well query i matches key j
//! S_ij = −∞ for j > i          (causal: a position sees only itself and the past)
//! P = softmax_rows(S)          attention weights, each row sums to 1
//! O = P V                      each output is a weighted mean of the values
//!
//! ∂L/∂V = Pᵀ G     ∂L/∂P = G Vᵀ     ∂L/∂S = P ⊙ (∂L/∂P − rowsum(∂L/∂P ⊙ P)) / √d
//! ∂L/∂Q = ∂L/∂S K                   ∂L/∂K = (∂L/∂S)ᵀ Q
//! ```
//!
//! Written with autograd's own operations this is six nodes holding five `[t, t]` tensors per
//! head; fused, it keeps only `P`, and the batch's heads run in parallel.

use crate::autograd::Var;
use crate::autograd::matmul::{batched_gemm, contiguous};
use crate::ops::fast_math;
use crate::ops::gemm::{Output, Stored, gemm_strided};
use crate::tensor::{Tensor, zeros_in_parallel};
use ndarray::IxDyn;
use rayon::prelude::*;

/// Which keys each query may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masking {
    /// Every key (an encoder).
    None,
    /// Keys at or before the query's position (a decoder, a language model).
    Causal,
}

/// `(batch of matrix pairs, t, d)` of `[.., t, d]` queries, keys and values.
#[track_caller]
fn geometry(q: &Var, k: &Var, v: &Var) -> (usize, usize, usize) {
    let s = q.shape();
    assert!(
        s.len() >= 2 && k.shape() == s && v.shape() == s,
        "attention: queries {:?}, keys {:?} and values {:?} must have one shape [.., t, d]",
        s,
        k.shape(),
        v.shape()
    );
    let (t, d) = (s[s.len() - 2], s[s.len() - 1]);
    (s[..s.len() - 2].iter().product(), t, d)
}

/// The attention weights `P` (`[.., t, t]`), each row a softmax over the visible keys.
fn weights(
    q: &[f32],
    k: &[f32],
    (pairs, t, d): (usize, usize, usize),
    masking: Masking,
) -> Vec<f32> {
    let mut p = vec![0.0; pairs * t * t];
    p.par_chunks_mut(t * t).enumerate().for_each(|(i, s)| {
        let run = i * t * d..(i + 1) * t * d;
        head_weights((&q[run.clone()], d), (&k[run], d), (t, d), masking, s);
    });
    p
}

/// A head's `[t, d]` queries, keys, values or gradient inside a slice: `(slice, row stride)`
/// (`d` when they lie alone, `3w` inside packed projections).
type HeadRows<'a> = (&'a [f32], usize);

/// One head's attention weights `s [t, t]` from its queries and keys `[t, d]`.
fn head_weights(q: HeadRows, k: HeadRows, (t, d): (usize, usize), masking: Masking, s: &mut [f32]) {
    let scale = 1.0 / (d as f32).sqrt();
    gemm_strided(
        (t, t, d),
        (q.0, Stored::AsIs, q.1),
        (k.0, Stored::Transposed, k.1),
        (s, t),
        Output::Overwrite,
    );
    softmax_rows(s, t, scale, masking == Masking::Causal);
}

fast_math::best_simd_fn! {
    /// Each row of `s` (`t` scores) becomes `softmax(scale · row)` over its visible keys
    /// (the first `row + 1` when `causal`), with zeros for the hidden ones.
    fn softmax_rows(s: &mut [f32], t: usize, scale: f32, causal: bool) {
        for (row, scores) in s.chunks_mut(t).enumerate() {
            let visible = if causal { row + 1 } else { t };
            let (seen, hidden) = scores.split_at_mut(visible);
            let max = fast_math::max(seen) * scale;
            seen.iter_mut()
                .for_each(|v| *v = fast_math::exp(*v * scale - max));
            let inv = 1.0 / fast_math::sum_map(seen, |v| v);
            seen.iter_mut().for_each(|v| *v *= inv);
            hidden.fill(0.0);
        }
    }
}

fast_math::best_simd_fn! {
    /// `∂L/∂S = P ⊙ (∂L/∂P − rowsum(∂L/∂P ⊙ P)) · scale`, in place of `ds = ∂L/∂P`, row by row.
    fn softmax_rows_backward(ds: &mut [f32], p: &[f32], t: usize, scale: f32) {
        for (dp, p) in ds.chunks_mut(t).zip(p.chunks(t)) {
            let dot = fast_math::dot(dp, p);
            dp.iter_mut()
                .zip(p)
                .for_each(|(dp, p)| *dp = p * (*dp - dot) * scale);
        }
    }
}

/// One head's backward from its attention weights `P` and `G = ∂L/∂O` (all `[t, ·]`):
///
/// ```text
/// ∂L/∂V = Pᵀ G     ∂L/∂S = P ⊙ (G Vᵀ − rowsum(G Vᵀ ⊙ P)) / √d     ∂L/∂Q = ∂L/∂S K     ∂L/∂K = (∂L/∂S)ᵀ Q
/// ```
fn head_backward(
    p: &[f32],
    [g, q, k, v]: [HeadRows; 4],
    (t, d): (usize, usize),
    [dq, dk, dv]: [&mut [f32]; 3],
) {
    let scale = 1.0 / (d as f32).sqrt();
    use Stored::{AsIs, Transposed};
    let product = Output::Overwrite;
    gemm_strided(
        (t, d, t),
        (p, Transposed, t),
        (g.0, AsIs, g.1),
        (dv, d),
        product,
    );
    let mut ds = vec![0.0; t * t];
    gemm_strided(
        (t, t, d),
        (g.0, AsIs, g.1),
        (v.0, Transposed, v.1),
        (&mut ds, t),
        product,
    );
    softmax_rows_backward(&mut ds, p, t, scale);
    gemm_strided(
        (t, d, t),
        (&ds, AsIs, t),
        (k.0, AsIs, k.1),
        (dq, d),
        product,
    );
    gemm_strided(
        (t, d, t),
        (&ds, Transposed, t),
        (q.0, AsIs, q.1),
        (dk, d),
        product,
    );
}

/// The attention weights of queries against keys (`[.., t, t]`), to look at: what
/// [`scaled_dot_product_attention`] averages the values with.
pub fn attention_weights(q: &Tensor, k: &Tensor, masking: Masking) -> Tensor {
    let (qv, kv) = (Var::constant(q.clone()), Var::constant(k.clone()));
    let g = geometry(&qv, &kv, &kv);
    let p = weights(&contiguous(q), &contiguous(k), g, masking);
    let mut shape = q.shape().to_vec();
    *shape.last_mut().expect("checked") = g.1;
    Tensor::from_shape_vec(IxDyn(&shape), p).expect("weights shape")
}

/// `softmax(Q Kᵀ / √d) V` per batch and head, with an optional causal mask; `q`, `k`, `v`
/// are `[.., t, d]`.
///
/// ```
/// use dl_core::autograd::{Masking, Var, scaled_dot_product_attention};
/// let q = Var::new(dl_core::init::normal(&[1, 3, 4], 0.0, 1.0));
/// let v = Var::new(dl_core::init::normal(&[1, 3, 4], 0.0, 1.0));
/// let out = scaled_dot_product_attention(&q, &q, &v, Masking::Causal);
/// // The first position sees only itself: its output is its own value.
/// let first = out.value().slice(ndarray::s![0, 0, ..]).to_owned();
/// assert!(first.iter().zip(v.value().slice(ndarray::s![0, 0, ..])).all(|(a, b)| (a - b).abs() < 1e-6));
/// ```
#[track_caller]
pub fn scaled_dot_product_attention(q: &Var, k: &Var, v: &Var, masking: Masking) -> Var {
    let (pairs, t, d) = geometry(q, k, v);
    let p = weights(
        &contiguous(q.value()),
        &contiguous(k.value()),
        (pairs, t, d),
        masking,
    );
    let values = contiguous(v.value());
    let mut out = vec![0.0; pairs * t * d];
    out.par_chunks_mut(t * d).enumerate().for_each(|(i, o)| {
        batched_gemm(
            1,
            (t, d, t),
            &p[i * t * t..(i + 1) * t * t],
            Stored::AsIs,
            &values[i * t * d..(i + 1) * t * d],
            Stored::AsIs,
            o,
            Output::Overwrite,
        );
    });
    let value = Tensor::from_shape_vec(IxDyn(q.shape()), out).expect("query shape");
    Var::from_op(
        "attention",
        value,
        &[q, k, v],
        Box::new(move |g, inputs, _| {
            let g = contiguous(g);
            let (q, k, v) = (
                contiguous(inputs[0].value()),
                contiguous(inputs[1].value()),
                contiguous(inputs[2].value()),
            );
            let (mut dq, mut dk, mut dv) = (
                vec![0.0; pairs * t * d],
                vec![0.0; pairs * t * d],
                vec![0.0; pairs * t * d],
            );
            dq.par_chunks_mut(t * d)
                .zip(dk.par_chunks_mut(t * d))
                .zip(dv.par_chunks_mut(t * d))
                .enumerate()
                .for_each(|(i, ((dq, dk), dv))| {
                    let run = i * t * d..(i + 1) * t * d;
                    let (gi, qi, ki, vi) =
                        (&g[run.clone()], &q[run.clone()], &k[run.clone()], &v[run]);
                    let pi = &p[i * t * t..(i + 1) * t * t];
                    head_backward(
                        pi,
                        [(gi, d), (qi, d), (ki, d), (vi, d)],
                        (t, d),
                        [dq, dk, dv],
                    );
                });
            let shape = IxDyn(inputs[0].shape());
            let tensor =
                |x: Vec<f32>| Some(Tensor::from_shape_vec(shape.clone(), x).expect("input shape"));
            vec![tensor(dq), tensor(dk), tensor(dv)]
        }),
    )
}

/// Where head `h`'s query, key or value (`part` 0, 1, 2) of position `i` of sequence `b` sits
/// in a packed `[n, t, 3w]` tensor, and its `d` values: the start of the run.
#[inline]
fn packed_offset(
    (t, w): (usize, usize),
    b: usize,
    i: usize,
    part: usize,
    h: usize,
    d: usize,
) -> usize {
    (b * t + i) * 3 * w + part * w + h * d
}

/// Self-attention straight from the packed projections `qkv [n, t, 3w]` (queries, keys and
/// values side by side, as one matrix product makes them), in `heads` heads of `d = w/heads`;
/// returns the heads joined again, `[n, t, w]`. The same as splitting `qkv` into three
/// `[n, heads, t, d]` tensors, [`scaled_dot_product_attention`], and joining the heads, in
/// one operation that moves each value once each way.
///
/// ```
/// use dl_core::autograd::{Masking, Var, self_attention};
/// let qkv = Var::new(dl_core::init::normal(&[2, 5, 3 * 8], 0.0, 1.0));
/// let out = self_attention(&qkv, 2, Masking::Causal);
/// assert_eq!(out.shape(), &[2, 5, 8]);
/// ```
#[track_caller]
pub fn self_attention(qkv: &Var, heads: usize, masking: Masking) -> Var {
    let s = qkv.shape().to_vec();
    assert!(
        s.len() == 3 && s[2].is_multiple_of(3 * heads.max(1)),
        "self_attention: expected [n, t, 3·width] with width divisible by {heads} heads, got shape {s:?}"
    );
    let (n, t, w) = (s[0], s[1], s[2] / 3);
    let d = w / heads;
    let packed = contiguous(qkv.value());
    // One task per sequence: it owns that sequence's rows of the output and its heads'
    // weights, and copies each head's queries, keys and values out of the packed rows once.
    let mut p = zeros_in_parallel(&[n * heads * t * t]);
    let mut joined = zeros_in_parallel(&[n, t, w]);
    joined
        .as_slice_mut()
        .expect("fresh tensor")
        .par_chunks_mut(t * w)
        .zip(
            p.as_slice_mut()
                .expect("fresh tensor")
                .par_chunks_mut(heads * t * t),
        )
        .enumerate()
        .for_each(|(b, (out, p))| {
            let rows = &packed[b * t * 3 * w..(b + 1) * t * 3 * w];
            for (h, p) in p.chunks_mut(t * t).enumerate() {
                // Head h's queries, keys or values: every 3w-th run of d values.
                let part = |i: usize| (&rows[i * w + h * d..], 3 * w);
                head_weights(part(0), part(1), (t, d), masking, p);
                gemm_strided(
                    (t, d, t),
                    (&*p, Stored::AsIs, t),
                    (part(2).0, Stored::AsIs, 3 * w),
                    (&mut out[h * d..], w),
                    Output::Overwrite,
                );
            }
        });
    drop(packed);
    Var::from_op(
        "self_attention",
        joined,
        &[qkv],
        Box::new(move |g, inputs, _| {
            let g = contiguous(g);
            let packed = contiguous(inputs[0].value());
            let p = p.as_slice().expect("fresh tensor");
            let mut dqkv = zeros_in_parallel(&[n, t, 3 * w]);
            dqkv.as_slice_mut()
                .expect("fresh tensor")
                .par_chunks_mut(t * 3 * w)
                .enumerate()
                .for_each(|(b, d_rows)| {
                    let rows = &packed[b * t * 3 * w..(b + 1) * t * 3 * w];
                    let g_rows = &g[b * t * w..(b + 1) * t * w];
                    let buffer = || vec![0.0; t * d];
                    let [mut dq, mut dk, mut dv] = [buffer(), buffer(), buffer()];
                    for h in 0..heads {
                        let part = |i: usize| (&rows[i * w + h * d..], 3 * w);
                        let g_head = (&g_rows[h * d..], w);
                        let pair = b * heads + h;
                        let pi = &p[pair * t * t..(pair + 1) * t * t];
                        head_backward(
                            pi,
                            [g_head, part(0), part(1), part(2)],
                            (t, d),
                            [&mut dq, &mut dk, &mut dv],
                        );
                        for (part, grad) in [&dq, &dk, &dv].into_iter().enumerate() {
                            for i in 0..t {
                                let to = packed_offset((t, w), 0, i, part, h, d);
                                d_rows[to..to + d].copy_from_slice(&grad[i * d..(i + 1) * d]);
                            }
                        }
                    }
                });
            vec![Some(dqkv)]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::{causal_mask, check_gradients};
    use crate::init::uniform;

    /// The same attention from autograd's small operations: what the fused one must equal.
    fn unfused(q: &Var, k: &Var, v: &Var, masking: Masking) -> Var {
        let d = *q.shape().last().unwrap() as f32;
        let mut s = q.matmul(&k.transpose()).scale(1.0 / d.sqrt());
        if masking == Masking::Causal {
            s = s.masked_fill(&causal_mask(q.shape()[q.shape().len() - 2]), -1e9);
        }
        s.softmax(s.shape().len() - 1).matmul(v)
    }

    #[test]
    fn fused_attention_equals_the_unfused_graph_and_its_gradients_check() {
        crate::seed(12);
        let shape = [2, 2, 5, 3];
        let (q, k, v) = (
            uniform(&shape, -1.0, 1.0),
            uniform(&shape, -1.0, 1.0),
            uniform(&shape, -1.0, 1.0),
        );
        let r = uniform(&shape, -1.0, 1.0);
        for masking in [Masking::None, Masking::Causal] {
            let vars = [q.clone(), k.clone(), v.clone()].map(Var::new);
            let fused = scaled_dot_product_attention(&vars[0], &vars[1], &vars[2], masking);
            let reference = unfused(&vars[0], &vars[1], &vars[2], masking);
            assert!(
                fused
                    .value()
                    .iter()
                    .zip(reference.value())
                    .all(|(a, b)| (a - b).abs() < 1e-5)
            );
            check_gradients(
                |v| {
                    scaled_dot_product_attention(&v[0], &v[1], &v[2], masking)
                        .mul(&v[3])
                        .sum()
                },
                &[q.clone(), k.clone(), v.clone(), r.clone()],
            )
            .assert_within(1e-2);
        }
        // From packed projections: the same as splitting, attending and joining.
        let packed = uniform(&[2, 5, 3 * 6], -1.0, 1.0);
        let split = |qkv: &Var| {
            let head = |i: usize| {
                qkv.slice(2, i * 6..(i + 1) * 6)
                    .reshape(&[2, 5, 2, 3])
                    .permute(&[0, 2, 1, 3])
            };
            let o = scaled_dot_product_attention(&head(0), &head(1), &head(2), Masking::Causal);
            o.permute(&[0, 2, 1, 3]).reshape(&[2, 5, 6])
        };
        let r6 = uniform(&[2, 5, 6], -1.0, 1.0);
        let fused = self_attention(&Var::constant(packed.clone()), 2, Masking::Causal);
        let reference = split(&Var::constant(packed.clone()));
        assert!(
            fused
                .value()
                .iter()
                .zip(reference.value())
                .all(|(a, b)| (a - b).abs() < 1e-5)
        );
        check_gradients(
            |v| self_attention(&v[0], 2, Masking::Causal).mul(&v[1]).sum(),
            &[packed, r6],
        )
        .assert_within(1e-2);
        let p = attention_weights(&q, &k, Masking::Causal);
        assert_eq!(p.shape(), &[2, 2, 5, 5]);
        assert_eq!(p[[0, 0, 0, 1]], 0.0);
        assert!((p.sum_axis(ndarray::Axis(3)).mapv(|s| (s - 1.0).abs()).sum()) < 1e-4);
    }
}
