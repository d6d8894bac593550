//! Embedding: a lookup table from token ids to learned vectors (Keras `Embedding`, PyTorch
//! `nn.Embedding`).
//!
//! ```text
//! y[n, t, :] = E[id[n, t], :]          E: [vocab_size, dim]
//! ∂L/∂E[k, :] += Σ_{(n,t): id[n,t] = k} ∂L/∂y[n, t, :]
//! ```
//!
//! The ids arrive as an `f32` tensor `[n, t]` (whole numbers); they are not differentiable, so
//! the input gradient is zero.

use crate::nn::{Layer, LayerConfig, Mode, Parameter};
use crate::tensor::Tensor;
use ndarray::IxDyn;

/// A table of `vocab_size` vectors of length `dim`, initialised `N(0, 1)` (PyTorch's default).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut emb = Embedding::new(10, 4);
/// let ids = dl_core::tensor::from_vec(&[2, 3], vec![1., 2., 3., 3., 2., 1.]);
/// assert_eq!(emb.forward(&ids, Mode::Train).shape(), &[2, 3, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct Embedding {
    vocab_size: usize,
    dim: usize,
    weight: Parameter,
    ids: Option<(Vec<usize>, Vec<usize>)>,
}

impl Embedding {
    /// A table of `vocab_size` rows of `dim` values.
    pub fn new(vocab_size: usize, dim: usize) -> Embedding {
        Embedding {
            vocab_size,
            dim,
            weight: Parameter::new("weight", crate::init::normal(&[vocab_size, dim], 0.0, 1.0)),
            ids: None,
        }
    }

    /// The table `[vocab_size, dim]`.
    pub fn weight(&self) -> &Parameter {
        &self.weight
    }
    /// The table, mutably.
    pub fn weight_mut(&mut self) -> &mut Parameter {
        &mut self.weight
    }
}

impl Embedding {
    /// The token ids of `input`, checked against the vocabulary.
    #[track_caller]
    fn ids(&self, input: &Tensor) -> Vec<usize> {
        input
            .iter()
            .map(|&v| {
                let id = v.round();
                assert!(
                    id >= 0.0 && (id as usize) < self.vocab_size && (v - id).abs() < 0.25,
                    "Embedding::forward: id {v} outside 0..{} (input shape {:?})",
                    self.vocab_size,
                    input.shape()
                );
                id as usize
            })
            .collect()
    }

    /// Row `id` of the table for every id, shaped `[input_shape…, dim]`.
    fn lookup(&self, ids: &[usize], input_shape: &[usize]) -> Tensor {
        let table = self.weight.value.as_slice().expect("own parameter");
        let mut out = Vec::with_capacity(ids.len() * self.dim);
        for &id in ids {
            out.extend_from_slice(&table[id * self.dim..(id + 1) * self.dim]);
        }
        let shape = self.output_shape(input_shape);
        Tensor::from_shape_vec(IxDyn(&shape), out).expect("length matches")
    }
}

impl Layer for Embedding {
    #[track_caller]
    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Tensor {
        let ids = self.ids(input);
        let y = self.lookup(&ids, input.shape());
        self.ids = Some((ids, input.shape().to_vec()));
        y
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        self.lookup(&self.ids(input), input.shape())
    }

    #[track_caller]
    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let (ids, shape) = self
            .ids
            .as_ref()
            .unwrap_or_else(|| panic!("Embedding: backward called before forward"));
        let expected = self.output_shape(shape);
        crate::nn::assert_grad_output_shape("Embedding", grad_output, &expected);
        let g = grad_output.as_standard_layout();
        let grad = self.weight.grad.as_slice_mut().expect("own parameter");
        for (&id, row) in ids
            .iter()
            .zip(g.as_slice().expect("standard").chunks_exact(self.dim))
        {
            grad[id * self.dim..(id + 1) * self.dim]
                .iter_mut()
                .zip(row)
                .for_each(|(a, b)| *a += b);
        }
        Tensor::zeros(IxDyn(shape))
    }

    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.weight]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.weight]
    }

    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        let mut s = input_shape.to_vec();
        s.push(self.dim);
        s
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Embedding {
            vocab_size: self.vocab_size,
            dim: self.dim,
        }
    }

    fn name(&self) -> &str {
        "embedding"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    #[test]
    fn gradients_match_central_differences() {
        crate::seed(8);
        let mut emb = Embedding::new(5, 3);
        let ids = crate::tensor::from_vec(&[2, 4], vec![0., 1., 4., 1., 2., 2., 3., 0.]);
        check_layer(&mut emb, &ids, Mode::Train, 1e-2).assert_within(1e-2);
    }

    #[test]
    #[should_panic(expected = "Embedding::forward: id 7 outside 0..5")]
    fn an_id_out_of_range_is_named() {
        Embedding::new(5, 3).forward(&crate::tensor::from_vec(&[1, 1], vec![7.0]), Mode::Eval);
    }
}
