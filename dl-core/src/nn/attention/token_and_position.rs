//! Token and position embeddings: what a Transformer reads.
//!
//! ```text
//! e[i, j] = T[ids[i, j]] + P[j]        T [vocab, w] (one vector per token),
//!                                      P [context, w] (one per position, learned)
//! ```
//!
//! Attention by itself does not know order (it is a weighted mean); the position vector
//! tells each position where it is.

use crate::autograd::Var;
use crate::init::normal;
use crate::nn::{Mode, Module, Parameter, Tape};

/// Learned token and position embeddings: ids `[n, t]` (f32 whole numbers, `t ≤ context`)
/// → `[n, t, width]`.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::nn::attention::TokenAndPosition;
/// let embed = Autograd::new(TokenAndPosition::new("embed", 10, 8, 4));
/// let ids = dl_core::tensor::from_vec(&[2, 3], vec![1., 2., 3., 3., 2., 1.]);
/// assert_eq!(embed.infer(&ids).shape(), &[2, 3, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct TokenAndPosition {
    /// `T [vocab, width]`.
    pub tokens: Parameter,
    /// `P [context, width]`.
    pub positions: Parameter,
}

impl TokenAndPosition {
    /// Embeddings for `vocab` tokens and `context` positions, `width` wide (initial values
    /// normal with standard deviation 0.02, as GPT-2's).
    pub fn new(name: &str, vocab: usize, context: usize, width: usize) -> TokenAndPosition {
        TokenAndPosition {
            tokens: Parameter::new(
                &format!("{name}.tokens"),
                normal(&[vocab, width], 0.0, 0.02),
            ),
            positions: Parameter::new(
                &format!("{name}.positions"),
                normal(&[context, width], 0.0, 0.02),
            ),
        }
    }
}

impl Module for TokenAndPosition {
    #[track_caller]
    fn forward(&self, ids: &Var, tape: &Tape, _mode: Mode) -> Var {
        let s = ids.shape();
        let context = self.positions.value.shape()[0];
        assert!(
            s.len() == 2 && s[1] <= context,
            "TokenAndPosition: expected ids [n, t ≤ {context}], got shape {s:?}"
        );
        let tokens = tape.param(&self.tokens).gather(ids.value());
        tokens + tape.param(&self.positions).slice(0, 0..s[1])
    }
    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.tokens, &self.positions]
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.tokens, &mut self.positions]
    }
    fn name(&self) -> &str {
        "token_and_position"
    }
    fn settings(&self) -> serde_json::Value {
        let (t, p) = (self.tokens.value.shape(), self.positions.value.shape());
        serde_json::json!({"vocab": t[0], "context": p[0], "width": t[1]})
    }
}
