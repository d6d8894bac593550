//! Layers that map each feature vector through a weight matrix: [`Dense`] (`y = x W + b`)
//! and [`Embedding`] (row `i` of `W` for token id `i`, which is a one-hot vector times `W`).

#[allow(clippy::module_inception)]
mod dense;
mod embedding;

pub use dense::Dense;
pub use embedding::Embedding;
