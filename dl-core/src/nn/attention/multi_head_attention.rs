//! Multi-head self-attention: every position looks at the others and takes a weighted mean
//! of what it finds, in several heads at once.
//!
//! ```text
//! [Q K V] = x W_qkv + b_qkv                         x [n, t, w] → three [n, t, w]
//! Q, K, V split into h heads of d = w/h:            [n, h, t, d]
//! O_head = softmax(Q Kᵀ/√d (+ causal mask)) V       (fused: autograd::self_attention)
//! y = concat(heads) W_out + b_out                   [n, t, w]
//! ```
//!
//! Each head can learn a different relation (the previous character, the start of the word);
//! the causal mask keeps a language model from reading the character it must predict.

use crate::autograd::{Masking, Var, attention_weights, self_attention};
use crate::nn::attention::Linear;
use crate::nn::{Mode, Module, Parameter, Tape};
use crate::tensor::Tensor;

/// Self-attention with `heads` heads over `[n, t, width]` inputs.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::autograd::Masking;
/// use dl_core::nn::attention::MultiHeadAttention;
/// seed(0);
/// let attention = MultiHeadAttention::new("attn", 8, 2, Masking::Causal);
/// let x = init::normal(&[3, 5, 8], 0.0, 1.0);
/// let weights = attention.weights(&x); // [n, heads, t, t]
/// assert_eq!(weights.shape(), &[3, 2, 5, 5]);
/// assert_eq!(weights[[0, 0, 0, 4]], 0.0); // the first position cannot see the last
/// let mut layer = Autograd::new(attention);
/// assert_eq!(layer.forward(&x, Mode::Train).shape(), &[3, 5, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct MultiHeadAttention {
    qkv: Linear,
    out: Linear,
    heads: usize,
    masking: Masking,
}

impl MultiHeadAttention {
    /// Attention over `width` features in `heads` heads (`width` divisible by `heads`);
    /// parameters `<name>.qkv.*` and `<name>.out.*`.
    #[track_caller]
    pub fn new(name: &str, width: usize, heads: usize, masking: Masking) -> MultiHeadAttention {
        assert!(
            heads > 0 && width.is_multiple_of(heads),
            "MultiHeadAttention: width {width} is not divisible by {heads} heads"
        );
        MultiHeadAttention {
            qkv: Linear::new(&format!("{name}.qkv"), width, 3 * width),
            out: Linear::new(&format!("{name}.out"), width, width),
            heads,
            masking,
        }
    }

    /// Queries, keys and values `[n, heads, t, d]` of an input `[n, t, width]`.
    #[track_caller]
    fn split_heads(&self, x: &Var, tape: &Tape) -> [Var; 3] {
        let s = x.shape();
        assert!(
            s.len() == 3,
            "MultiHeadAttention: expected [n, t, width], got shape {s:?}"
        );
        let (n, t, w) = (s[0], s[1], s[2]);
        let qkv = self.qkv.forward(x, tape);
        let head = |i: usize| {
            qkv.slice(2, i * w..(i + 1) * w)
                .reshape(&[n, t, self.heads, w / self.heads])
                .permute(&[0, 2, 1, 3])
        };
        [head(0), head(1), head(2)]
    }

    /// The attention weights `[n, heads, t, t]` for an input: row `i` of a head says how
    /// much position `i` takes from each position.
    pub fn weights(&self, x: &Tensor) -> Tensor {
        let tape = Tape::constant(self.parameters());
        let [q, k, _] = self.split_heads(&Var::constant(x.clone()), &tape);
        attention_weights(q.value(), k.value(), self.masking)
    }
}

impl Module for MultiHeadAttention {
    #[track_caller]
    fn forward(&self, x: &Var, tape: &Tape, _mode: Mode) -> Var {
        let s = x.shape();
        assert!(
            s.len() == 3,
            "MultiHeadAttention: expected [n, t, width], got shape {s:?}"
        );
        let joined = self_attention(&self.qkv.forward(x, tape), self.heads, self.masking);
        self.out.forward(&joined, tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [self.qkv.parameters(), self.out.parameters()].concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.qkv.parameters_mut();
        p.extend(self.out.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "multi_head_attention"
    }
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({"width": self.out.bias.len(), "heads": self.heads, "causal": self.masking == Masking::Causal})
    }
}
