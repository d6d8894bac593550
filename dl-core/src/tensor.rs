//! Tensors: n-dimensional `f32` arrays (`ndarray::ArrayD<f32>`), row-major, batch first.
//!
//! A batch of `n` samples with `d` features has shape `[n, d]`; images are `[n, c, h, w]`;
//! sequences are `[n, t, d]`. Helpers here build tensors and check shapes; every shape error
//! names the operation and both shapes.

use ndarray::{ArrayD, IxDyn};

/// The one tensor type of dl-core.
pub type Tensor = ArrayD<f32>;

/// Builds a tensor of the given shape from row-major data.
///
/// **Panics** if `data.len()` is not the product of `shape`.
///
/// ```
/// let t = dl_core::tensor::from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.]);
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t[[1, 0]], 4.0);
/// ```
#[track_caller]
pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Tensor {
    let expected: usize = shape.iter().product();
    assert_eq!(
        expected,
        data.len(),
        "from_vec: shape {shape:?} needs {expected} values, got {}",
        data.len()
    );
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("length checked above")
}

/// A tensor of zeros.
///
/// ```
/// assert_eq!(dl_core::tensor::zeros(&[2, 2]).sum(), 0.0);
/// ```
pub fn zeros(shape: &[usize]) -> Tensor {
    ArrayD::zeros(IxDyn(shape))
}

/// Values written by one task of [`collect_in_parallel`]: 128 KiB, large enough that the
/// pool's overhead is small beside the loop that writes them.
const VALUES_PER_WRITE: usize = 1 << 15;

/// A new vector of `len` values, written by the threads of the pool in chunks of
/// [`VALUES_PER_WRITE`]: the chunk of positions `range` takes the values of `values(range)`,
/// which must yield `range.len()` of them. One pass, straight into fresh memory (no zeros
/// written first), each thread faulting in the pages it writes; the chunk's loop is compiled
/// for the best vector instructions of the CPU (rayon's `collect` writes one value at a time).
///
/// **Panics** if `values` yields fewer values than asked for.
pub(crate) fn collect_in_parallel<I>(
    len: usize,
    values: impl Fn(std::ops::Range<usize>) -> I + Sync,
) -> Vec<f32>
where
    I: Iterator<Item = f32>,
{
    use rayon::prelude::*;
    let mut data: Vec<f32> = Vec::with_capacity(len);
    let write = |(i, chunk): (usize, &mut [std::mem::MaybeUninit<f32>])| {
        let (start, len) = (i * VALUES_PER_WRITE, chunk.len());
        let mut written = 0;
        crate::ops::fast_math::with_best_simd(|| {
            chunk
                .iter_mut()
                .zip(values(start..start + len))
                .for_each(|(v, x)| {
                    v.write(x);
                    written += 1;
                })
        });
        assert_eq!(written, len, "collect_in_parallel: too few values");
    };
    let spare = &mut data.spare_capacity_mut()[..len];
    if len > VALUES_PER_WRITE && rayon::current_num_threads() > 1 {
        spare
            .par_chunks_mut(VALUES_PER_WRITE)
            .enumerate()
            .for_each(write);
    } else {
        spare
            .chunks_mut(VALUES_PER_WRITE)
            .enumerate()
            .for_each(write);
    }
    // SAFETY: the capacity is at least `len`, and the chunks cover `..len`, each written in
    // full (counted above: a short chunk panics before this line).
    unsafe { data.set_len(len) };
    data
}

/// Tensors shorter than this many values are zeroed or copied by the calling thread alone
/// ([`zeros_in_parallel`], [`copy_in_parallel`]): 256 KiB. Every tensor these two make for
/// the book MLP at batch 64 (at most 64×128 values) stays below it, so its step sends none of
/// them to the pool; the small GPT's activations (2048×128 values and up) are above it.
pub const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// A tensor of zeros, written by all the threads of the pool: for the large activations and
/// gradients a layer allocates at every batch, which one thread would otherwise zero (and
/// fault into memory) while the others wait.
///
/// ```
/// assert_eq!(dl_core::tensor::zeros_in_parallel(&[64, 32, 26, 26]).sum(), 0.0);
/// ```
pub fn zeros_in_parallel(shape: &[usize]) -> Tensor {
    let len = shape.iter().product();
    let data: Vec<f32> = if len >= PARALLEL_MIN_VALUES && rayon::current_num_threads() > 1 {
        collect_in_parallel(len, |run| std::iter::repeat_n(0.0, run.len()))
    } else {
        vec![0.0; len]
    };
    from_vec(shape, data)
}

/// A contiguous copy of a tensor, written by all the threads of the pool (what an operation
/// that works in place on its own copy of an input starts from).
///
/// ```
/// let t = dl_core::tensor::from_vec(&[2, 2], vec![1., 2., 3., 4.]);
/// assert_eq!(dl_core::tensor::copy_in_parallel(&t.t().to_owned()), t.t());
/// ```
pub fn copy_in_parallel(t: &Tensor) -> Tensor {
    match t.as_slice() {
        Some(values) if values.len() >= PARALLEL_MIN_VALUES && rayon::current_num_threads() > 1 => {
            let data = collect_in_parallel(values.len(), |run| values[run].iter().copied());
            from_vec(t.shape(), data)
        }
        _ => t.as_standard_layout().into_owned(),
    }
}

/// A column tensor `[n, 1]` from a slice.
///
/// ```
/// let c = dl_core::tensor::column(&[1.0, 2.0, 3.0]);
/// assert_eq!(c.shape(), &[3, 1]);
/// ```
pub fn column(values: &[f32]) -> Tensor {
    from_vec(&[values.len(), 1], values.to_vec())
}

