//! Neural-network layers: the [`Layer`] trait, named [`Parameter`]s, and the layers built on
//! them, composed by [`Sequential`].
//!
//! Each layer lives in its own file with the maths of its forward and backward pass.

mod avg_pool2d;
mod batch_norm;
mod clip_grad_norm;
mod conv2d;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod gru;
mod layer;
mod layer_config;
mod leaky_relu;
mod lstm;
mod max_pool2d;
mod recurrent;
mod relu;
mod sequential;
mod sigmoid;
mod simple_rnn;
mod softmax;
mod tanh;

pub use avg_pool2d::AvgPool2d;
pub use batch_norm::BatchNorm;
pub use clip_grad_norm::clip_grad_norm;
pub use conv2d::Conv2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use gru::Gru;
pub use layer::{Layer, Mode, Parameter};
pub use layer::{assert_grad_output_shape, cached};
pub use layer_config::LayerConfig;
pub use leaky_relu::LeakyReLU;
pub use lstm::Lstm;
pub use max_pool2d::MaxPool2d;
pub use relu::ReLU;
pub use sequential::Sequential;
pub use sigmoid::{Sigmoid, sigmoid};
pub use simple_rnn::SimpleRnn;
pub use softmax::{Softmax, softmax_last_axis};
pub use tanh::Tanh;
