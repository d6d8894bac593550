//! Matrix multiplication (GEMM), the workhorse of dense, convolution and recurrent layers.
//!
//! ```text
//! C[m×n] ← A[m×k] · B[k×n]            (Output::Overwrite)
//! C[m×n] ← C + A[m×k] · B[k×n]        (Output::Accumulate)
//! C_ij = Σ_p A_ip B_pj
//! ```
//!
//! All matrices are row-major `f32` slices. A transposed operand is read through its strides,
//! never copied: [`Stored::Transposed`] for `A` means the slice holds `Aᵀ` as a `[k, m]`
//! matrix. [`Output::Accumulate`] adds the product into `C` instead of overwriting it.
//!
//! The kernel is chosen at run time from the CPU's features. With AVX-512 it is the pure-Rust
//! `gemm` crate (the one candle uses; its f32 part, `gemm-f32`) with its AVX-512 ("x86-v4")
//! micro-kernels; with AVX2 and FMA only, this crate's own blocked product
//! (`ops/blocked_gemm.rs`), which runs level with OpenBLAS there where the crate's AVX2 kernel
//! ran at 0.75× of it; other CPUs get the crate's scalar kernels. Measured on the 2-core
//! AVX-512 machine of the book, at n = 1024 the crate matches NumPy's OpenBLAS, where
//! ndarray's default `matrixmultiply` reaches about half (see `bench/README.md`). Large products are split over the rayon pool; a product called from
//! inside a rayon task (a convolution already parallel over the batch) runs on that one thread,
//! unless the task is a whole computation moved into the pool (`with_products_top_level`).

use crate::tensor::Tensor;
use gemm_common::Parallelism;
use ndarray::IxDyn;

/// Products smaller than this many multiply-adds run on the calling thread: handing them to
/// the pool and back costs more than the second thread saves.
///
/// Measured on Zen 3 at 2 threads (each product repeated for 0.1–0.3 s, alternately on one
/// thread and split over the pool, medians of three rounds, two runs, load 5–6): the book
/// MLP's products (64×128×784 forward, 784×128×64 for the weight gradient, 6.4 M
/// multiply-adds) took 225 µs of CPU time on one thread and 257–386 µs split, and products of
/// 2–4 M multiply-adds 33–50 % more CPU split; from 8.4 M (512×128×128) on, the split cost
/// 0–20 % more and from 34 M (2048×128×128) none. The earlier threshold (1 M) sent the MLP's
/// two large products to the pool at every batch, which made its training at 2 threads slower
/// than at 1. 8 M keeps the book CNN's dense layer (64×128×1600, 13 M) and every product of
/// the small GPT (17 M and up) split as before.
pub const PARALLEL_MIN_MULTIPLY_ADDS: usize = 1 << 23;

thread_local! {
    /// Whether the computation running on this worker of the pool is a top-level one (see
    /// `with_products_top_level`): its products may split over the pool like products called from
    /// outside it.
    static TOP_LEVEL_ON_THIS_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread's products counted as top-level (`true`) or as nested in a
/// parallel loop (`false`), and restores the previous rule afterwards, even on a panic.
///
/// A product called from a worker of the pool normally runs on that one thread: it is one task
/// of a loop already parallel (the convolution's loop over the batch), and splitting it again
/// would only add work. A whole training step run on a worker instead (autograd's backward
/// pass, so that each parallel region is a `join` between workers, not a hand-off from the
/// calling thread and back) marks itself top-level, and a hand-written layer called from it
/// marks itself nested again.
pub(crate) fn with_products_top_level<R>(top_level: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TOP_LEVEL_ON_THIS_WORKER.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(TOP_LEVEL_ON_THIS_WORKER.with(|t| t.replace(top_level)));
    f()
}

fn parallelism(m: usize, n: usize, k: usize) -> Parallelism {
    let nested =
        rayon::current_thread_index().is_some() && !TOP_LEVEL_ON_THIS_WORKER.with(|t| t.get());
    if nested || m * n * k < PARALLEL_MIN_MULTIPLY_ADDS || rayon::current_num_threads() < 2 {
        Parallelism::None
    } else {
        Parallelism::Rayon(rayon::current_num_threads())
    }
}

/// How an operand's slice holds its matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The matrix itself, row-major (`A` as `[m, k]`).
    AsIs,
    /// Its transpose, row-major (`A` as `[k, m]`): read through strides, never copied.
    Transposed,
}

