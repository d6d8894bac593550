//! Neural-network layers: the [`Layer`] trait, named [`Parameter`]s, and the layers built on
//! them, composed by [`Sequential`].
//!
//! Layers live in folders by family, one layer per file with the maths of its forward and
//! backward pass:
//!
//! | family | layers |
//! |---|---|
//! | [`dense`] | [`Dense`], [`Embedding`] |
//! | [`activation`] | [`Relu`], [`LeakyRelu`], [`Sigmoid`], [`Tanh`], [`Softmax`] |
//! | [`conv`] | [`Conv2d`], [`MaxPool2d`], [`AvgPool2d`] |
//! | [`recurrent`] | [`SimpleRnn`], [`Lstm`], [`Gru`] |
//! | [`norm`] | [`BatchNorm`] |
//! | [`regularization`] | [`Dropout`] |
//! | [`reshape`] | [`Flatten`] |
//!
//! Adding a layer: one file in its family's folder (maths in the opening doc comment, a
//! gradient-check test), its `mod` and `pub use` lines in the family's `mod.rs`, a variant in
//! [`LayerConfig`] with its arm in [`LayerConfig::build`], and its name in this module's
//! re-exports (and the prelude's). A layer without parameters implements only `forward`,
//! `infer`, `backward`, `config` and `name`: the trait's defaults give it no parameters and an
//! output of its input's shape.

pub mod activation;
mod clip_grad_norm;
pub mod conv;
pub mod dense;
mod layer;
mod layer_config;
pub mod norm;
pub mod recurrent;
pub mod regularization;
pub mod reshape;
mod sequential;

pub use activation::{LeakyRelu, Relu, Sigmoid, Softmax, Tanh, sigmoid, softmax_last_axis};
pub use clip_grad_norm::clip_grad_norm;
pub use conv::{AvgPool2d, Conv2d, MaxPool2d};
pub use dense::{Dense, Embedding};
pub use layer::{Layer, Mode, Parameter};
pub use layer::{assert_grad_output_shape, cached};
pub use layer_config::LayerConfig;
pub use norm::BatchNorm;
pub use recurrent::{Gru, Lstm, SimpleRnn};
pub use regularization::Dropout;
pub use reshape::Flatten;
pub use sequential::Sequential;
