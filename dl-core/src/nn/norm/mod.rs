//! Normalisation layers: each rescales activations to zero mean and unit variance, then
//! applies a learned scale and shift.

mod batch_norm;

pub use batch_norm::BatchNorm;
