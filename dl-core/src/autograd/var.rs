//! The variable: a tensor that remembers the operation that made it.
//!
//! Every operation on [`Var`]s computes its value at once (eagerly, as PyTorch does) and
//! records a node: its inputs and a closure that turns the gradient of its output into the
//! gradients of its inputs (the chain rule, one operation at a time):
//!
//! ```text
//! y = f(a, b)      records     ∂L/∂a = (∂y/∂a)ᵀ ∂L/∂y,   ∂L/∂b = (∂y/∂b)ᵀ ∂L/∂y
//! ```
//!
//! [`Var::backward`] on a scalar `L` sorts the nodes it depends on so that each comes after
//! every node that uses it (a topological order), starts from `∂L/∂L = 1`, and walks the
//! order once, adding each node's input gradients into what its inputs have received. A
//! leaf (a [`Var::new`] or a layer's parameter) keeps what it received: [`Var::grad`].
//!
//! A node whose inputs need no gradient ([`Var::constant`]s) records nothing, so inference
//! with constants builds no graph at all.

use crate::tensor::Tensor;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Turns `∂L/∂output` into `∂L/∂input` for each input (`None` for an input that needs none).
///
/// Arguments: the output's gradient, the inputs, the output's value.
pub(crate) type BackwardFn =
    Box<dyn Fn(&Tensor, &[Var], &Tensor) -> Vec<Option<Tensor>> + Send + Sync>;

struct Node {
    value: Tensor,
    /// The operation's name, for error messages and `Debug` (`"matmul"`, `"leaf"`).
    op: &'static str,
    inputs: Vec<Var>,
    backward: Option<BackwardFn>,
    /// Fixed for a computed node; a leaf's may be switched off before backward
    /// ([`Var::stop_gradient`]).
    requires_grad: AtomicBool,
    /// What a leaf has received from `backward` calls (accumulated, as in PyTorch).
    grad: Mutex<Option<Tensor>>,
}

impl Drop for Node {
    /// Drops a long chain of nodes one by one instead of recursively (a recurrence over
    /// thousands of steps would otherwise overflow the stack).
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.inputs);
        while let Some(var) = pending.pop() {
            if let Ok(mut node) = Arc::try_unwrap(var.0) {
                pending.append(&mut node.inputs);
            }
        }
    }
}

/// A tensor in a computation whose gradient can be taken (micrograd's `Value`, on tensors).
///
/// Cloning a `Var` is cheap: clones are the same node.
///
/// ```
/// use dl_core::autograd::Var;
/// use dl_core::tensor::from_vec;
/// let x = Var::new(from_vec(&[3], vec![1.0, 2.0, 3.0]));
/// let loss = (&x * &x).sum(); // L = Σ xᵢ²
/// loss.backward();
/// assert_eq!(loss.item(), 14.0);
/// assert_eq!(x.grad().unwrap().as_slice().unwrap(), &[2.0, 4.0, 6.0]); // ∂L/∂x = 2x
/// ```
#[derive(Clone)]
pub struct Var(Arc<Node>);

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var({}, shape {:?}", self.0.op, self.shape())?;
        if self.0.value.len() <= 8 {
            write!(
                f,
                ", {:?}",
                self.0.value.as_slice_memory_order().unwrap_or(&[])
            )?;
        }
        write!(f, ")")
    }
}

impl Var {
    /// A leaf whose gradient is wanted (an input to differentiate by, a weight).
    pub fn new(value: Tensor) -> Var {
        Var::leaf(value, true)
    }

    /// A leaf whose gradient is not wanted (data, targets, masks).
    pub fn constant(value: Tensor) -> Var {
        Var::leaf(value, false)
    }

    fn leaf(value: Tensor, requires_grad: bool) -> Var {
        Var(Arc::new(Node {
            value,
            op: "leaf",
            inputs: Vec::new(),
            backward: None,
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
        }))
    }

    /// The result of an operation: records `inputs` and `backward` when any input needs a
    /// gradient, and is a constant otherwise.
    pub(crate) fn from_op(
        op: &'static str,
        value: Tensor,
        inputs: &[&Var],
        backward: BackwardFn,
    ) -> Var {
        let requires_grad = inputs.iter().any(|v| v.requires_grad());
        Var(Arc::new(Node {
            value,
            op,
            inputs: if requires_grad {
                inputs.iter().map(|v| (*v).clone()).collect()
            } else {
                Vec::new()
            },
            backward: requires_grad.then_some(backward),
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
        }))
    }