/// Panics unless `a` and `b` have the same shape; the message names `op` and both shapes.
///
/// ```should_panic
/// let a = dl_core::tensor::zeros(&[2, 3]);
/// let b = dl_core::tensor::zeros(&[3, 2]);
/// dl_core::tensor::assert_same_shape("mse", &a, &b); // panics: "mse: shapes [2, 3] and [3, 2] differ"
/// ```
#[track_caller]
pub fn assert_same_shape(op: &str, a: &Tensor, b: &Tensor) {
    assert!(
        a.shape() == b.shape(),
        "{op}: shapes {:?} and {:?} differ",
        a.shape(),
        b.shape()
    );
}

/// Panics unless `t` has `ndim` axes and its last axis has length `last` (if given).
#[track_caller]
pub fn assert_input(op: &str, t: &Tensor, min_ndim: usize, last: Option<usize>) {
    assert!(
        t.ndim() >= min_ndim,
        "{op}: expected an input with at least {min_ndim} axes, got shape {:?}",
        t.shape()
    );
    if let Some(last) = last {
        let got = *t.shape().last().unwrap_or(&0);
        assert!(
            got == last,
            "{op}: expected input shape [.., {last}], got shape {:?}",
            t.shape()
        );
    }
}

/// Rows `indices` of `t` along the first axis (a mini-batch), as a new tensor.
///
/// ```
/// let t = dl_core::tensor::from_vec(&[3, 1], vec![10., 20., 30.]);
/// let b = dl_core::tensor::select_rows(&t, &[2, 0]);
/// assert_eq!(b.as_slice().unwrap(), &[30., 10.]);
/// ```
/// **Panics** if an index is out of bounds.
#[track_caller]
pub fn select_rows(t: &Tensor, indices: &[usize]) -> Tensor {
    select_view_rows(t.view(), indices)
}

/// [`select_rows`] of a borrowed view (a part of a data set, without copying the rest).
#[track_caller]
pub(crate) fn select_view_rows(t: ndarray::ArrayViewD<'_, f32>, indices: &[usize]) -> Tensor {
    // A contiguous tensor is gathered row slice by row slice (ndarray's `select` builds and
    // concatenates a view per row).
    let (Some(&rows), Some(data)) = (t.shape().first(), t.to_slice()) else {
        return t.select(ndarray::Axis(0), indices);
    };
    let row_len = data.len().checked_div(rows).unwrap_or(0);
    let mut out = Vec::with_capacity(indices.len() * row_len);
    for &i in indices {
        assert!(
            i < rows,
            "select_rows: row {i} of a tensor with {rows} rows"
        );
        out.extend_from_slice(&data[i * row_len..(i + 1) * row_len]);
    }
    let mut shape = t.shape().to_vec();
    shape[0] = indices.len();
    from_vec(&shape, out)
}

/// Index of the largest value in each row of a `[n, k]` tensor.
///
/// ```
/// let t = dl_core::tensor::from_vec(&[2, 3], vec![0.1, 0.7, 0.2, 0.9, 0.0, 0.1]);
/// assert_eq!(dl_core::tensor::argmax_rows(&t), vec![1, 0]);
/// ```
#[track_caller]
pub fn argmax_rows(t: &Tensor) -> Vec<usize> {
    assert!(
        t.ndim() == 2,
        "argmax_rows: expected [n, k], got shape {:?}",
        t.shape()
    );
    t.outer_iter()
        .map(|row| {
            let mut best = 0;
            for (i, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_rows_agrees_with_ndarray_select() {
        let t = from_vec(&[4, 2, 3], (0..24).map(|v| v as f32).collect());
        let picked = [3, 0, 3, 1];
        let expected = t.select(ndarray::Axis(0), &picked);
        assert_eq!(select_rows(&t, &picked), expected);
        // A transposed view is not contiguous: the general path.
        let tt = t
            .clone()
            .reversed_axes()
            .as_standard_layout()
            .into_owned()
            .reversed_axes();
        assert_eq!(tt, t);
        assert!(tt.as_slice().is_none());
        assert_eq!(select_rows(&tt, &picked), expected);
        assert_eq!(select_rows(&t, &[]).shape(), &[0, 2, 3]);
    }

    #[test]
    fn parallel_zeros_and_copies_cover_every_value_of_odd_lengths() {
        // Lengths that are not a multiple of a task's chunk, above the parallel threshold.
        for len in [(1 << 16) + 3, 5 * VALUES_PER_WRITE - 1] {
            let zeros = zeros_in_parallel(&[len]);
            assert_eq!(zeros.len(), len);
            assert!(zeros.iter().all(|&v| v == 0.0));
            let t = from_vec(&[1, len], (0..len).map(|i| i as f32).collect());
            let copy = copy_in_parallel(&t);
            assert_eq!(copy, t);
            let doubled = collect_in_parallel(len, |run| run.map(|i| 2.0 * i as f32));
            assert!(
                doubled
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| v == 2.0 * i as f32)
            );
        }
    }

    #[test]
    #[should_panic(expected = "too few values")]
    fn collect_in_parallel_refuses_a_short_chunk() {
        collect_in_parallel(10, |run| std::iter::repeat_n(1.0, run.len() - 1));
    }

    #[test]
    #[should_panic(expected = "row 4 of a tensor with 4 rows")]
    fn select_rows_names_an_index_out_of_bounds() {
        select_rows(&zeros(&[4, 2]), &[1, 4]);
    }
}
