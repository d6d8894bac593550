//! A hand-written layer inside an autograd expression: its own `forward` and `backward` are
//! the operation and its gradient.
//!
//! ```text
//! y = layer(x)     ∂L/∂x = layer.backward(∂L/∂y)    (which also accumulates ∂L/∂θ into
//!                                                    the layer's parameters)
//! ```
//!
//! The graph keeps the layer in a [`SharedLayer`] (shared, locked while it runs), because the
//! gradient is taken later, when the whole expression's `backward` reaches this node. A layer
//! caches the input of its latest `forward`; if it was called again since (the same layer on
//! two paths), its backward first runs `forward` again on this node's input.

use crate::autograd::Var;
use crate::nn::{Layer, Mode};
use std::sync::{Arc, Mutex, MutexGuard};

struct Slot {
    layer: Box<dyn Layer>,
    /// Which call's input the layer's cache holds.
    latest_call: u64,
    calls: u64,
}

/// A layer that autograd expressions can call (cloning shares the same layer).
///
/// ```
/// use dl_core::autograd::{SharedLayer, Var};
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let dense = SharedLayer::new(Dense::new(3, 2));
/// let x = Var::new(dl_core::init::normal(&[4, 3], 0.0, 1.0));
/// let loss = x.apply(&dense, Mode::Train).tanh().sum();
/// loss.backward();
/// assert_eq!(x.grad().unwrap().shape(), &[4, 3]);          // through Dense's backward
/// assert!(dense.lock().parameters()[0].grad.iter().any(|g| *g != 0.0)); // ∂L/∂W accumulated
/// ```
#[derive(Clone)]
pub struct SharedLayer(Arc<Mutex<Slot>>);

impl SharedLayer {
    /// Shares `layer` with the expressions that call it.
    pub fn new(layer: impl Layer + 'static) -> SharedLayer {
        SharedLayer::from_box(Box::new(layer))
    }

    /// Shares an already boxed layer.
    pub fn from_box(layer: Box<dyn Layer>) -> SharedLayer {
        SharedLayer(Arc::new(Mutex::new(Slot {
            layer,
            latest_call: 0,
            calls: 0,
        })))
    }

    /// The layer, locked (its parameters, its gradients).
    pub fn lock(&self) -> LockedLayer<'_> {
        LockedLayer(self.0.lock().expect("a layer panicked while locked"))
    }
}

/// A [`SharedLayer`]'s layer while it is locked: use it as the layer itself.
pub struct LockedLayer<'a>(MutexGuard<'a, Slot>);

impl std::ops::Deref for LockedLayer<'_> {
    type Target = dyn Layer;
    fn deref(&self) -> &(dyn Layer + 'static) {
        self.0.layer.as_ref()
    }
}

impl std::ops::DerefMut for LockedLayer<'_> {
    fn deref_mut(&mut self) -> &mut (dyn Layer + 'static) {
        self.0.layer.as_mut()
    }
}

impl Var {
    /// The output of a hand-written layer for this input; the layer's `backward` gives the
    /// gradient (see the module docs).
    #[track_caller]
    pub fn apply(&self, layer: &SharedLayer, mode: Mode) -> Var {
        let (value, call) = {
            let mut slot = layer.0.lock().expect("a layer panicked while locked");
            slot.calls += 1;
            let call = slot.calls;
            slot.latest_call = call;
            (slot.layer.forward(self.value(), mode), call)
        };
        let name: &'static str = "layer";
        let layer = layer.clone();
        Var::from_op(
            name,
            value,
            &[self],
            Box::new(move |g, inputs, _| {
                let mut slot = layer.0.lock().expect("a layer panicked while locked");
                // Backward may run on a worker of the pool (see `Var::backward_with`): the
                // layer's own parallel loops keep their products on one thread, as they
                // would when called outside autograd.
                crate::ops::gemm::with_products_top_level(false, || {
                    if slot.latest_call != call {
                        slot.layer.forward(inputs[0].value(), mode);
                        slot.latest_call = call;
                    }
                    vec![Some(slot.layer.backward(g))]
                })
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_gradients;
    use crate::prelude::*;

    #[test]
    fn a_layer_called_on_two_paths_gets_both_gradients() {
        crate::seed(13);
        let x = crate::init::uniform(&[3, 4], -1.0, 1.0);
        let dense = SharedLayer::new(Dense::new(4, 4));
        // y = tanh(D(tanh(D(x)))): the same layer twice.
        check_gradients(
            |v| {
                v[0].apply(&dense, Mode::Eval)
                    .tanh()
                    .apply(&dense, Mode::Eval)
                    .tanh()
                    .sum()
            },
            &[x],
        )
        .assert_within(1e-2);
    }
}