/// What the product does to `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `C ← A·B`.
    Overwrite,
    /// `C ← C + A·B` (a gradient accumulated in place).
    Accumulate,
}

/// `C ← A·B` or `C ← C + A·B` on row-major slices; `A` is `[m, k]`, `B` is `[k, n]`, `C` is
/// `[m, n]`. With `a_stored = Stored::Transposed` the slice `a` holds `Aᵀ` (`[k, m]`); with
/// `b_stored = Stored::Transposed`, `b` holds `Bᵀ` (`[n, k]`).
///
/// **Panics** if a slice is shorter than its matrix.
///
/// ```
/// use dl_core::ops::gemm::{Output, Stored, gemm};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let b = [1.0, 0.0, 0.0, 1.0]; // identity
/// let mut c = [0.0; 4];
/// gemm(2, 2, 2, &a, Stored::AsIs, &b, Stored::AsIs, &mut c, Output::Overwrite);
/// assert_eq!(c, a);
/// gemm(2, 2, 2, &a, Stored::Transposed, &b, Stored::AsIs, &mut c, Output::Accumulate); // c += aᵀ
/// assert_eq!(c, [2.0, 5.0, 5.0, 8.0]);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_stored: Stored,
    b: &[f32],
    b_stored: Stored,
    c: &mut [f32],
    output: Output,
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm: A [{m}, {k}] ({} values), B [{k}, {n}] ({} values), C [{m}, {n}] ({} values)",
        a.len(),
        b.len(),
        c.len()
    );
    let natural = |stored: Stored, rows_as_is: usize, cols_as_is: usize| {
        if stored == Stored::Transposed {
            rows_as_is
        } else {
            cols_as_is
        }
    };
    gemm_strided(
        (m, n, k),
        (a, a_stored, natural(a_stored, m, k)),
        (b, b_stored, natural(b_stored, k, n)),
        (c, n),
        output,
    );
}

/// [`gemm`] on matrices inside larger slices: row `i` of each stored matrix starts at
/// `i · stride` of its slice (one attention head's queries among the packed `[t, 3w]`
/// projections have stride `3w`). Operands are `(slice, how it is stored, row stride)`, the
/// output `(slice, row stride)`.
///
/// **Panics** if a stride is shorter than its rows or a slice shorter than its matrix.
///
/// ```
/// use dl_core::ops::gemm::{Output, Stored, gemm_strided};
/// // The left half of a [2, 4] matrix times the identity, into the right half of another.
/// let a = [1.0, 2.0, 9.0, 9.0, 3.0, 4.0, 9.0, 9.0];
/// let b = [1.0, 0.0, 0.0, 1.0];
/// let mut c = [0.0; 8];
/// gemm_strided((2, 2, 2), (&a, Stored::AsIs, 4), (&b, Stored::AsIs, 2), (&mut c[2..], 4), Output::Overwrite);
/// assert_eq!(c, [0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 3.0, 4.0]);
/// ```
#[track_caller]
pub fn gemm_strided(
    (m, n, k): (usize, usize, usize),
    (a, a_stored, a_stride): (&[f32], Stored, usize),
    (b, b_stored, b_stride): (&[f32], Stored, usize),
    (c, c_stride): (&mut [f32], usize),
    output: Output,
) {
    let accumulate = output == Output::Accumulate;
    // (rows, columns) of each stored matrix.
    let a_dims = if a_stored == Stored::Transposed {
        (k, m)
    } else {
        (m, k)
    };
    let b_dims = if b_stored == Stored::Transposed {
        (n, k)
    } else {
        (k, n)
    };
    let fits = |len: usize, (rows, cols): (usize, usize), stride: usize| {
        rows == 0 || cols == 0 || (stride >= cols && len >= (rows - 1) * stride + cols)
    };
    assert!(
        fits(a.len(), a_dims, a_stride)
            && fits(b.len(), b_dims, b_stride)
            && fits(c.len(), (m, n), c_stride),
        "gemm: A [{m}, {k}] ({} values, row stride {a_stride}), B [{k}, {n}] ({} values, row stride {b_stride}), C [{m}, {n}] ({} values, row stride {c_stride})",
        a.len(),
        b.len(),
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.chunks_mut(c_stride.max(1))
                .take(m)
                .for_each(|row| row[..n].fill(0.0));
        }
        return;
    }
    // SAFETY: the asserts above guarantee every element addressed by the strides lies inside
    // its slice; `c` is borrowed mutably, so it aliases neither `a` nor `b`.
    unsafe {
        run_kernel(
            (m, n, k),
            (a, a_stored, a_stride),
            (b, b_stored, b_stride),
            (c.as_mut_ptr(), c_stride),
            accumulate,
        )
    }
}

