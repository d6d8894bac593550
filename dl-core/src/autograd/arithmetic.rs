//! Element-wise arithmetic with broadcasting: `a + b`, `a − b`, `a ⊙ b`, `a / b`, `−a`, and
//! the same with a number.
//!
//! ```text
//! y = a + b    ∂L/∂a = g            ∂L/∂b = g
//! y = a − b    ∂L/∂a = g            ∂L/∂b = −g
//! y = a ⊙ b    ∂L/∂a = g ⊙ b        ∂L/∂b = g ⊙ a
//! y = a / b    ∂L/∂a = g / b        ∂L/∂b = −g ⊙ a / b²
//! ```
//!
//! Broadcasting follows NumPy's rule (shapes aligned from the right; an axis of length 1
//! stretches): a bias `[d]` adds to every row of `[n, d]`. An input that was stretched
//! received the same gradient at every copy, so its gradient is `g` summed over the stretched
//! axes ([`sum_to_shape`]).

use crate::autograd::Var;
use crate::autograd::elementwise::{VALUES_PER_TASK, for_each_chunk};
use crate::tensor::{Tensor, collect_in_parallel, copy_in_parallel};
use ndarray::{Axis, IxDyn};

/// `g` summed down to `shape`: over the leading axes `shape` lacks, and over the axes where
/// `shape` has length 1 and `g` does not (the adjoint of broadcasting).
///
/// ```
/// use dl_core::autograd::sum_to_shape;
/// let g = dl_core::tensor::from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.]);
/// assert_eq!(sum_to_shape(&g, &[3]).as_slice().unwrap(), &[5., 7., 9.]);
/// assert_eq!(sum_to_shape(&g, &[2, 1]).as_slice().unwrap(), &[6., 15.]);
/// ```
pub fn sum_to_shape(g: &Tensor, shape: &[usize]) -> Tensor {
    if g.shape() == shape {
        return copy_in_parallel(g);
    }
    let mut out = g.clone();
    while out.ndim() > shape.len() {
        out = out.sum_axis(Axis(0));
    }
    for (axis, &len) in shape.iter().enumerate() {
        if len == 1 && out.shape()[axis] != 1 {
            out = out.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    out.into_shape_with_order(IxDyn(shape))
        .expect("broadcast shapes agree")
}

/// The broadcast shape of two shapes, or a panic naming both.
#[track_caller]
fn broadcast_shape(op: &str, a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n {
                a[i + a.len() - n]
            } else {
                1
            };
            let db = if i + b.len() >= n {
                b[i + b.len() - n]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => panic!("{op}: shapes {a:?} and {b:?} do not broadcast"),
            }
        })
        .collect()
}

/// `f(a, b)` element by element, both broadcast to their common shape.
#[track_caller]
fn zip_broadcast(op: &str, a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32 + Sync) -> Tensor {
    // The common cases on plain slices: equal shapes, and a vector added to every row.
    if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
        let rowwise =
            b.ndim() == 1 && a.ndim() >= 1 && a.shape().last() == b.shape().last() && !y.is_empty();
        if a.shape() == b.shape() {
            let data = collect_in_parallel(x.len(), |run| {
                let y = &y[run.clone()];
                x[run].iter().zip(y).map(|(&x, &y)| f(x, y))
            });
            return Tensor::from_shape_vec(a.raw_dim(), data).expect("input shape");
        }
        if rowwise {
            let mut out = copy_in_parallel(a);
            let o = out.as_slice_mut().expect("owned copy of a slice");
            debug_assert_eq!(o.len(), x.len());
            // Tasks of whole rows of `b`.
            let chunk = (VALUES_PER_TASK / y.len()).max(1) * y.len();
            for_each_chunk(o, chunk, |_, o| {
                for row in o.chunks_mut(y.len()) {
                    row.iter_mut().zip(y).for_each(|(o, &y)| *o = f(*o, y));
                }
            });
            return out;
        }
    }
    let shape = broadcast_shape(op, a.shape(), b.shape());
    let a = a
        .broadcast(IxDyn(&shape))
        .expect("checked by broadcast_shape");
    let b = b
        .broadcast(IxDyn(&shape))
        .expect("checked by broadcast_shape");
    let mut out = a.to_owned();
    out.zip_mut_with(&b, |x, &y| *x = f(*x, y));
    out
}

impl Var {
    /// `a + b`, broadcasting.
    #[track_caller]
    pub fn add(&self, other: &Var) -> Var {
        let value = zip_broadcast("add", self.value(), other.value(), |x, y| x + y);
        Var::from_op(
            "add",
            value,
            &[self, other],
            Box::new(|g, inputs, _| {
                vec![
                    Some(sum_to_shape(g, inputs[0].shape())),
                    Some(sum_to_shape(g, inputs[1].shape())),
                ]
            }),
        )
    }

