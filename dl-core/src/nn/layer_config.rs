//! Layer configurations: the architecture half of a saved model.
//!
//! A model file stores, per layer, a `LayerConfig` (what kind of layer, its sizes and
//! hyper-parameters) and the values of its named parameters. Loading calls
//! [`LayerConfig::build`], then copies the saved values in.

use crate::init::Initializer;
use crate::nn::{Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh};
use serde::{Deserialize, Serialize};

/// The serialisable description of one layer. Serialised as `{"type": "Dense", ...}`.
///
/// ```
/// use dl_core::prelude::*;
/// let config = Dense::new(4, 3).config();
/// let json = serde_json::to_string(&config).unwrap();
/// assert!(json.contains("\"type\":\"Dense\""));
/// let rebuilt = config.build();
/// assert_eq!(rebuilt.output_shape(&[10, 4]), vec![10, 3]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum LayerConfig {
    /// [`Dense`]: `y = x W + b`.
    Dense {
        /// Input features.
        in_features: usize,
        /// Output features.
        out_features: usize,
        /// Weight initialiser.
        init: Initializer,
    },
    /// [`ReLU`].
    ReLU,
    /// [`LeakyReLU`] with its negative slope.
    LeakyReLU {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// [`Sigmoid`].
    Sigmoid,
    /// [`Tanh`].
    Tanh,
    /// [`Softmax`] over the last axis.
    Softmax,
    /// [`Dropout`] with its drop probability.
    Dropout {
        /// Probability of zeroing an activation during training.
        rate: f32,
    },
}

impl LayerConfig {
    /// Builds a fresh layer (new random weights) from this description.
    pub fn build(&self) -> Box<dyn Layer> {
        match *self {
            LayerConfig::Dense {
                in_features,
                out_features,
                init,
            } => Box::new(Dense::new(in_features, out_features).with_init(init)),
            LayerConfig::ReLU => Box::new(ReLU::new()),
            LayerConfig::LeakyReLU { alpha } => Box::new(LeakyReLU::new(alpha)),
            LayerConfig::Sigmoid => Box::new(Sigmoid::new()),
            LayerConfig::Tanh => Box::new(Tanh::new()),
            LayerConfig::Softmax => Box::new(Softmax::new()),
            LayerConfig::Dropout { rate } => Box::new(Dropout::new(rate)),
        }
    }
}