    /// The value.
    pub fn value(&self) -> &Tensor {
        &self.0.value
    }

    /// The shape of the value.
    pub fn shape(&self) -> &[usize] {
        self.0.value.shape()
    }

    /// The value of a one-element variable (a loss).
    ///
    /// **Panics** if the variable holds more than one value.
    #[track_caller]
    pub fn item(&self) -> f32 {
        assert!(
            self.0.value.len() == 1,
            "item: the variable has shape {:?}, not one value",
            self.shape()
        );
        self.0.value.iter().copied().next().unwrap_or(0.0)
    }

    /// True if a gradient flows to this variable (a leaf made by [`Var::new`], or anything
    /// computed from one).
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// From now on no gradient is wanted for this leaf: the next `backward` neither
    /// computes nor keeps it (a model's input, whose gradient training never reads).
    ///
    /// **Panics** for a computed variable (use [`Var::detach`] before computing with it).
    #[track_caller]
    pub fn stop_gradient(&self) {
        assert!(
            self.0.backward.is_none() && self.0.inputs.is_empty(),
            "stop_gradient: {} is not a leaf",
            self.0.op
        );
        self.0.requires_grad.store(false, Ordering::Relaxed);
    }

    /// The operation that made this variable (`"leaf"` for a leaf).
    pub fn op(&self) -> &'static str {
        self.0.op
    }

    /// The same value, cut from the graph: a constant (PyTorch `detach`).
    pub fn detach(&self) -> Var {
        Var::constant(self.0.value.clone())
    }

    /// The gradient a leaf has received from `backward` calls (`None` before any, and for a
    /// computed variable).
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().expect("gradient lock").clone()
    }

    /// The gradient received so far, leaving none behind: [`Var::grad`] without the copy,
    /// for the one reader of a leaf that is dropped right after (a copy of a large weight's
    /// gradient at every batch was 12–27 % of the book MLP's training time).
    pub(crate) fn take_grad(&self) -> Option<Tensor> {
        self.0.grad.lock().expect("gradient lock").take()
    }

    /// Forgets the gradient received so far.
    pub fn zero_grad(&self) {
        *self.0.grad.lock().expect("gradient lock") = None;
    }

    /// Back-propagates from a one-element variable (a loss): `∂L/∂L = 1`.
    ///
    /// **Panics** if the variable holds more than one value (use [`Var::backward_with`]).
    #[track_caller]
    pub fn backward(&self) {
        assert!(
            self.0.value.len() == 1,
            "backward: the variable has shape {:?}; backward starts from a scalar loss (or use backward_with)",
            self.shape()
        );
        self.backward_with(Tensor::ones(self.0.value.raw_dim()));
    }

    /// Back-propagates a given `∂L/∂self` (what a layer's `backward` receives); each leaf
    /// adds what reaches it to its [`Var::grad`].
    ///
    /// **Panics** if `grad` does not have this variable's shape.
    #[track_caller]
    pub fn backward_with(&self, grad: Tensor) {
        assert!(
            grad.shape() == self.shape(),
            "backward_with: gradient of shape {:?} for a variable of shape {:?}",
            grad.shape(),
            self.shape()
        );
        if !self.requires_grad() {
            return;
        }
        if rayon::current_num_threads() > 1 && rayon::current_thread_index().is_none() {
            // The whole pass on a worker of the pool: each parallel region below is then a
            // `join` between workers instead of a hand-off from this thread to the pool and
            // back (a wake-up and a sleep each way, hundreds of times per pass), and this
            // thread waits once. Its products still split over the pool.
            rayon::scope(|_| {
                crate::ops::gemm::with_products_top_level(true, || self.back_propagate(grad))
            });
        } else {
            self.back_propagate(grad);
        }
    }

    /// The chain rule through the graph that ends at this variable, from `∂L/∂self = grad`.
    fn back_propagate(&self, grad: Tensor) {
        let order = self.topological_order();
        // The gradient received so far by each node of `order`, by position.
        let position: std::collections::HashMap<*const Node, usize> = order
            .iter()
            .enumerate()
            .map(|(i, v)| (Arc::as_ptr(&v.0), i))
            .collect();
        let mut received: Vec<Option<Tensor>> = vec![None; order.len()];
        received[order.len() - 1] = Some(grad);
        for i in (0..order.len()).rev() {
            let Some(g) = received[i].take() else {
                continue;
            };
            let node = &order[i].0;
            let Some(backward) = &node.backward else {
                let mut slot = node.grad.lock().expect("gradient lock");
                match slot.as_mut() {
                    Some(total) => *total += &g,
                    None => *slot = Some(g),
                }
                continue;
            };
            let input_grads = backward(&g, &node.inputs, &node.value);
            for (input, input_grad) in node.inputs.iter().zip(input_grads) {
                let (Some(input_grad), true) = (input_grad, input.requires_grad()) else {
                    continue;
                };
                debug_assert_eq!(
                    input_grad.shape(),
                    input.shape(),
                    "{}: gradient shape",
                    node.op
                );
                let j = position[&Arc::as_ptr(&input.0)];
                match &mut received[j] {
                    Some(total) => add_into(total, &input_grad),
                    slot => *slot = Some(input_grad),
                }
            }
        }
    }

    /// The nodes this variable depends on (itself last), each after all of its inputs.
    fn topological_order(&self) -> Vec<Var> {
        let mut order = Vec::new();
        let mut seen: HashSet<*const Node> = HashSet::new();
        // Depth-first, without recursion (a long recurrence would overflow the stack):
        // (node, whether its inputs have been pushed).
        let mut stack = vec![(self.clone(), false)];
        while let Some((var, expanded)) = stack.pop() {
            if expanded {
                order.push(var);
                continue;
            }
            if !seen.insert(Arc::as_ptr(&var.0)) {
                continue;
            }
            stack.push((var.clone(), true));
            for input in var.0.inputs.iter().rev() {
                if input.requires_grad() && !seen.contains(&Arc::as_ptr(&input.0)) {
                    stack.push((input.clone(), false));
                }
            }
        }
        order
    }
}