/// Calls the `gemm` crate's kernel for `C = op(A)·op(B)` (or `C += …` when `accumulate`), all
/// row-major with the given row strides.
///
/// The kernel is column-major at heart, and a row-major matrix is the column-major storage
/// of its transpose: so it computes Cᵀ[n×m] = op(B)ᵀ · op(A)ᵀ, reading every operand in
/// place (unit stride down its columns) with no transposition pass.
///
/// # Safety
/// Every element the strides address must lie inside `a`, `b` and the `m × n` matrix at `c`,
/// which must alias neither operand. Without `accumulate` the kernel writes every value of `C`
/// before it reads any, so `c` may point at uninitialised memory.
unsafe fn run_kernel(
    (m, n, k): (usize, usize, usize),
    (a, a_stored, a_stride): (&[f32], Stored, usize),
    (b, b_stored, b_stride): (&[f32], Stored, usize),
    (c, c_stride): (*mut f32, usize),
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if super::blocked_gemm::suits_this_cpu() {
        use super::blocked_gemm::{Strided, StridedMut};
        // (row step, column step) of op(A) [m×k] and op(B) [k×n] in their slices.
        let steps = |stored: Stored, stride: usize| {
            if stored == Stored::Transposed {
                (1, stride)
            } else {
                (stride, 1)
            }
        };
        let strided = |v: &[f32], (row_step, col_step)| Strided {
            ptr: v.as_ptr(),
            row_step,
            col_step,
        };
        let threads = match parallelism(m, n, k) {
            Parallelism::Rayon(threads) => threads,
            Parallelism::None => 1,
        };
        // SAFETY: the caller's contract is the blocked product's, and the CPU suits it.
        unsafe {
            super::blocked_gemm::gemm(
                (m, n, k),
                strided(a, steps(a_stored, a_stride)),
                strided(b, steps(b_stored, b_stride)),
                StridedMut {
                    ptr: c,
                    row_step: c_stride,
                },
                accumulate,
                threads,
            )
        };
        return;
    }
    let parallelism = parallelism(m, n, k);
    if let Parallelism::Rayon(threads) = parallelism
        && splits_by_rows(m, n, k)
    {
        // SAFETY: the caller's contract, passed on to bands that do not overlap in `C`.
        return unsafe {
            split_rows_over_threads(
                (m, n, k),
                (a, a_stored, a_stride),
                (b, b_stored, b_stride),
                (c, c_stride),
                accumulate,
                threads,
            )
        };
    }
    // SAFETY: the caller's contract.
    unsafe {
        crate_kernel(
            (m, n, k),
            (a, a_stored, a_stride),
            (b, b_stored, b_stride),
            (c, c_stride),
            accumulate,
            parallelism,
        )
    }
}

