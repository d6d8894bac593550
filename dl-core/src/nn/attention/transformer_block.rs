//! One Transformer block, pre-norm (GPT-2's arrangement): two residual steps.
//!
//! ```text
//! x ← x + attention(layer_norm₁(x))
//! x ← x + feed_forward(layer_norm₂(x))
//! ```
//!
//! The residual connections (`x +`) give the gradient a straight path through every block,
//! which is what lets blocks be stacked deep.

use crate::autograd::{Masking, Var};
use crate::nn::attention::{FeedForward, LayerNorm, MultiHeadAttention};
use crate::nn::{Mode, Module, Parameter, Tape};

/// A pre-norm Transformer block over `[n, t, width]`.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::autograd::Masking;
/// use dl_core::nn::attention::TransformerBlock;
/// seed(0);
/// let block = Autograd::new(TransformerBlock::new("block", 8, 2, Masking::Causal));
/// let x = init::normal(&[1, 4, 8], 0.0, 1.0);
/// let y = block.infer(&x);
/// assert_eq!(y.shape(), &[1, 4, 8]);
/// // Causal: changing the last position changes no earlier output.
/// let mut later = x.clone();
/// later.slice_mut(s![0, 3, ..]).fill(5.0);
/// let y2 = block.infer(&later);
/// assert_eq!(y.slice(s![0, ..3, ..]), y2.slice(s![0, ..3, ..]));
/// assert_ne!(y.slice(s![0, 3, ..]), y2.slice(s![0, 3, ..]));
/// ```
#[derive(Clone, Debug)]
pub struct TransformerBlock {
    norm_1: LayerNorm,
    /// The block's attention (its weights can be looked at: [`MultiHeadAttention::weights`]).
    pub attention: MultiHeadAttention,
    norm_2: LayerNorm,
    feed_forward: FeedForward,
}

impl TransformerBlock {
    /// A block of `width` features and `heads` heads; parameters named `<name>.…`.
    pub fn new(name: &str, width: usize, heads: usize, masking: Masking) -> TransformerBlock {
        TransformerBlock {
            norm_1: LayerNorm::new(&format!("{name}.norm_1"), width),
            attention: MultiHeadAttention::new(&format!("{name}.attention"), width, heads, masking),
            norm_2: LayerNorm::new(&format!("{name}.norm_2"), width),
            feed_forward: FeedForward::new(&format!("{name}.feed_forward"), width),
        }
    }

    /// The attention weights of this block for its input `x` (after its first norm).
    pub fn attention_weights(&self, x: &crate::tensor::Tensor) -> crate::tensor::Tensor {
        let tape = Tape::constant(self.norm_1.parameters());
        let normed = self
            .norm_1
            .forward(&Var::constant(x.clone()), &tape, Mode::Eval);
        self.attention.weights(normed.value())
    }
}

impl Module for TransformerBlock {
    fn forward(&self, x: &Var, tape: &Tape, mode: Mode) -> Var {
        let x = x + self
            .attention
            .forward(&self.norm_1.forward(x, tape, mode), tape, mode);
        &x + self
            .feed_forward
            .forward(&self.norm_2.forward(&x, tape, mode), tape, mode)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [
            self.norm_1.parameters(),
            self.attention.parameters(),
            self.norm_2.parameters(),
            self.feed_forward.parameters(),
        ]
        .concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.norm_1.parameters_mut();
        p.extend(self.attention.parameters_mut());
        p.extend(self.norm_2.parameters_mut());
        p.extend(self.feed_forward.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "transformer_block"
    }
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({"attention": self.attention.settings()})
    }
}
