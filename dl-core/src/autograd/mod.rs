//! Reverse-mode automatic differentiation on dl-core's tensors: write the forward pass, get
//! every gradient.
//!
//! The layers in [`crate::nn`] each come with a backward pass written by hand. Autograd
//! derives it instead: every operation on a [`Var`] records how to send a gradient back to
//! its inputs, and [`Var::backward`] on a scalar loss applies the chain rule through the whole
//! recorded graph, in reverse order (micrograd's idea, on tensors).
//!
//! ```
//! use dl_core::autograd::{Var, loss};
//! use dl_core::prelude::*;
//! dl_core::seed(0);
//! // A dense layer written in two lines: y = x W + b.
//! let x = Var::constant(dl_core::init::normal(&[8, 3], 0.0, 1.0));
//! let w = Var::new(dl_core::init::normal(&[3, 1], 0.0, 0.5));
//! let b = Var::new(dl_core::tensor::zeros(&[1]));
//! let y_hat = x.matmul(&w) + &b;
//! let y = dl_core::tensor::zeros(&[8, 1]);
//! let l = loss(Loss::Mse, &y, &y_hat);
//! l.backward();
//! // ∂L/∂b = mean of 2(ŷ − y), as a derivation by hand gives.
//! let expected = y_hat.value().mean().unwrap() * 2.0;
//! assert!((b.grad().unwrap()[[0]] - expected).abs() < 1e-5);
//! ```
//!
//! | file | operations |
//! |---|---|
//! | `var` | [`Var`]: leaves, constants, `backward`, `grad`, `detach` |
//! | `arithmetic` | `+ − * /` with broadcasting, `scale`, `add_scalar` |
//! | `matmul` | `matmul` (plain, batched, one matrix for every row) |
//! | `affine` | `affine`: `x W + b` in one operation (a dense layer's product and bias); `affine_relu`: `max(x W + b, 0)` |
//! | `reduce` | `sum`, `mean`, `sum_axis`, `mean_axis` |
//! | `elementwise` | `exp`, `log`, `tanh`, `sigmoid`, `relu`, `square`, `sqrt` |
//! | `softmax` | `softmax`, `log_softmax` along an axis |
//! | `shape` | `reshape`, `permute`, `transpose`, `slice`, `concat` |
//! | `index` | `gather` (embeddings), `masked_fill`, [`causal_mask`] |
//! | `layer_norm` | `layer_norm` (fused) |
//! | `attention` | [`scaled_dot_product_attention`], [`self_attention`] from packed projections (fused), [`attention_weights`] |
//! | `loss` | [`loss`]: every [`crate::loss::Loss`] |
//! | `layer_call` | `apply`: a hand-written [`crate::nn::Layer`] inside an expression |
//!
//! Every operation's gradient is checked against central differences
//! ([`crate::gradcheck::check_gradients`]) and against PyTorch (`tests/torch_autograd.rs`).
//! The other direction, a layer written with autograd, is [`crate::nn::Module`].

mod affine;
mod arithmetic;
mod attention;
mod elementwise;
mod index;
mod layer_call;
mod layer_norm;
mod loss;
pub(crate) mod matmul;
mod reduce;
mod shape;
mod softmax;
mod var;

pub use crate::gradcheck::check_gradients;
pub use arithmetic::sum_to_shape;
pub use attention::{Masking, attention_weights, scaled_dot_product_attention, self_attention};
pub use index::causal_mask;
pub use layer_call::{LockedLayer, SharedLayer};
pub use loss::loss;
pub use var::Var;
