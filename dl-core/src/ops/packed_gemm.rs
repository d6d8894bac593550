//! A matrix product whose right-hand matrix is packed once and multiplied many times: the
//! recurrent weights `W_hh`, which meet a new `h_{t−1}` at every step of a sequence. The
//! general [`gemm`](super::gemm::gemm) repacks its operands at every call, which for these
//! small products (`[64, 128] · [128, 512]`) is a good part of the work.
//!
//! ```text
//! C[m×n] ← A[m×k] · B[k×n]   (or C + A·B)
//! B packed once, into panels of 16 columns:   panel j = B[p, 16j … 16j+15] for p = 0 … k−1
//! A packed per product, into blocks of R rows: block i = A[Ri … Ri+R−1, p]   for p = 0 … k−1
//! each R × 16 tile of C:   Σ_p  A[Ri … Ri+R−1, p] ⊗ B[p, 16j … 16j+15]       (R = 6, or 8)
//! ```
//!
//! Both packings are padded to whole blocks, so one tile kernel serves every shape and
//! only the stores are cut to the matrix. A 6 × 16 tile's sums stay in vector registers
//! for the whole `k` loop (12 AVX2 registers); each step of that loop reads 16 values of `B`
//! and 6 of `A`, both contiguous (reading `A`'s rows in place, 2 KiB apart in the backward
//! product, measured slower than packing them). The best kernel for the running CPU is
//! picked at run time: on AVX2 + FMA without AVX-512, the register tile of
//! `ops/blocked_gemm.rs` (same layout); on AVX-512, tiles of 8 rows and two panels (8 × 32,
//! sixteen 16-lane registers: 6 × 32 made the LSTM's training 1.08–1.12× faster on Zen 4 than
//! 6 × 16, and 8 rows cut a thread's 32 rows into whole tiles, 1.08× at 2 threads); otherwise
//! this file's tile loop, compiled for the baseline.

use super::gemm::{Output, Stored};
use std::cell::RefCell;

/// Rows of `A` (and of `C`) per tile, and per packed block of `A`.
const TILE_ROWS: usize = 6;
/// Rows per tile (and per packed block of `A`) on AVX-512: 8 × 32 (sixteen 16-lane
/// accumulators) cuts the recurrent products' 32 or 64 rows into whole tiles, where tiles of 6
/// compute 36 or 66 rows.
const WIDE_TILE_ROWS: usize = 8;

/// The rows of a packed block of `A` for the running CPU's tile.
fn block_rows() -> usize {
    #[cfg(target_arch = "x86_64")]
    if !super::blocked_gemm::suits_this_cpu() && std::arch::is_x86_feature_detected!("avx512f") {
        return WIDE_TILE_ROWS;
    }
    TILE_ROWS
}
/// Columns of `B` (and of `C`) per tile and per packed panel.
const TILE_COLS: usize = 16;

/// A `[k, n]` matrix packed into panels of 16 columns for [`gemm_packed`]; the
/// buffer is kept from one packing to the next.
#[derive(Clone, Debug, Default)]
pub struct PackedMatrix {
    k: usize,
    n: usize,
    panels: Vec<f32>,
}

impl PackedMatrix {
    /// Packs `B` (`[k, n]`), which `b` holds as is (`[k, n]`) or transposed (`[n, k]`),
    /// reusing this buffer.
    ///
    /// **Panics** if `b` is shorter than the matrix.
    #[track_caller]
    pub fn pack(&mut self, b: &[f32], k: usize, n: usize, stored: Stored) {
        assert!(
            b.len() >= k * n,
            "PackedMatrix::pack: B [{k}, {n}] ({} values)",
            b.len()
        );
        self.k = k;
        self.n = n;
        self.panels.clear();
        self.panels
            .resize(n.div_ceil(TILE_COLS) * k * TILE_COLS, 0.0);
        if k == 0 {
            return;
        }
        for (j, panel) in self.panels.chunks_exact_mut(k * TILE_COLS).enumerate() {
            let first = j * TILE_COLS;
            let cols = TILE_COLS.min(n - first);
            for (p, row) in panel.chunks_exact_mut(TILE_COLS).enumerate() {
                for (q, v) in row[..cols].iter_mut().enumerate() {
                    *v = match stored {
                        Stored::AsIs => b[p * n + first + q],
                        Stored::Transposed => b[(first + q) * k + p],
                    };
                }
            }
        }
    }

    /// The packed matrix's rows `k`.
    pub fn rows(&self) -> usize {
        self.k
    }

    /// The packed matrix's columns `n`.
    pub fn cols(&self) -> usize {
        self.n
    }
}

