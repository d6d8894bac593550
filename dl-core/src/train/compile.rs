//! `compile`: choosing the optimiser, the loss and the metrics before training.

use crate::loss::Loss;
use crate::metrics::Metric;
use crate::nn::Sequential;
use crate::optim::Optimizer;

/// What `compile` stored: the optimiser (with its state), the loss and the metrics.
pub struct Compiled {
    /// The optimiser.
    pub optimizer: Box<dyn Optimizer>,
    /// The loss minimised by `fit`.
    pub loss: Loss,
    /// Metrics reported each epoch.
    pub metrics: Vec<Metric>,
}

impl Sequential {
    /// Sets the optimiser, loss and metrics (Keras `model.compile`).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let mut model = Sequential::new().add(Dense::new(2, 1)).add(Sigmoid::new());
    /// model.compile(Adam::new(0.01), Loss::BinaryCrossEntropy, &[Metric::Accuracy]);
    /// assert!(model.is_compiled());
    /// ```
    pub fn compile(&mut self, optimizer: impl Optimizer + 'static, loss: Loss, metrics: &[Metric]) {
        self.compiled = Some(Compiled {
            optimizer: Box::new(optimizer),
            loss,
            metrics: metrics.to_vec(),
        });
    }

    /// True after [`Sequential::compile`].
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }

    /// The compiled loss, if any.
    pub fn loss(&self) -> Option<Loss> {
        self.compiled.as_ref().map(|c| c.loss)
    }
}
