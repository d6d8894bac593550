//! Regularisation layers: they act only during training, to keep a model from memorising.

mod dropout;

pub use dropout::Dropout;