    /// `a − b`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Var) -> Var {
        let value = zip_broadcast("sub", self.value(), other.value(), |x, y| x - y);
        Var::from_op(
            "sub",
            value,
            &[self, other],
            Box::new(|g, inputs, _| {
                vec![
                    Some(sum_to_shape(g, inputs[0].shape())),
                    Some(-sum_to_shape(g, inputs[1].shape())),
                ]
            }),
        )
    }

    /// `a ⊙ b` (element by element), broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Var) -> Var {
        let value = zip_broadcast("mul", self.value(), other.value(), |x, y| x * y);
        Var::from_op(
            "mul",
            value,
            &[self, other],
            Box::new(|g, inputs, _| {
                let (a, b) = (inputs[0].value(), inputs[1].value());
                vec![
                    inputs[0].requires_grad().then(|| {
                        sum_to_shape(&zip_broadcast("mul", g, b, |g, b| g * b), a.shape())
                    }),
                    inputs[1].requires_grad().then(|| {
                        sum_to_shape(&zip_broadcast("mul", g, a, |g, a| g * a), b.shape())
                    }),
                ]
            }),
        )
    }

    /// `a / b` (element by element), broadcasting.
    #[track_caller]
    pub fn div(&self, other: &Var) -> Var {
        let value = zip_broadcast("div", self.value(), other.value(), |x, y| x / y);
        Var::from_op(
            "div",
            value,
            &[self, other],
            Box::new(|g, inputs, y| {
                let (a, b) = (inputs[0].value(), inputs[1].value());
                vec![
                    inputs[0].requires_grad().then(|| {
                        sum_to_shape(&zip_broadcast("div", g, b, |g, b| g / b), a.shape())
                    }),
                    // ∂(a/b)/∂b = −(a/b)/b = −y/b
                    inputs[1].requires_grad().then(|| {
                        let gy = g * y;
                        sum_to_shape(&zip_broadcast("div", &gy, b, |gy, b| -gy / b), b.shape())
                    }),
                ]
            }),
        )
    }

    /// `c · a` for a number `c`.
    pub fn scale(&self, c: f32) -> Var {
        Var::from_op(
            "scale",
            self.value() * c,
            &[self],
            Box::new(move |g, _, _| vec![Some(g * c)]),
        )
    }

    /// `a + c` for a number `c`.
    pub fn add_scalar(&self, c: f32) -> Var {
        Var::from_op(
            "add_scalar",
            self.value() + c,
            &[self],
            Box::new(|g, _, _| vec![Some(g.clone())]),
        )
    }
}

/// Operators on `Var`s and on references to them, as for numbers: `&a + &b`, `&a * 2.0`, `-&a`.
macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:ident) => {
        impl std::ops::$trait<&Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, other: &Var) -> Var {
                Var::$op(self, other)
            }
        }
        impl std::ops::$trait<Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, other: Var) -> Var {
                Var::$op(&self, &other)
            }
        }
        impl std::ops::$trait<&Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, other: &Var) -> Var {
                Var::$op(&self, other)
            }
        }
        impl std::ops::$trait<Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, other: Var) -> Var {
                Var::$op(self, &other)
            }
        }
    };
}
binary_operator!(Add, add, add);
binary_operator!(Sub, sub, sub);
binary_operator!(Mul, mul, mul);
binary_operator!(Div, div, div);

impl std::ops::Mul<f32> for &Var {
    type Output = Var;
    fn mul(self, c: f32) -> Var {
        self.scale(c)
    }
}
impl std::ops::Mul<f32> for Var {
    type Output = Var;
    fn mul(self, c: f32) -> Var {
        self.scale(c)
    }
}
impl std::ops::Add<f32> for &Var {
    type Output = Var;
    fn add(self, c: f32) -> Var {
        self.add_scalar(c)
    }
}
impl std::ops::Add<f32> for Var {
    type Output = Var;
    fn add(self, c: f32) -> Var {
        self.add_scalar(c)
    }
}
impl std::ops::Neg for &Var {
    type Output = Var;
    fn neg(self) -> Var {
        self.scale(-1.0)
    }
}
impl std::ops::Neg for Var {
    type Output = Var;
    fn neg(self) -> Var {
        self.scale(-1.0)
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::{Var, check_gradients};
    use crate::init::uniform;

    #[test]
    fn arithmetic_gradients_agree_with_central_differences() {
        crate::seed(1);
        let a = uniform(&[3, 4], 0.5, 2.0);
        let row = uniform(&[4], 0.5, 2.0);
        let column = uniform(&[3, 1], 0.5, 2.0);
        check_gradients(|v| (&v[0] + &v[1]).sum(), &[a.clone(), row.clone()]).assert_within(1e-2);
        check_gradients(
            |v| (&v[0] - &v[1]).mul(&v[0]).sum(),
            &[a.clone(), column.clone()],
        )
        .assert_within(1e-2);
        check_gradients(
            |v| (&v[0] * &v[1]).mul(&v[1]).sum(),
            &[a.clone(), row.clone()],
        )
        .assert_within(1e-2);
        check_gradients(|v| (&v[0] / &v[1]).mul(&v[0]).sum(), &[a.clone(), column])
            .assert_within(1e-2);
        check_gradients(|v| ((&v[0] * 3.0 + 1.0) * &v[0]).sum(), &[a]).assert_within(1e-2);
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [2] do not broadcast")]
    fn shapes_that_do_not_broadcast_are_named() {
        let _ = Var::new(crate::tensor::zeros(&[2, 3])) + Var::new(crate::tensor::zeros(&[2]));
    }
}