/// `total += grad`, split over the threads for a large contiguous gradient (the residual
/// stream of a deep model receives one from every path).
fn add_into(total: &mut Tensor, grad: &Tensor) {
    use crate::autograd::elementwise::{VALUES_PER_TASK, for_each_chunk};
    match (total.as_slice_mut(), grad.as_slice()) {
        (Some(t), Some(g)) if t.len() == g.len() => {
            for_each_chunk(t, VALUES_PER_TASK, |i, t| {
                let g = &g[i * VALUES_PER_TASK..i * VALUES_PER_TASK + t.len()];
                t.iter_mut().zip(g).for_each(|(t, g)| *t += g);
            });
        }
        _ => *total += grad,
    }
}

impl From<Tensor> for Var {
    /// A constant.
    fn from(value: Tensor) -> Var {
        Var::constant(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::from_vec;

    #[test]
    fn a_variable_used_twice_receives_both_gradients() {
        let x = Var::new(from_vec(&[2], vec![3.0, -1.0]));
        let y = &x + &x; // ∂(Σ 2x)/∂x = 2
        y.sum().backward();
        assert_eq!(x.grad().unwrap().as_slice().unwrap(), &[2.0, 2.0]);
        // Gradients accumulate over backward calls until zero_grad.
        y.sum().backward();
        assert_eq!(x.grad().unwrap().as_slice().unwrap(), &[4.0, 4.0]);
        x.zero_grad();
        assert!(x.grad().is_none());
    }

    #[test]
    fn constants_record_nothing() {
        let a = Var::constant(from_vec(&[2], vec![1.0, 2.0]));
        let b = (&a * &a).exp();
        assert!(!b.requires_grad());
        assert_eq!(b.op(), "exp");
        b.sum().backward(); // nothing to do, and no panic
        assert!(a.grad().is_none());
    }

    #[test]
    fn a_deep_chain_does_not_overflow_the_stack() {
        let x = Var::new(from_vec(&[1], vec![0.5]));
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y * 1.0;
        }
        y.sum().backward();
        assert_eq!(x.grad().unwrap()[[0]], 1.0);
    }

    #[test]
    #[should_panic(expected = "backward starts from a scalar loss")]
    fn backward_of_a_non_scalar_says_what_to_do() {
        Var::new(from_vec(&[2], vec![1.0, 2.0])).backward();
    }
}