/// A pointer into `C` that may cross to another thread of the pool: each thread writes its
/// own rows.
#[derive(Clone, Copy)]
struct OutputPointer(*mut f32);
// SAFETY: the bands of `split_rows_over_threads` write disjoint rows of `C`.
unsafe impl Send for OutputPointer {}
unsafe impl Sync for OutputPointer {}

impl OutputPointer {
    /// The pointer `offset` values on (through a method, so that a closure captures the
    /// whole `OutputPointer`, not its raw pointer).
    ///
    /// # Safety
    /// As [`pointer::add`].
    unsafe fn at(&self, offset: usize) -> *mut f32 {
        // SAFETY: the caller's.
        unsafe { self.0.add(offset) }
    }
}

/// Whether a product split over the pool is cut into bands of rows here rather than by the
/// `gemm` crate: a deep product (`k` larger than both `m` and `n`), such as a dense layer on
/// flattened convolution features.
///
/// Measured on Zen 4 at 2 threads (GFLOP/s, three alternating rounds of 2 s each), bands of
/// rows against the crate's split: the book CNN's dense layer in inference (`256 × 128 × 1600`)
/// 183–198 against 155–169, in training (`64 × 128 × 1600`) 175–189 against 142–173; for the
/// same layer's weight gradient (`1600 × 128 × 64`) the crate's split was 5 % ahead, and
/// n = 1024 was level.
fn splits_by_rows(m: usize, n: usize, k: usize) -> bool {
    k > m && k > n
}

/// The product cut into `threads` bands of rows of `C`, each the `gemm` crate's kernel on one
/// thread of the pool.
///
/// # Safety
/// As [`run_kernel`].
unsafe fn split_rows_over_threads(
    (m, n, k): (usize, usize, usize),
    (a, a_stored, a_stride): (&[f32], Stored, usize),
    b: (&[f32], Stored, usize),
    (c, c_stride): (*mut f32, usize),
    accumulate: bool,
    threads: usize,
) {
    use rayon::prelude::*;
    let band = m.div_ceil(threads);
    let c = OutputPointer(c);
    (0..m.div_ceil(band)).into_par_iter().for_each(|part| {
        let (start, end) = (part * band, ((part + 1) * band).min(m));
        // Row `start` of op(A): a row of the slice, or a column of the stored Aᵀ.
        let a_start = match a_stored {
            Stored::AsIs => start * a_stride,
            Stored::Transposed => start,
        };
        // SAFETY: the band's rows lie inside `C` and op(A); bands do not overlap.
        unsafe {
            crate_kernel(
                (end - start, n, k),
                (&a[a_start..], a_stored, a_stride),
                b,
                (c.at(start * c_stride), c_stride),
                accumulate,
                Parallelism::None,
            )
        }
    });
}

