//! A whole [`Sequential`] as one layer of another: a trained part reused in a new model.
//!
//! ```text
//! forward:  y = model(x)              backward:  ∂L/∂x = model.backward(∂L/∂y)
//! ```
//!
//! ```
//! use dl_core::prelude::*;
//! seed(0);
//! let encoder = Sequential::new().add(Dense::new(8, 3)).add(Tanh::new());
//! let mut classifier = Sequential::new().add(encoder).add(Dense::new(3, 2));
//! classifier.freeze("sequential"); // keep the encoder as trained
//! assert_eq!(classifier.summary(&[8]).lines().nth(2).unwrap().split_whitespace().next(), Some("sequential"));
//! assert_eq!(classifier.num_trainable_parameters(), 3 * 2 + 2);
//! ```

use crate::nn::{Layer, LayerConfig, Mode, Parameter, Sequential};
use crate::tensor::Tensor;

impl Layer for Sequential {
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor {
        Sequential::forward(self, input, mode)
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        Sequential::infer(self, input)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        Sequential::backward(self, grad_output)
    }

    fn backward_parameters(&mut self, grad_output: &Tensor) {
        Sequential::backward_parameters(self, grad_output)
    }

    fn parameters(&self) -> Vec<&Parameter> {
        Sequential::parameters(self)
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        Sequential::parameters_mut(self)
    }

    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        self.layers()
            .iter()
            .fold(input_shape.to_vec(), |shape, layer| {
                layer.output_shape(&shape)
            })
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Sequential {
            layers: self.layers().iter().map(|l| l.config()).collect(),
        }
    }

    fn name(&self) -> &str {
        "sequential"
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn a_nested_model_checks_saves_and_loads() {
        seed(15);
        let inner = Sequential::new().add(Dense::new(3, 4)).add(Tanh::new());
        let mut model = Sequential::new().add(inner).add(Dense::new(4, 2));
        let x = init::normal(&[5, 3], 0.0, 1.0);
        gradcheck::check_layer(model.layers_mut()[0].as_mut(), &x, Mode::Train, 1e-2)
            .assert_within(1e-2);
        let path = std::env::temp_dir().join("dl_core_nested_model.json");
        model.save(&path).unwrap();
        let loaded = Sequential::load(&path).unwrap();
        assert_eq!(loaded.predict(&x), model.predict(&x));
        assert_eq!(loaded.layer_names(), vec!["sequential", "dense"]);
    }

    #[test]
    fn a_frozen_encoder_is_not_trained_and_the_head_is() {
        seed(16);
        let encoder = Sequential::new().add(Dense::new(2, 8)).add(Tanh::new());
        let mut model = Sequential::new().add(encoder).add(Dense::new(8, 1));
        model.freeze("sequential");
        let encoder_before = model.layers()[0].parameters()[0].value.clone();
        let head_before = model.layers()[1].parameters()[0].value.clone();
        model.compile(Adam::new(0.01), Loss::Mse, &[]);
        let x = init::normal(&[32, 2], 0.0, 1.0);
        let y = x.map_axis(Axis(1), |r| r[0] - r[1]).insert_axis(Axis(1));
        model.fit(&x, &y, FitOptions::new().epochs(3).verbose(false));
        assert_eq!(model.layers()[0].parameters()[0].value, encoder_before);
        assert_ne!(model.layers()[1].parameters()[0].value, head_before);
        model.unfreeze("sequential");
        model.fit(&x, &y, FitOptions::new().epochs(1).verbose(false));
        assert_ne!(model.layers()[0].parameters()[0].value, encoder_before);
    }
}
