//! Model selection: splitting the data into folds and scoring a model on each.
//!
//! ```text
//! k-fold:             indices cut into k nearly equal folds; fold i tests, the rest train
//! stratified k-fold:  the same within each class, so every fold keeps the class proportions
//! leave-one-out:      k = n, each sample tests once
//! cross_val_score:    score_i = fit on train_i, evaluate on test_i;  report mean ± std
//! ```

use crate::rng::Rng;
use crate::tensor::{Tensor, select_rows};

/// A split of sample indices into training and test parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// Indices of the training samples.
    pub train: Vec<usize>,
    /// Indices of the test samples.
    pub test: Vec<usize>,
}

fn folds_from_groups(n: usize, groups: Vec<Vec<usize>>) -> Vec<Fold> {
    groups
        .into_iter()
        .map(|test| {
            let mut in_test = vec![false; n];
            for &i in &test {
                in_test[i] = true;
            }
            Fold {
                train: (0..n).filter(|&i| !in_test[i]).collect(),
                test,
            }
        })
        .collect()
}

/// `k` folds over `n` samples; `seed: Some(s)` shuffles first (scikit-learn `KFold`).
///
/// **Panics** if `k < 2` or `k > n`.
///
/// ```
/// let folds = dl_core::model_selection::k_fold(10, 3, None);
/// assert_eq!(folds.len(), 3);
/// assert_eq!(folds[0].test, vec![0, 1, 2, 3]); // the first n % k folds get one more
/// assert_eq!(folds[2].test.len() + folds[2].train.len(), 10);
/// ```
#[track_caller]
pub fn k_fold(n: usize, k: usize, seed: Option<u64>) -> Vec<Fold> {
    assert!(
        k >= 2 && k <= n,
        "k_fold: need 2 ≤ k ≤ n, got k = {k}, n = {n}"
    );
    let order = match seed {
        Some(s) => Rng::new(s).permutation(n),
        None => (0..n).collect(),
    };
    let mut groups = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let size = n / k + usize::from(i < n % k);
        groups.push(order[start..start + size].to_vec());
        start += size;
    }
    folds_from_groups(n, groups)
}

/// `k` folds that keep each class's share in every fold (scikit-learn `StratifiedKFold`):
/// the samples of each class are dealt round-robin to the folds.
///
/// **Panics** if `k < 2` or `k > n`.
///
/// ```
/// let labels = [0, 0, 0, 0, 1, 1, 1, 1];
/// let folds = dl_core::model_selection::stratified_k_fold(&labels, 2, Some(0));
/// for f in &folds {
///     let ones = f.test.iter().filter(|&&i| labels[i] == 1).count();
///     assert_eq!(ones, 2);
/// }
/// ```
#[track_caller]
pub fn stratified_k_fold(labels: &[usize], k: usize, seed: Option<u64>) -> Vec<Fold> {
    let n = labels.len();
    assert!(
        k >= 2 && k <= n,
        "stratified_k_fold: need 2 ≤ k ≤ n, got k = {k}, n = {n}"
    );
    let num_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut rng = seed.map(Rng::new);
    let mut groups = vec![Vec::new(); k];
    let mut next = 0;
    for class in 0..num_classes {
        let mut members: Vec<usize> = (0..n).filter(|&i| labels[i] == class).collect();
        if let Some(r) = rng.as_mut() {
            r.shuffle(&mut members);
        }
        for i in members {
            groups[next % k].push(i);
            next += 1;
        }
    }
    for g in groups.iter_mut() {
        g.sort_unstable();
    }
    folds_from_groups(n, groups)
}

/// `n` folds, each testing on one sample.
///
/// ```
/// let folds = dl_core::model_selection::leave_one_out(3);
/// assert_eq!(folds[1].test, vec![1]);
/// assert_eq!(folds[1].train, vec![0, 2]);
/// ```
pub fn leave_one_out(n: usize) -> Vec<Fold> {
    folds_from_groups(n, (0..n).map(|i| vec![i]).collect())
}

/// Scores on each fold: `score(x_train, y_train, x_test, y_test)` trains a fresh model and
/// returns its score (scikit-learn `cross_val_score`). Stops early if the kernel interrupts.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::model_selection::{cross_val_score, k_fold};
/// let x = dl_core::tensor::from_vec(&[6, 1], vec![0., 1., 2., 3., 4., 5.]);
/// let y = x.mapv(|v| 2.0 * v + 1.0);
/// let scores = cross_val_score(&x, &y, &k_fold(6, 3, Some(0)), |xt, yt, xv, yv| {
///     let mut model = LinearRegression::new();
///     model.fit_closed_form(xt, yt);
///     model.score(xv, yv)
/// });
/// assert!(scores.iter().all(|&r2| r2 > 0.999));
/// ```
#[track_caller]
pub fn cross_val_score(
    x: &Tensor,
    y: &Tensor,
    folds: &[Fold],
    mut score: impl FnMut(&Tensor, &Tensor, &Tensor, &Tensor) -> f32,
) -> Vec<f32> {
    assert!(
        x.shape()[0] == y.shape()[0],
        "cross_val_score: x has shape {:?} and y has shape {:?}: the sample counts differ",
        x.shape(),
        y.shape()
    );
    let mut scores = Vec::with_capacity(folds.len());
    for fold in folds {
        if crate::interrupt::requested() {
            break;
        }
        scores.push(score(
            &select_rows(x, &fold.train),
            &select_rows(y, &fold.train),
            &select_rows(x, &fold.test),
            &select_rows(y, &fold.test),
        ));
    }
    scores
}

/// Mean and (population) standard deviation of scores, for "0.95 ± 0.02".
///
/// ```
/// assert_eq!(dl_core::model_selection::mean_std(&[1.0, 3.0]), (2.0, 1.0));
/// ```
pub fn mean_std(scores: &[f32]) -> (f32, f32) {
    let n = scores.len().max(1) as f32;
    let mean = scores.iter().sum::<f32>() / n;
    let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / n;
    (mean, var.sqrt())
}
