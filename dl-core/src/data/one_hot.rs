//! One-hot encoding: class `c` of `k` becomes the row `e_c` (1 at position `c`, 0 elsewhere).

use crate::tensor::Tensor;

/// One-hot rows `[n, num_classes]` for labels given as a tensor (`[n]` or `[n, 1]`) of class
/// indices.
///
/// **Panics** naming the label if one is not an index below `num_classes`.
///
/// ```
/// let labels = dl_core::tensor::from_vec(&[3], vec![2.0, 0.0, 1.0]);
/// let y = dl_core::data::one_hot(&labels, 3);
/// assert_eq!(y.shape(), &[3, 3]);
/// assert_eq!(y.sum(), 3.0);
/// assert_eq!(y[[0, 2]], 1.0);
/// ```
#[track_caller]
pub fn one_hot(labels: &Tensor, num_classes: usize) -> Tensor {
    let n = labels.len();
    let mut y = Tensor::zeros(ndarray::IxDyn(&[n, num_classes]));
    for (i, &c) in labels.iter().enumerate() {
        assert!(
            c >= 0.0 && c.fract() == 0.0 && (c as usize) < num_classes,
            "one_hot: label {c} at row {i} is not a class index in 0..{num_classes}"
        );
        y[[i, c as usize]] = 1.0;
    }
    y
}
