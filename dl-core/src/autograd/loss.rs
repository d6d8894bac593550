//! dl-core's losses as operations of a graph: the value from [`Loss::compute`], the gradient
//! from the hand-written [`Loss::gradient`].
//!
//! ```text
//! L = loss(y, ŷ)        ∂L/∂ŷ = g · loss'(y, ŷ)      (g = 1 when L is the final loss)
//! ```
//!
//! The sparse cross-entropies also take one class per position: predictions `[n, t, k]`,
//! labels `[n, t]` (a language model's loss).

use crate::autograd::Var;
use crate::loss::Loss;
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// The loss of predictions `y_hat` against the truth `y` (truth first), a scalar variable.
///
/// ```
/// use dl_core::autograd::{Var, loss};
/// use dl_core::prelude::*;
/// let y = dl_core::tensor::column(&[1.0, 2.0]);
/// let y_hat = Var::new(dl_core::tensor::column(&[1.5, 2.0]));
/// let l = loss(Loss::Mse, &y, &y_hat);
/// assert_eq!(l.item(), 0.125);
/// l.backward();
/// assert_eq!(y_hat.grad().unwrap(), Loss::Mse.gradient(&y, y_hat.value()));
/// ```
#[track_caller]
pub fn loss(loss: Loss, y: &Tensor, y_hat: &Var) -> Var {
    let value = Tensor::from_elem(IxDyn(&[]), loss.compute(y, y_hat.value()));
    let y = y.clone();
    Var::from_op(
        "loss",
        value,
        &[y_hat],
        Box::new(move |g, inputs, _| {
            let g = g.iter().copied().next().unwrap_or(1.0);
            vec![Some(loss.gradient(&y, inputs[0].value()) * g)]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::check_gradients;
    use crate::init::uniform;

    #[test]
    fn every_loss_agrees_with_central_differences() {
        crate::seed(9);
        let scores = uniform(&[4, 3], -1.0, 1.0);
        let probabilities = uniform(&[4, 3], 0.1, 0.9);
        let targets = uniform(&[4, 3], 0.0, 1.0).mapv(|v| v.round());
        let labels = crate::tensor::from_vec(&[4], vec![0.0, 2.0, 1.0, 2.0]);
        for l in Loss::ALL {
            let sparse = matches!(
                l,
                Loss::SparseCategoricalCrossEntropy | Loss::SparseCategoricalCrossEntropyWithLogits
            );
            let y = if sparse { &labels } else { &targets };
            let x = if l.from_logits() || matches!(l, Loss::Mse | Loss::Mae) {
                &scores
            } else {
                &probabilities
            };
            let report = check_gradients(|v| loss(l, y, &v[0]), std::slice::from_ref(x));
            assert!(report.max_error() < 2e-2, "{}: {report:?}", l.name());
        }
    }

    #[test]
    fn a_sparse_loss_takes_one_class_per_position() {
        crate::seed(10);
        let scores = uniform(&[2, 3, 4], -1.0, 1.0);
        let labels = crate::tensor::from_vec(&[2, 3], vec![0., 1., 2., 3., 0., 1.]);
        let l = Loss::SparseCategoricalCrossEntropyWithLogits;
        let rows = scores
            .clone()
            .into_shape_with_order(vec![6, 4])
            .unwrap()
            .into_dyn();
        let flat = labels
            .clone()
            .into_shape_with_order(vec![6])
            .unwrap()
            .into_dyn();
        assert_eq!(l.compute(&labels, &scores), l.compute(&flat, &rows));
        check_gradients(|v| loss(l, &labels, &v[0]), &[scores]).assert_within(1e-2);
    }
}
