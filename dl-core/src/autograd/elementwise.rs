//! Functions applied to every value: the activations and the rest of a loss's arithmetic.
//!
//! ```text
//! y = eˣ          ∂L/∂x = g ⊙ y
//! y = ln x        ∂L/∂x = g / x
//! y = tanh x      ∂L/∂x = g ⊙ (1 − y²)
//! y = σ(x)        ∂L/∂x = g ⊙ y (1 − y)
//! y = max(x, 0)   ∂L/∂x = g ⊙ [x > 0]
//! y = x²          ∂L/∂x = 2 g ⊙ x
//! y = √x          ∂L/∂x = g / (2 y)
//! ```
//!
//! Each derivative is written with the output `y` where that is cheaper than recomputing
//! from `x`, as the hand-written layers do.

use crate::autograd::Var;
use crate::ops::fast_math;
use crate::tensor::{Tensor, collect_in_parallel};

/// Values per task when an element-wise pass is split over the threads (smaller tensors run on
/// the calling thread).
pub(crate) const VALUES_PER_TASK: usize = 1 << 15;

/// `f(i, chunk)` for every `chunk_len`-long chunk `i` of `values`, in parallel when there are
/// several chunks and several threads.
pub(crate) fn for_each_chunk(
    values: &mut [f32],
    chunk_len: usize,
    f: impl Fn(usize, &mut [f32]) + Sync,
) {
    let chunk_len = chunk_len.max(1);
    if values.len() > chunk_len && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        values
            .par_chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    } else {
        values
            .chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }
}

/// `f` of every value of `x`, written straight into a new tensor by the threads of the pool.
fn map(x: &Tensor, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let data = collect_in_parallel(xs.len(), |run| xs[run].iter().map(|&v| f(v)));
    Tensor::from_shape_vec(x.raw_dim(), data).expect("input shape")
}

/// `f(g, x, y)` for every value of the output's gradient, the input and the output.
fn zip3(g: &Tensor, x: &Tensor, y: &Tensor, f: impl Fn(f32, f32, f32) -> f32 + Sync) -> Tensor {
    if let (Some(gs), Some(xs), Some(ys)) = (g.as_slice(), x.as_slice(), y.as_slice())
        && xs.len() == gs.len()
        && ys.len() == gs.len()
    {
        let data = collect_in_parallel(gs.len(), |run| {
            let (xs, ys) = (&xs[run.clone()], &ys[run.clone()]);
            gs[run]
                .iter()
                .zip(xs.iter().zip(ys))
                .map(|(&g, (&x, &y))| f(g, x, y))
        });
        return Tensor::from_shape_vec(g.raw_dim(), data).expect("gradient shape");
    }
    let mut out = g.as_standard_layout().into_owned();
    ndarray::Zip::from(&mut out)
        .and(x)
        .and(y)
        .for_each(|o, &x, &y| *o = f(*o, x, y));
    out
}

impl Var {
    /// `eˣ`.
    pub fn exp(&self) -> Var {
        let value = map(self.value(), fast_math::exp);
        Var::from_op(
            "exp",
            value,
            &[self],
            Box::new(|g, inputs, y| vec![Some(zip3(g, inputs[0].value(), y, |g, _, y| g * y))]),
        )
    }

    /// The natural logarithm `ln x`.
    pub fn log(&self) -> Var {
        let value = self.value().mapv(f32::ln);
        Var::from_op(
            "log",
            value,
            &[self],
            Box::new(|g, inputs, y| vec![Some(zip3(g, inputs[0].value(), y, |g, x, _| g / x))]),
        )
    }

    /// `tanh x`.
    pub fn tanh(&self) -> Var {
        let value = map(self.value(), fast_math::tanh);
        Var::from_op(
            "tanh",
            value,
            &[self],
            Box::new(|g, inputs, y| {
                vec![Some(zip3(g, inputs[0].value(), y, |g, _, y| {
                    g * (1.0 - y * y)
                }))]
            }),
        )
    }

    /// The logistic sigmoid `σ(x) = 1 / (1 + e⁻ˣ)`.
    pub fn sigmoid(&self) -> Var {
        let value = map(self.value(), fast_math::sigmoid);
        Var::from_op(
            "sigmoid",
            value,
            &[self],
            Box::new(|g, inputs, y| {
                vec![Some(zip3(g, inputs[0].value(), y, |g, _, y| {
                    g * y * (1.0 - y)
                }))]
            }),
        )
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Var {
        let value = map(self.value(), |v| v.max(0.0));
        Var::from_op(
            "relu",
            value,
            &[self],
            Box::new(|g, inputs, y| {
                vec![Some(zip3(g, inputs[0].value(), y, |g, x, _| {
                    if x > 0.0 { g } else { 0.0 }
                }))]
            }),
        )
    }

    /// `x²`.
    pub fn square(&self) -> Var {
        let value = self.value().mapv(|v| v * v);
        Var::from_op(
            "square",
            value,
            &[self],
            Box::new(|g, inputs, y| {
                vec![Some(zip3(g, inputs[0].value(), y, |g, x, _| 2.0 * g * x))]
            }),
        )
    }

    /// `√x`.
    pub fn sqrt(&self) -> Var {
        let value = self.value().mapv(f32::sqrt);
        Var::from_op(
            "sqrt",
            value,
            &[self],
            Box::new(|g, inputs, y| {
                vec![Some(zip3(g, inputs[0].value(), y, |g, _, y| g / (2.0 * y)))]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn elementwise_gradients_agree_with_central_differences() {
        crate::seed(5);
        let x = uniform(&[3, 5], -2.0, 2.0);
        let positive = uniform(&[3, 5], 0.5, 2.0);
        // Away from ReLU's kink at 0.
        let away_from_zero = x.mapv(|v| if v.abs() < 0.1 { 0.5 } else { v });
        let r = uniform(&[3, 5], -1.0, 1.0);
        let weighted = |f: fn(&crate::autograd::Var) -> crate::autograd::Var| {
            move |v: &[crate::autograd::Var]| f(&v[0]).mul(&v[1]).sum()
        };
        for (name, f) in [
            ("exp", weighted(|v| v.exp())),
            ("tanh", weighted(|v| v.tanh())),
            ("sigmoid", weighted(|v| v.sigmoid())),
            ("square", weighted(|v| v.square())),
        ] {
            let report = check_gradients(f, &[x.clone(), r.clone()]);
            assert!(report.max_error() < 1e-2, "{name}: {report:?}");
        }
        check_gradients(weighted(|v| v.relu()), &[away_from_zero, r.clone()]).assert_within(1e-2);
        check_gradients(weighted(|v| v.log()), &[positive.clone(), r.clone()]).assert_within(1e-2);
        check_gradients(weighted(|v| v.sqrt()), &[positive, r]).assert_within(1e-2);
    }
}
