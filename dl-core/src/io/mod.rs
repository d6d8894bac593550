//! Saving and loading models: architecture (a [`LayerConfig`] per layer) and weights (each named
//! parameter's shape and values), as one JSON document.
//!
//! ```text
//! {"format": "dl-core-model", "version": 1,
//!  "layers": [{"name": "dense", "config": {"type": "Dense", ...},
//!              "parameters": [{"name": "weight", "shape": [2, 8], "values": [...]}, ...]}, ...]}
//! ```
//!
//! Loading rebuilds each layer from its config and copies the values in; a parameter whose
//! shape disagrees gives [`DlError::ShapeMismatch`] naming the layer and both shapes.

use crate::error::{DlError, Result};
use crate::nn::{LayerConfig, Sequential};
use serde::{Deserialize, Serialize};
use std::path::Path;

const FORMAT: &str = "dl-core-model";

/// One saved parameter.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedParameter {
    /// Parameter name inside its layer.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// One saved layer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedLayer {
    /// Unique layer name in the model (`dense_1`).
    pub name: String,
    /// Architecture.
    pub config: LayerConfig,
    /// Weights.
    pub parameters: Vec<SavedParameter>,
}

/// A whole saved model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always `"dl-core-model"`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The layers in order.
    pub layers: Vec<SavedLayer>,
}

impl Sequential {
    /// The model as a serialisable document.
    pub fn to_saved(&self) -> SavedModel {
        let names = self.layer_names();
        SavedModel {
            format: FORMAT.into(),
            version: 1,
            layers: self
                .layers()
                .iter()
                .zip(names)
                .map(|(layer, name)| SavedLayer {
                    name: name.to_string(),
                    config: layer.config(),
                    parameters: layer
                        .parameters()
                        .iter()
                        .map(|p| SavedParameter {
                            name: p.name.clone(),
                            shape: p.value.shape().to_vec(),
                            values: p.value.iter().copied().collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Saves architecture and weights as JSON (the optimiser state is not saved).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// dl_core::seed(1);
    /// let mut model = Sequential::new().add(Dense::new(2, 3)).add(Relu::new()).add(Dense::new(3, 1));
    /// let path = std::env::temp_dir().join("dl_core_doc_model.json");
    /// model.save(&path).unwrap();
    /// let mut loaded = Sequential::load(&path).unwrap();
    /// let x = dl_core::tensor::from_vec(&[1, 2], vec![0.3, -0.7]);
    /// assert_eq!(model.predict(&x), loaded.predict(&x));
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_string(&self.to_saved())
            .map_err(|e| DlError::format(path, e.to_string()))?;
        std::fs::write(path, json).map_err(|e| DlError::io(path, e))
    }

    /// Loads a model saved by [`Sequential::save`] (architecture and weights).
    pub fn load(path: impl AsRef<Path>) -> Result<Sequential> {
        let path = path.as_ref();
        let saved = read_saved(path)?;
        if let Some((layer, own)) = saved
            .layers
            .iter()
            .find_map(|l| Some((l, l.config.own_layer()?)))
        {
            return Err(DlError::Architecture(format!(
                "{}: layer {} is (or holds) a layer of your own ({}); build the model in code as before and call model.load_weights(path)",
                path.display(),
                layer.name,
                serde_json::to_string(own).unwrap_or_default()
            )));
        }
        let mut model = Sequential::new();
        for layer in &saved.layers {
            model.push(layer.config.build());
        }
        model.set_weights_from(&saved, path)?;
        Ok(model)
    }

    /// Loads only the weights from a saved model into this model's layers.
    ///
    /// Errors name the layer and both shapes when a parameter does not fit.
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let path = std::env::temp_dir().join("dl_core_doc_weights.json");
    /// Sequential::new().add(Dense::new(2, 3)).save(&path).unwrap();
    /// let mut other = Sequential::new().add(Dense::new(2, 4));
    /// let err = other.load_weights(&path).unwrap_err().to_string();
    /// assert!(err.contains("dense") && err.contains("[2, 3]") && err.contains("[2, 4]"), "{err}");
    /// ```
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let saved = read_saved(path)?;
        self.set_weights_from(&saved, path)
    }

    fn set_weights_from(&mut self, saved: &SavedModel, path: &Path) -> Result<()> {
        if saved.layers.len() != self.len() {
            return Err(DlError::Architecture(format!(
                "{} has {} layers, the model has {}",
                path.display(),
                saved.layers.len(),
                self.len()
            )));
        }
        let names: Vec<String> = self.layer_names().iter().map(|s| s.to_string()).collect();
        // Check everything first, so a failed load leaves the model unchanged.
        for ((layer, name), s) in self.layers().iter().zip(&names).zip(&saved.layers) {
            let config = layer.config();
            if config.own_layer().is_some() && config != s.config {
                return Err(DlError::Architecture(format!(
                    "layer {name}: the model's layer is {}, {} saved {}",
                    serde_json::to_string(&config).unwrap_or_default(),
                    path.display(),
                    serde_json::to_string(&s.config).unwrap_or_default()
                )));
            }
            let params = layer.parameters();
            if params.len() != s.parameters.len() {
                return Err(DlError::Architecture(format!(
                    "layer {name}: the model has {} parameters, {} has {} for layer {}",
                    params.len(),
                    path.display(),
                    s.parameters.len(),
                    s.name
                )));
            }
            for (p, sp) in params.iter().zip(&s.parameters) {
                if p.value.shape() != sp.shape.as_slice()
                    || sp.values.len() != sp.shape.iter().product::<usize>()
                {
                    return Err(DlError::ShapeMismatch {
                        layer: name.clone(),
                        parameter: p.name.clone(),
                        expected: p.value.shape().to_vec(),
                        found: sp.shape.clone(),
                    });
                }
            }
        }
        for (layer, s) in self.layers_mut().iter_mut().zip(&saved.layers) {
            for (p, sp) in layer.parameters_mut().into_iter().zip(&s.parameters) {
                p.value
                    .assign(&crate::tensor::from_vec(&sp.shape, sp.values.clone()));
                p.zero_grad();
            }
        }
        Ok(())
    }
}

fn read_saved(path: &Path) -> Result<SavedModel> {
    let bytes = crate::error::read_file(path)?;
    let saved: SavedModel = serde_json::from_slice(&bytes)
        .map_err(|e| DlError::format(path, format!("not a dl-core model: {e}")))?;
    if saved.format != FORMAT {
        return Err(DlError::format(
            path,
            format!("format is {:?}, expected {FORMAT:?}", saved.format),
        ));
    }
    Ok(saved)
}