/// `C ← A·B` or `C ← C + A·B` with `B` packed: `A` is `[m, k]` and `C` is `[m, n]`, both
/// row-major. Runs on the calling thread (its callers are already one task per thread).
///
/// **Panics** if `a` or `c` is shorter than its matrix.
///
/// ```
/// use dl_core::ops::gemm::{Output, Stored};
/// use dl_core::ops::packed_gemm::{PackedMatrix, gemm_packed};
/// let b = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut packed = PackedMatrix::default();
/// packed.pack(&b, 2, 2, Stored::AsIs);
/// let mut c = [0.0; 2];
/// gemm_packed(1, &[1.0, 1.0], &packed, &mut c, Output::Overwrite);
/// assert_eq!(c, [4.0, 6.0]);
/// ```
#[track_caller]
pub fn gemm_packed(m: usize, a: &[f32], b: &PackedMatrix, c: &mut [f32], output: Output) {
    let (k, n) = (b.k, b.n);
    assert!(
        a.len() >= m * k && c.len() >= m * n,
        "gemm_packed: A [{m}, {k}] ({} values), C [{m}, {n}] ({} values)",
        a.len(),
        c.len()
    );
    thread_local! {
        static A_BLOCKS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    A_BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        let rows = block_rows();
        match rows {
            WIDE_TILE_ROWS => pack_rows::<WIDE_TILE_ROWS>(&a[..m * k], m, k, &mut blocks),
            _ => pack_rows::<TILE_ROWS>(&a[..m * k], m, k, &mut blocks),
        }
        multiply_tiles(
            m,
            k,
            n,
            rows,
            &blocks,
            &b.panels,
            c,
            output == Output::Accumulate,
        );
    });
}

/// `A` (`[m, k]`) into blocks of `R` rows, each stored column by column (the tile loop then
/// reads a column's `R` values together). The last block is padded by repeating the last row:
/// its sums are computed but never stored.
fn pack_rows<const R: usize>(a: &[f32], m: usize, k: usize, blocks: &mut Vec<f32>) {
    // Every value is overwritten below: no need to clear the buffer first.
    blocks.resize(m.div_ceil(R) * k * R, 0.0);
    if m == 0 || k == 0 {
        return;
    }
    for (i, block) in blocks.chunks_exact_mut(k * R).enumerate() {
        let rows: [&[f32]; R] = std::array::from_fn(|r| &a[(i * R + r).min(m - 1) * k..][..k]);
        for (p, column) in block.chunks_exact_mut(R).enumerate() {
            for (to, row) in column.iter_mut().zip(&rows) {
                *to = row[p];
            }
        }
    }
}

/// Every tile of `C` from the packed blocks of `A` (of `rows` rows, [`block_rows`]) and panels
/// of `B`, with the best vector instructions of the running CPU.
#[allow(clippy::too_many_arguments)]
fn multiply_tiles(
    m: usize,
    k: usize,
    n: usize,
    rows: usize,
    a_blocks: &[f32],
    b_panels: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // AVX2 and FMA without AVX-512: the blocked product's register tile, whose blocks
        // and panels have this layout (every CPU with AVX-512 also has AVX2 and FMA).
        if super::blocked_gemm::suits_this_cpu() {
            let c = super::blocked_gemm::StridedMut {
                ptr: c.as_mut_ptr(),
                row_step: n,
            };
            // SAFETY: the CPU suits the kernel; the blocks and panels are packed whole (the
            // callers' asserts), and `c` holds the `m × n` matrix.
            return unsafe {
                super::blocked_gemm::multiply_packed((m, n, k), a_blocks, b_panels, c, accumulate)
            };
        }
        if rows == WIDE_TILE_ROWS {
            // SAFETY: `block_rows` found AVX-512 F; the blocks and panels are packed whole.
            return unsafe { tiles_avx512(m, k, n, a_blocks, b_panels, c, accumulate) };
        }
    }
    debug_assert_eq!(rows, TILE_ROWS);
    tiles::<false>(m, k, n, a_blocks, b_panels, c, accumulate)
}

/// The tile loop on AVX-512: tiles of 8 rows and two panels (32 columns), sixteen 16-lane
/// accumulators (a 6 × 16 tile's six would leave the loop's overhead and loads a larger
/// share of each step); an odd last panel alone. The blocks of `A` have 8 rows.
///
/// # Safety
/// The CPU has AVX-512 F; `k > 0`; the blocks and panels are packed whole for `m × k` and `k × n`, and
/// `c` holds `m × n` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tiles_avx512(
    m: usize,
    k: usize,
    n: usize,
    a_blocks: &[f32],
    b_panels: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    let panels = n.div_ceil(TILE_COLS);
    const R: usize = WIDE_TILE_ROWS;
    for (i, block) in a_blocks.chunks_exact(k * R).enumerate() {
        let first_row = i * R;
        let height = R.min(m - first_row);
        for j in (0..panels).step_by(2) {
            let first_col = j * TILE_COLS;
            let cols = (2 * TILE_COLS).min(n - first_col);
            let tile = c[first_row * n + first_col..].as_mut_ptr();
            let b = b_panels[j * k * TILE_COLS..].as_ptr();
            // SAFETY: the block holds `6k` values, the panels `16k` each (two unless this
            // is the last, odd one), and the tile's `height × cols` values lie inside `c`.
            unsafe {
                if j + 1 < panels {
                    wide_tile::<2>(k, block.as_ptr(), b, (tile, n), (height, cols), accumulate);
                } else {
                    wide_tile::<1>(k, block.as_ptr(), b, (tile, n), (height, cols), accumulate);
                }
            }
        }
    }
}

