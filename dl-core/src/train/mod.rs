//! Training a [`Sequential`](crate::nn::Sequential): compile, fit, evaluate.

/// What `compile` stored: the optimiser, the loss and the metrics.
pub struct Compiled {}
