//! The Transformer's parts, each a [`Module`](crate::nn::Module) (wrap one in
//! [`Autograd`](crate::nn::Autograd) to use it as a layer):
//!
//! | part | what |
//! |---|---|
//! | [`LayerNorm`] | normalises each position's vector (fused forward and backward) |
//! | [`MultiHeadAttention`] | self-attention in several heads, optionally causal (fused attention) |
//! | [`TokenAndPosition`] | learned token and position embeddings, added |
//! | [`FeedForward`] | the position-wise two-layer perceptron |
//! | [`TransformerBlock`] | pre-norm block: `x + attn(ln(x))`, then `x + ff(ln(x))` |
//!
//! Shapes are `[n, t, width]`: `n` sequences of `t` positions.

mod feed_forward;
mod layer_norm;
mod linear;
mod multi_head_attention;
mod token_and_position;
mod transformer_block;

pub use feed_forward::FeedForward;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use multi_head_attention::MultiHeadAttention;
pub use token_and_position::TokenAndPosition;
pub use transformer_block::TransformerBlock;
