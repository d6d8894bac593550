//! Activation functions as layers: elementwise non-linearities (and softmax over the last
//! axis). None has parameters; each keeps what its derivative needs.

mod leaky_relu;
mod relu;
mod sigmoid;
mod softmax;
mod tanh;

pub use leaky_relu::LeakyRelu;
pub use relu::Relu;
pub use sigmoid::{Sigmoid, sigmoid};
pub use softmax::{Softmax, softmax_last_axis};
pub use tanh::Tanh;
