//! Layer configurations: the architecture half of a saved model.
//!
//! A model file stores, per layer, a `LayerConfig` (what kind of layer, its sizes and
//! hyper-parameters) and the values of its named parameters. Loading calls
//! [`LayerConfig::build`], then copies the saved values in.

use crate::init::Initializer;
use crate::nn::{
    AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten, Gru, Layer, LeakyRelu, Lstm,
    MaxPool2d, Relu, Sigmoid, SimpleRnn, Softmax, Tanh,
};
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
    /// [`Relu`] (files written before the rename say `ReLU`).
    #[serde(alias = "ReLU")]
    Relu,
    /// [`LeakyRelu`] with its negative slope (files written before the rename say
    /// `LeakyReLU`).
    #[serde(alias = "LeakyReLU")]
    LeakyRelu {
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
    /// [`Conv2d`] over NCHW images.
    Conv2d {
        /// Input channels.
        in_channels: usize,
        /// Output channels (filters).
        out_channels: usize,
        /// Window `[kh, kw]`.
        kernel_size: [usize; 2],
        /// Step between windows.
        stride: usize,
        /// Zeros on every side.
        padding: usize,
        /// Weight initialiser.
        init: Initializer,
        /// ReLU fused into the output.
        #[serde(default)]
        relu: bool,
    },
    /// [`MaxPool2d`].
    MaxPool2d {
        /// Square window size.
        kernel_size: usize,
        /// Step between windows.
        stride: usize,
        /// Padding on every side.
        padding: usize,
    },
    /// [`AvgPool2d`].
    AvgPool2d {
        /// Square window size.
        kernel_size: usize,
        /// Step between windows.
        stride: usize,
        /// Padding on every side.
        padding: usize,
    },
    /// [`Flatten`].
    Flatten,
    /// [`BatchNorm`] with its running statistics.
    BatchNorm {
        /// Channels (axis 1).
        num_features: usize,
        /// Running-statistics momentum.
        momentum: f32,
        /// Added to the variance.
        eps: f32,
        /// Running means `[num_features]`.
        running_mean: Vec<f32>,
        /// Running variances `[num_features]`.
        running_var: Vec<f32>,
    },
    /// [`Embedding`].
    Embedding {
        /// Number of token ids.
        vocab_size: usize,
        /// Vector length.
        dim: usize,
    },
    /// [`SimpleRnn`].
    SimpleRnn {
        /// Input features per step.
        input_size: usize,
        /// Hidden units.
        hidden_size: usize,
        /// Output every step's state.
        return_sequences: bool,
    },
    /// [`Lstm`].
    Lstm {
        /// Input features per step.
        input_size: usize,
        /// Hidden units.
        hidden_size: usize,
        /// Output every step's state.
        return_sequences: bool,
    },
    /// A layer of your own ([`crate::nn::Module`]): its kind name and settings. A file with
    /// one is loaded into a model built by your code, with `load_weights`.
    Module {
        /// [`crate::nn::Module::name`].
        kind: String,
        /// [`crate::nn::Module::settings`].
        #[serde(default)]
        settings: serde_json::Value,
    },
    /// A whole [`crate::nn::Sequential`] used as one layer.
    Sequential {
        /// Its layers' descriptions, in order.
        layers: Vec<LayerConfig>,
    },
    /// [`Gru`].
    Gru {
        /// Input features per step.
        input_size: usize,
        /// Hidden units.
        hidden_size: usize,
        /// Output every step's state.
        return_sequences: bool,
    },
}

impl LayerConfig {
    /// A layer of your own ([`LayerConfig::Module`]) in this description, if there is one
    /// (inside a nested model too).
    pub fn own_layer(&self) -> Option<&LayerConfig> {
        match self {
            LayerConfig::Module { .. } => Some(self),
            LayerConfig::Sequential { layers } => layers.iter().find_map(|l| l.own_layer()),
            _ => None,
        }
    }

    /// Builds a fresh layer (new random weights) from this description.
    ///
    /// **Panics** for [`LayerConfig::Module`]: only the code that defines a layer of your own
    /// can build it (build the model, then `load_weights`).
    #[track_caller]
    pub fn build(&self) -> Box<dyn Layer> {
        match *self {
            LayerConfig::Module { ref kind, .. } => panic!(
                "LayerConfig::build: {kind:?} is a layer of your own; build the model in code and call load_weights"
            ),
            LayerConfig::Sequential { ref layers } => {
                let mut model = crate::nn::Sequential::new();
                for layer in layers {
                    model.push(layer.build());
                }
                Box::new(model)
            }
            LayerConfig::Dense {
                in_features,
                out_features,
                init,
            } => Box::new(Dense::new(in_features, out_features).with_init(init)),
            LayerConfig::Relu => Box::new(Relu::new()),
            LayerConfig::LeakyRelu { alpha } => Box::new(LeakyRelu::new(alpha)),
            LayerConfig::Sigmoid => Box::new(Sigmoid::new()),
            LayerConfig::Tanh => Box::new(Tanh::new()),
            LayerConfig::Softmax => Box::new(Softmax::new()),
            LayerConfig::Dropout { rate } => Box::new(Dropout::new(rate)),
            LayerConfig::Conv2d {
                in_channels,
                out_channels,
                kernel_size: [kh, kw],
                stride,
                padding,
                init,
                relu,
            } => {
                let conv = Conv2d::new(in_channels, out_channels, kh)
                    .with_stride(stride)
                    .with_padding(padding)
                    .with_kernel_size(kh, kw)
                    .with_init(init);
                Box::new(if relu { conv.relu() } else { conv })
            }
            LayerConfig::MaxPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(
                MaxPool2d::new(kernel_size)
                    .with_stride(stride)
                    .with_padding(padding),
            ),
            LayerConfig::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(
                AvgPool2d::new(kernel_size)
                    .with_stride(stride)
                    .with_padding(padding),
            ),
            LayerConfig::Flatten => Box::new(Flatten::new()),
            LayerConfig::BatchNorm {
                num_features,
                momentum,
                eps,
                ref running_mean,
                ref running_var,
            } => Box::new(BatchNorm::from_saved(
                num_features,
                momentum,
                eps,
                running_mean,
                running_var,
            )),
            LayerConfig::Embedding { vocab_size, dim } => Box::new(Embedding::new(vocab_size, dim)),
            LayerConfig::SimpleRnn {
                input_size,
                hidden_size,
                return_sequences,
            } => {
                Box::new(SimpleRnn::new(input_size, hidden_size).return_sequences(return_sequences))
            }
            LayerConfig::Lstm {
                input_size,
                hidden_size,
                return_sequences,
            } => Box::new(Lstm::new(input_size, hidden_size).return_sequences(return_sequences)),
            LayerConfig::Gru {
                input_size,
                hidden_size,
                return_sequences,
            } => Box::new(Gru::new(input_size, hidden_size).return_sequences(return_sequences)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_written_before_the_rename_still_load() {
        let old: Vec<LayerConfig> =
            serde_json::from_str(r#"[{"type": "ReLU"}, {"type": "LeakyReLU", "alpha": 0.2}]"#)
                .unwrap();
        assert_eq!(
            old,
            vec![LayerConfig::Relu, LayerConfig::LeakyRelu { alpha: 0.2 }]
        );
        let new = serde_json::to_string(&LayerConfig::Relu).unwrap();
        assert_eq!(new, r#"{"type":"Relu"}"#);
    }
}
