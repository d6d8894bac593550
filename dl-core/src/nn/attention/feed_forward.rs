//! The Transformer's position-wise network: the same two-layer perceptron at every position.
//!
//! ```text
//! y = relu(x W₁ + b₁) W₂ + b₂        x [n, t, w],  hidden width 4w (the usual ratio)
//! ```

use crate::autograd::Var;
use crate::nn::attention::Linear;
use crate::nn::{Mode, Module, Parameter, Tape};

/// `relu(x W₁ + b₁) W₂ + b₂` with a hidden width of `4 · width`.
#[derive(Clone, Debug)]
pub struct FeedForward {
    up: Linear,
    down: Linear,
}

impl FeedForward {
    /// The network for `width` features; parameters `<name>.up.*`, `<name>.down.*`.
    pub fn new(name: &str, width: usize) -> FeedForward {
        FeedForward {
            up: Linear::new(&format!("{name}.up"), width, 4 * width),
            down: Linear::new(&format!("{name}.down"), 4 * width, width),
        }
    }
}

impl Module for FeedForward {
    fn forward(&self, x: &Var, tape: &Tape, _mode: Mode) -> Var {
        self.down.forward(&self.up.forward_relu(x, tape), tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [self.up.parameters(), self.down.parameters()].concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.up.parameters_mut();
        p.extend(self.down.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "feed_forward"
    }
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({"width": self.down.bias.len()})
    }
}