/// The `gemm` crate's kernel, on the calling thread or split over the pool by the crate.
///
/// # Safety
/// As [`run_kernel`].
unsafe fn crate_kernel(
    (m, n, k): (usize, usize, usize),
    (a, a_stored, a_stride): (&[f32], Stored, usize),
    (b, b_stored, b_stride): (&[f32], Stored, usize),
    (c, c_stride): (*mut f32, usize),
    accumulate: bool,
    parallelism: Parallelism,
) {
    // (column stride, row stride) of op(B)ᵀ [n×k] and of op(A)ᵀ [k×m]:
    let (bt_cs, bt_rs) = if b_stored == Stored::Transposed {
        (1, b_stride as isize)
    } else {
        (b_stride as isize, 1)
    };
    let (at_cs, at_rs) = if a_stored == Stored::Transposed {
        (1, a_stride as isize)
    } else {
        (a_stride as isize, 1)
    };
    // SAFETY: the caller's contract above.
    unsafe {
        gemm_f32::gemm::f32::get_gemm_fn()(
            n,
            m,
            k,
            c,
            c_stride as isize,
            1,
            accumulate,
            b.as_ptr(),
            bt_cs,
            bt_rs,
            a.as_ptr(),
            at_cs,
            at_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `A·B` as a new row-major `[m, n]` vector (`A` is `[m, k]`, `B` is `[k, n]`, stored as in
/// [`gemm`]), written straight into fresh memory: the kernel overwrites every value, where
/// [`gemm`] into `vec![0.0; m * n]` would first write zeros over the whole output (in the
/// small GPT's training at 2 threads, that zeroing was 5–6 % of the CPU time).
///
/// **Panics** if a slice is shorter than its matrix.
///
/// ```
/// use dl_core::ops::gemm::{Stored, product};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let b = [1.0, 1.0]; // [[1], [1]]
/// assert_eq!(product(2, 1, 2, &a, Stored::AsIs, &b, Stored::AsIs), [3.0, 7.0]);
/// assert_eq!(product(2, 1, 2, &a, Stored::Transposed, &b, Stored::AsIs), [4.0, 6.0]);
/// ```
#[track_caller]
pub fn product(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_stored: Stored,
    b: &[f32],
    b_stored: Stored,
) -> Vec<f32> {
    assert!(
        a.len() >= m * k && b.len() >= k * n,
        "product: A [{m}, {k}] ({} values), B [{k}, {n}] ({} values)",
        a.len(),
        b.len()
    );
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    let mut c: Vec<f32> = Vec::with_capacity(m * n);
    // The row strides of the stored A and B, and of C.
    let a_stride = if a_stored == Stored::Transposed { m } else { k };
    let b_stride = if b_stored == Stored::Transposed { k } else { n };
    // SAFETY: the assert above keeps every element these strides address inside `a` and `b`;
    // `c` has room for the `m·n` values, and without accumulation the kernel writes every one
    // of them before it reads any, so all are initialised when the length is set.
    unsafe {
        run_kernel(
            (m, n, k),
            (a, a_stored, a_stride),
            (b, b_stored, b_stride),
            (c.as_mut_ptr(), n),
            false,
        );
        c.set_len(m * n);
    }
    c
}

/// The matrix product of two 2-D tensors: `[m, k] · [k, n] → [m, n]`.
///
/// **Panics** if either tensor is not 2-D or the inner sizes differ, naming both shapes.
///
/// ```
/// use dl_core::tensor::from_vec;
/// let a = from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.]);
/// let b = from_vec(&[3, 1], vec![1., 1., 1.]);
/// assert_eq!(dl_core::ops::gemm::matmul(&a, &b).as_slice().unwrap(), &[6., 15.]);
/// ```
#[track_caller]
pub fn matmul(a: &Tensor, b: &Tensor) -> Tensor {
    assert!(
        a.ndim() == 2 && b.ndim() == 2 && a.shape()[1] == b.shape()[0],
        "matmul: shapes {:?} and {:?} do not chain ([m, k] · [k, n])",
        a.shape(),
        b.shape()
    );
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let mut c = Tensor::zeros(IxDyn(&[m, n]));
    gemm(
        m,
        n,
        k,
        a.as_slice().expect("standard layout"),
        Stored::AsIs,
        b.as_slice().expect("standard layout"),
        Stored::AsIs,
        c.as_slice_mut().expect("fresh array"),
        Output::Overwrite,
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        ta: Stored,
        b: &[f32],
        tb: Stored,
    ) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for p in 0..k {
                    let av = if ta == Stored::Transposed {
                        a[p * m + i]
                    } else {
                        a[i * k + p]
                    };
                    let bv = if tb == Stored::Transposed {
                        b[j * k + p]
                    } else {
                        b[p * n + j]
                    };
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn all_transpose_combinations_match_the_definition() {
        let mut r = crate::rng::Rng::new(1);
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (17, 33, 65),
            (130, 70, 90),
            (300, 200, 100),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            for ta in [Stored::AsIs, Stored::Transposed] {
                for tb in [Stored::AsIs, Stored::Transposed] {
                    let want = naive(m, n, k, &a, ta, &b, tb);
                    let mut c = vec![1.0; m * n];
                    gemm(m, n, k, &a, ta, &b, tb, &mut c, Output::Accumulate);
                    for (got, want) in c.iter().zip(&want) {
                        assert!((got - 1.0 - want).abs() < 1e-4 * (1.0 + want.abs()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_product_into_fresh_memory_equals_gemm_over_zeros() {
        let mut r = crate::rng::Rng::new(2);
        // The last shape is above `PARALLEL_MIN_MULTIPLY_ADDS`, so it splits over the pool.
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 0),
            (7, 3, 5),
            (65, 33, 17),
            (300, 200, 300),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            for ta in [Stored::AsIs, Stored::Transposed] {
                for tb in [Stored::AsIs, Stored::Transposed] {
                    let mut want = vec![f32::NAN; m * n];
                    gemm(m, n, k, &a, ta, &b, tb, &mut want, Output::Overwrite);
                    let got = product(m, n, k, &a, ta, &b, tb);
                    assert_eq!(got, want, "{m}x{n}x{k} {ta:?} {tb:?}");
                    let reference = naive(m, n, k, &a, ta, &b, tb);
                    for (got, want) in got.iter().zip(&reference) {
                        assert!((got - want).abs() < 1e-4 * (1.0 + want.abs()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_deep_product_split_into_bands_of_rows_matches_the_definition() {
        let mut r = crate::rng::Rng::new(3);
        // Deeper than wide and above `PARALLEL_MIN_MULTIPLY_ADDS`: cut into bands of rows on
        // the `gemm` crate's path, 2 bands and 3 (the last one shorter).
        let (m, n, k) = (67, 50, 2600);
        assert!(splits_by_rows(m, n, k) && m * n * k >= PARALLEL_MIN_MULTIPLY_ADDS);
        let a: Vec<f32> = (0..m * k).map(|_| r.uniform_range(-1.0, 1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| r.uniform_range(-1.0, 1.0)).collect();
        for threads in [2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for ta in [Stored::AsIs, Stored::Transposed] {
                for tb in [Stored::AsIs, Stored::Transposed] {
                    let want = naive(m, n, k, &a, ta, &b, tb);
                    let mut c = vec![1.0; m * n];
                    // A top-level product on a worker splits as one from outside the pool.
                    pool.install(|| {
                        with_products_top_level(true, || {
                            gemm(m, n, k, &a, ta, &b, tb, &mut c, Output::Accumulate)
                        })
                    });
                    for (i, (got, want)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (got - 1.0 - want).abs() < 1e-3 * (1.0 + want.abs()),
                            "{threads} threads, {ta:?} {tb:?}: C[{i}] = {got} − 1, want {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn inside_the_pool_only_a_top_level_computation_splits_its_products() {
        let big = 1 << 10;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            assert!(matches!(parallelism(big, big, big), Parallelism::None));
            with_products_top_level(true, || {
                assert!(matches!(parallelism(big, big, big), Parallelism::Rayon(2)));
                assert!(matches!(parallelism(8, 8, 8), Parallelism::None));
                with_products_top_level(false, || {
                    assert!(matches!(parallelism(big, big, big), Parallelism::None));
                });
                assert!(matches!(parallelism(big, big, big), Parallelism::Rayon(2)));
            });
            assert!(matches!(parallelism(big, big, big), Parallelism::None));
        });
    }

    #[test]
    #[should_panic(expected = "matmul: shapes [2, 3] and [2, 3]")]
    fn matmul_names_both_shapes() {
        matmul(
            &crate::tensor::zeros(&[2, 3]),
            &crate::tensor::zeros(&[2, 3]),
        );
    }
}
