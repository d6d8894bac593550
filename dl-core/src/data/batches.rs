//! Mini-batches: the sample indices, shuffled with a seed, cut into consecutive chunks of
//! `batch_size` (the last one may be smaller). Stops early if the kernel asks to interrupt.

use crate::rng::Rng;
use crate::tensor::{Tensor, select_rows};

/// An iterator over `(x_batch, y_batch)` pairs.
///
/// ```
/// use dl_core::data::BatchIterator;
/// let x = dl_core::tensor::from_vec(&[10, 1], (0..10).map(|v| v as f32).collect());
/// let sizes: Vec<usize> = BatchIterator::new(&x, &x, 4, Some(0)).map(|(xb, _)| xb.shape()[0]).collect();
/// assert_eq!(sizes, vec![4, 4, 2]);
/// ```
pub struct BatchIterator {
    x: Tensor,
    y: Tensor,
    order: Vec<usize>,
    batch_size: usize,
    position: usize,
}

impl BatchIterator {
    /// Batches of `batch_size`; `seed: Some(s)` shuffles with that seed, `None` keeps the order.
    ///
    /// **Panics** if `x` and `y` have different sample counts.
    #[track_caller]
    pub fn new(x: &Tensor, y: &Tensor, batch_size: usize, seed: Option<u64>) -> BatchIterator {
        let n = x.shape()[0];
        assert!(
            y.shape()[0] == n,
            "BatchIterator: x has shape {:?} and y has shape {:?}: the sample counts differ",
            x.shape(),
            y.shape()
        );
        let order = match seed {
            Some(s) => Rng::new(s).permutation(n),
            None => (0..n).collect(),
        };
        BatchIterator {
            x: x.clone(),
            y: y.clone(),
            order,
            batch_size: batch_size.max(1),
            position: 0,
        }
    }

    /// Number of batches in one pass.
    pub fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}

impl Iterator for BatchIterator {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.order.len() || crate::interrupt::requested() {
            return None;
        }
        let end = (self.position + self.batch_size).min(self.order.len());
        let idx = &self.order[self.position..end];
        self.position = end;
        Some((select_rows(&self.x, idx), select_rows(&self.y, idx)))
    }
}
