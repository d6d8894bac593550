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
//! | [`attention`] | [`attention::LayerNorm`], [`attention::MultiHeadAttention`], [`attention::TokenAndPosition`], [`attention::TransformerBlock`] (modules) |
//!
//! A layer of your own needs only its forward pass: a [`Module`], made a layer by
//! [`Autograd`], gets its backward from [`crate::autograd`].
//!
//! ## Conventions every layer follows
//!
//! - **Layouts**, batch first: dense `[n, features]` (a [`Dense`] applies to the last axis of
//!   any input), images `[n, c, h, w]` (PyTorch's NCHW), sequences `[n, t, features]`, class
//!   labels for the sparse losses `[n]` as f32.
//! - **Sizes are explicit** (`Dense::new(784, 128)`, `Conv2d::new(1, 32, 3)`,
//!   `Lstm::new(input_size, hidden_size)`), so every parameter exists from construction.
//! - **Weights**: `Dense` `weight [in, out]` (`y = x W + b`, Keras' layout); convolution
//!   `weight [out_c, in_c, kh, kw]`, `bias [out_c]` (PyTorch's); recurrent `w_ih [d, g·h]`,
//!   `w_hh [h, g·h]`, `b_ih`, `b_hh [g·h]` with the gates in PyTorch's order (i, f, g, o and
//!   r, z, n), so PyTorch's `weight_ih_l0` is the transpose of `w_ih`. Parameter names are
//!   short (`weight`, `bias`, `gamma`, `beta`, `w_ih`, ...); [`Sequential`] prefixes the
//!   layer's unique name: `conv2d_1.weight`.
//! - **Initialisation**: Glorot-uniform weights and zero biases (Keras' defaults), through
//!   [`crate::init::Initializer`]; all randomness through [`crate::rng`], seeded by
//!   [`crate::seed`].
//! - **State that is not trained** (BatchNorm's running statistics) lives in plain fields and
//!   is saved in the layer's [`LayerConfig`].
//! - **Shape errors** panic at the caller (`#[track_caller]`) naming the operation and both
//!   shapes: [`crate::tensor::assert_input`], [`assert_grad_output_shape`], and [`cached`]
//!   for a backward before forward.
//!
//! ## Adding a layer
//!
//! One file in its family's folder (the maths in its opening doc comment, a gradient-check
//! test with [`crate::gradcheck::check_layer`]), its `mod` line and one `pub use` line in the
//! family's `mod.rs` (this module and the prelude re-export every family whole), and a
//! variant in [`LayerConfig`] with its arm in [`LayerConfig::build`]. A layer without parameters
//! implements only `forward`, `infer`, `backward`, `config` and `name`: the trait's defaults
//! give it no parameters and an output of its input's shape.

pub mod activation;
pub mod attention;
mod clip_grad_norm;
pub mod conv;
pub mod dense;
mod layer;
mod layer_config;
mod module;
pub mod norm;
pub mod recurrent;
pub mod regularization;
pub mod reshape;
mod sequential;
mod sequential_layer;

// Every family's layers, as `nn::Dense`, `nn::Relu`, ... (and in the prelude).
pub use activation::*;
pub use conv::*;
pub use dense::*;
pub use norm::*;
pub use recurrent::*;
pub use regularization::*;
pub use reshape::*;

pub use clip_grad_norm::clip_grad_norm;
pub use layer::{Layer, Mode, Parameter};
pub use layer::{assert_grad_output_shape, cached};
pub use layer_config::LayerConfig;
pub use module::{Autograd, Module, Tape};
pub use sequential::Sequential;
