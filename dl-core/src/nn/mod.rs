//! Neural-network layers: the [`Layer`] trait, named [`Parameter`]s, and the layers built on
//! them, composed by [`Sequential`].
//!
//! Each layer lives in its own file with the maths of its forward and backward pass.

mod dense;
mod dropout;
mod layer;
mod layer_config;
mod leaky_relu;
mod relu;
mod sequential;
mod sigmoid;
mod softmax;
mod tanh;

pub use dense::Dense;
pub use dropout::Dropout;
pub use layer::{Layer, Mode, Parameter};
pub use layer::cached;
pub use layer_config::LayerConfig;
pub use leaky_relu::LeakyReLU;
pub use relu::ReLU;
pub use sequential::Sequential;
pub use sigmoid::{Sigmoid, sigmoid};
pub use softmax::{Softmax, softmax_last_axis};
pub use tanh::Tanh;
