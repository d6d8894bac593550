//! # dl-core: a teachable deep-learning library on `ndarray`
//!
//! Placeholder crate docs; the full design is written below once the modules land.

#![warn(missing_docs)]

pub mod gradcheck;
pub mod init;
pub mod nn;
pub mod rng;
pub mod tensor;
pub mod train;

pub use rng::seed;
pub use tensor::Tensor;

/// What every notebook has in scope: `use dl_core::prelude::*;`.
pub mod prelude {
    pub use crate::init::Initializer;
    pub use crate::nn::{
        Dense, Dropout, Layer, LayerConfig, LeakyReLU, Mode, Parameter, ReLU, Sequential, Sigmoid,
        Softmax, Tanh,
    };
    pub use crate::seed;
    pub use crate::tensor::Tensor;
    pub use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn, array, s};
}