/// One tile of 8 rows × `16·V` columns (`V` consecutive panels of `16k` values each):
/// `C (+)= Σ_p a[8p … 8p+7] ⊗ (panel_v[16p …])_v`, only `height × cols` stored.
///
/// # Safety
/// As for [`tiles_avx512`]'s calls.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn wide_tile<const V: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
    (c, row_step): (*mut f32, usize),
    (height, cols): (usize, usize),
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract.
    unsafe {
        const R: usize = WIDE_TILE_ROWS;
        let mut sums = [[_mm512_setzero_ps(); V]; R];
        for p in 0..k {
            let bv: [__m512; V] =
                std::array::from_fn(|v| _mm512_loadu_ps(b.add((v * k + p) * TILE_COLS)));
            for (r, sums) in sums.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*a.add(p * R + r));
                for v in 0..V {
                    sums[v] = _mm512_fmadd_ps(x, bv[v], sums[v]);
                }
            }
        }
        for (r, sums) in sums.iter().enumerate().take(height) {
            for (v, &sum) in sums.iter().enumerate() {
                let width = cols.saturating_sub(v * TILE_COLS).min(TILE_COLS);
                let mask: __mmask16 = ((1u32 << width) - 1) as __mmask16;
                let at = c.add(r * row_step + v * TILE_COLS);
                let sum = if accumulate {
                    _mm512_add_ps(_mm512_maskz_loadu_ps(mask, at), sum)
                } else {
                    sum
                };
                _mm512_mask_storeu_ps(at, mask, sum);
            }
        }
    }
}

/// The tile loop (`k > 0`); `FMA` says whether `a·b + s` is one fused instruction (without it
/// `mul_add` would be a library call).
#[inline(always)]
fn tiles<const FMA: bool>(
    m: usize,
    k: usize,
    n: usize,
    a_blocks: &[f32],
    b_panels: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    for (i, block) in a_blocks.chunks_exact(k * TILE_ROWS).enumerate() {
        for (j, panel) in b_panels.chunks_exact(k * TILE_COLS).enumerate() {
            let first_col = j * TILE_COLS;
            let cols = TILE_COLS.min(n - first_col);
            let mut sums = [[0.0f32; TILE_COLS]; TILE_ROWS];
            for (a, b) in block
                .chunks_exact(TILE_ROWS)
                .zip(panel.chunks_exact(TILE_COLS))
            {
                let a: &[f32; TILE_ROWS] = a.try_into().expect("whole block");
                let b: &[f32; TILE_COLS] = b.try_into().expect("whole panel");
                for (row, &av) in sums.iter_mut().zip(a) {
                    for (s, &bv) in row.iter_mut().zip(b) {
                        *s = if FMA {
                            av.mul_add(bv, *s)
                        } else {
                            *s + av * bv
                        };
                    }
                }
            }
            let first_row = i * TILE_ROWS;
            for (r, row) in sums.iter().enumerate().take(m - first_row) {
                let out = &mut c[(first_row + r) * n + first_col..][..cols];
                if accumulate {
                    out.iter_mut().zip(row).for_each(|(o, s)| *o += s);
                } else {
                    out.copy_from_slice(&row[..cols]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gemm::gemm;

    #[test]
    fn matches_the_general_product_on_odd_shapes() {
        let mut r = crate::rng::Rng::new(3);
        for &(m, k, n) in &[
            (1, 1, 1),
            (5, 3, 17),
            (6, 16, 16),
            (7, 9, 15),
            (13, 128, 33),
            (64, 128, 512),
            (32, 512, 128),
            // More rows than one block of `A` (144): the product takes them 144 at a time.
            (301, 37, 70),
            (484, 288, 64),
            (3, 0, 4),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let b_t: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            for (stored, slice) in [(Stored::AsIs, &b), (Stored::Transposed, &b_t)] {
                let mut packed = PackedMatrix::default();
                packed.pack(slice, k, n, stored);
                assert_eq!((packed.rows(), packed.cols()), (k, n));
                for output in [Output::Overwrite, Output::Accumulate] {
                    let start: Vec<f32> = (0..m * n).map(|i| (i % 7) as f32).collect();
                    let mut want = start.clone();
                    gemm(
                        m,
                        n,
                        k,
                        &a,
                        Stored::AsIs,
                        &b,
                        Stored::AsIs,
                        &mut want,
                        output,
                    );
                    let mut got = start;
                    gemm_packed(m, &a, &packed, &mut got, output);
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                            "[{m}, {k}] · [{k}, {n}] {stored:?} {output:?}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}
