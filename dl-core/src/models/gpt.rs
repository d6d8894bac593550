//! A small GPT: a character-level Transformer language model.
//!
//! ```text
//! ids [n, t] → token + position embeddings [n, t, w]
//!            → B × TransformerBlock (causal self-attention, feed-forward, residuals)
//!            → layer norm → x W_head               scores [n, t, vocab]
//! loss: cross-entropy of each position's scores against the next character
//! ```
//!
//! Trained with `Sequential::fit` like any model (`Autograd::new(gpt)` is the layer), and
//! written with autograd: every gradient is derived, the attention and normalisation are
//! fused operations.

use crate::autograd::{Masking, Var};
use crate::models::Sampling;
use crate::nn::attention::{LayerNorm, Linear, TokenAndPosition, TransformerBlock};
use crate::nn::{Mode, Module, Parameter, Tape};
use crate::rng::Rng;
use crate::tensor::from_vec;
use serde::{Deserialize, Serialize};

/// The sizes of a [`Gpt`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Number of distinct tokens.
    pub vocab: usize,
    /// Longest input (positions).
    pub context: usize,
    /// Width of every position's vector.
    pub width: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Transformer blocks.
    pub blocks: usize,
}

/// A decoder-only Transformer language model.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::models::{Gpt, GptConfig, Sampling};
/// seed(0);
/// let gpt = Gpt::new(GptConfig { vocab: 5, context: 8, width: 16, heads: 2, blocks: 1 });
/// let ids = dl_core::tensor::from_vec(&[1, 3], vec![0., 1., 2.]);
/// assert_eq!(Autograd::new(gpt.clone()).infer(&ids).shape(), &[1, 3, 5]);
/// let text = gpt.generate(&[0, 1], 4, Sampling::new(), &mut dl_core::rng::Rng::new(1));
/// assert_eq!(text.len(), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Gpt {
    config: GptConfig,
    embed: TokenAndPosition,
    /// The blocks, in order (look at their attention with `attention_weights`).
    pub blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
    head: Linear,
}

impl Gpt {
    /// A model with fresh weights.
    pub fn new(config: GptConfig) -> Gpt {
        let GptConfig {
            vocab,
            context,
            width,
            heads,
            blocks,
        } = config;
        Gpt {
            config,
            embed: TokenAndPosition::new("embed", vocab, context, width),
            blocks: (0..blocks)
                .map(|b| {
                    TransformerBlock::new(&format!("block_{b}"), width, heads, Masking::Causal)
                })
                .collect(),
            norm: LayerNorm::new("norm", width),
            head: Linear::new("head", width, vocab),
        }
    }

    /// Its sizes.
    pub fn config(&self) -> GptConfig {
        self.config
    }

    /// The input of each block, and the final one, for ids `[n, t]` (to look inside).
    pub fn hidden_states(&self, ids: &crate::tensor::Tensor) -> Vec<crate::tensor::Tensor> {
        let tape = Tape::constant(self.parameters());
        let mut x = self
            .embed
            .forward(&Var::constant(ids.clone()), &tape, Mode::Eval);
        let mut states = vec![x.value().clone()];
        for block in &self.blocks {
            x = block.forward(&x, &tape, Mode::Eval);
            states.push(x.value().clone());
        }
        states
    }

    /// `count` tokens continuing `prompt`, each drawn from the model's scores for the next
    /// position (the last `context` tokens are the input).
    pub fn generate(
        &self,
        prompt: &[usize],
        count: usize,
        sampling: Sampling,
        rng: &mut Rng,
    ) -> Vec<usize> {
        let tape = Tape::constant(self.parameters());
        let mut ids: Vec<usize> = if prompt.is_empty() {
            vec![0]
        } else {
            prompt.to_vec()
        };
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let window = &ids[ids.len().saturating_sub(self.config.context)..];
            let x = from_vec(
                &[1, window.len()],
                window.iter().map(|&i| i as f32).collect(),
            );
            let scores = self.forward(&Var::constant(x), &tape, Mode::Eval);
            let last = scores
                .value()
                .slice(ndarray::s![0, window.len() - 1, ..])
                .to_vec();
            let next = sampling.sample(&last, rng);
            ids.push(next);
            out.push(next);
        }
        out
    }
}

impl Module for Gpt {
    fn forward(&self, ids: &Var, tape: &Tape, mode: Mode) -> Var {
        let mut x = self.embed.forward(ids, tape, mode);
        for block in &self.blocks {
            x = block.forward(&x, tape, mode);
        }
        self.head.forward(&self.norm.forward(&x, tape, mode), tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        let mut p = self.embed.parameters();
        for block in &self.blocks {
            p.extend(block.parameters());
        }
        p.extend(self.norm.parameters());
        p.extend(self.head.parameters());
        p
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.embed.parameters_mut();
        for block in &mut self.blocks {
            p.extend(block.parameters_mut());
        }
        p.extend(self.norm.parameters_mut());
        p.extend(self.head.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "gpt"
    }
    fn settings(&self) -> serde_json::Value {
        serde_json::to_value(self.config).unwrap_or_default()
    }
}
