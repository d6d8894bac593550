//! The matrix product for CPUs with AVX2 and FMA but no AVX-512: operands packed into
//! cache-sized blocks, and a 6 × 16 tile of `C` kept in twelve vector registers while it sums
//! over the block's depth (the layout of BLIS and GotoBLAS).
//!
//! ```text
//! C[m×n] (+)= A[m×k] · B[k×n], in blocks:
//!   for each depth block  p0 … p0+kc   (kc ≤ 384, the depth cut evenly)
//!     pack B[p0…, :] into panels of 16 columns:  panel j = B[p, 16j … 16j+15], p = p0 … p0+kc−1
//!     for each row block  i0 … i0+mc    (mc ≤ 144: the packed block of A, ≤ 216 KiB, stays in L2)
//!       pack A[i0…, p0…] into blocks of 6 rows:   block i = A[6i … 6i+5, p], p = p0 … p0+kc−1
//!       for each panel j (≤ 24 KiB, stays in L1), for each 6-row block i:
//!         tile C[6i…, 16j…] (+)= Σ_p  A[6i … 6i+5, p] ⊗ B[p, 16j … 16j+15]
//! ```
//!
//! Each step of the tile's loop loads 16 values of `B` (two registers), broadcasts 6 of `A`
//! one at a time and issues 12 fused multiply-adds: the processor's two FMA units stay busy,
//! and the tile reaches memory once per depth block. The first depth block overwrites `C`
//! (so `C` may start uninitialised) and the others add to it. Only L1 and L2 are streamed
//! from in the inner loops: each panel of `B` comes from L3 once per row block. Packing reads
//! each operand through its strides (a transposed operand costs no extra pass; contiguous
//! runs go through 8 × 8 transposes in registers). A tile cut by the edge of `C` runs a
//! kernel of its own size. On two threads the panels of `B` are packed by both, then each
//! thread takes half of the rows (or, for a short `C`, half of the panels) and packs its own
//! blocks of `A`.
//!
//! On Zen 3 (one core, n = 1024) this runs level with NumPy's OpenBLAS and ahead of the `gemm`
//! crate's AVX2 kernel, which also loses more when another program shares the caches; see
//! `bench/RESULTS.md`.

use rayon::prelude::*;
use std::arch::x86_64::*;
use std::cell::RefCell;
use std::ops::Range;
use std::thread::LocalKey;

/// Rows of the register tile (and of a packed block of `A`).
const TILE_ROWS: usize = 6;
/// Columns of the register tile (and of a packed panel of `B`): two 8-lane registers.
const TILE_COLS: usize = 16;
/// The most depth of a block: one panel of `B` is at most `DEPTH_BLOCK × 16` values (24 KiB,
/// in L1).
const DEPTH_BLOCK: usize = 384;

/// The depth of each block when `k` is cut into as few blocks as [`DEPTH_BLOCK`] allows, of
/// equal depth (k = 400 as 200 + 200, not 384 + 16: each block costs a pass over `C`).
fn depth_step(k: usize) -> usize {
    k.div_ceil(k.div_ceil(DEPTH_BLOCK))
}

/// Rows of `A` packed at once (`144 × 384` values at most, 216 KiB, in L2).
const ROW_BLOCK: usize = 144;
/// Columns of `B` packed at once (`384 × 4080` values at most, 6 MiB, in L3).
const COL_BLOCK: usize = 4080;

/// Whether this CPU runs [`gemm`]: AVX2 and FMA, and no AVX-512 (where the `gemm` crate's
/// 16-lane kernels are the faster ones).
pub(crate) fn suits_this_cpu() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && !is_x86_feature_detected!("avx512f")
}

/// A matrix read through strides: element `(i, p)` is at `ptr + i·row_step + p·col_step`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided {
    pub ptr: *const f32,
    pub row_step: usize,
    pub col_step: usize,
}

/// The output: row `i` of `C` starts at `ptr + i·row_step`, its values are contiguous.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StridedMut {
    pub ptr: *mut f32,
    pub row_step: usize,
}

// SAFETY: the pointers are only dereferenced inside `gemm`, whose contract makes the caller
// keep the memory alive and unaliased for the call; threads write disjoint parts of `C`.
unsafe impl Send for Strided {}
unsafe impl Sync for Strided {}
unsafe impl Send for StridedMut {}
unsafe impl Sync for StridedMut {}

thread_local! {
    /// This thread's packed panels of `B`, kept from one product to the next.
    static B_PANELS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// This thread's packed blocks of `A`.
    static A_BLOCKS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `C ← A·B` (or `C ← C + A·B` when `accumulate`) for `A: [m, k]`, `B: [k, n]`, split over
/// `threads` workers of the current rayon pool (1: the calling thread only).
///
/// # Safety
/// The CPU must pass [`suits_this_cpu`]. Every element the strides address for `(i, p)` in
/// `m × k` and `(p, j)` in `k × n` must be readable, and the `m × n` matrix at `c` writable and
/// aliasing neither operand. Without `accumulate`, every value of `C` is written before any is
/// read, so `c` may point at uninitialised memory.
pub(crate) unsafe fn gemm(
    (m, n, k): (usize, usize, usize),
    a: Strided,
    b: Strided,
    c: StridedMut,
    accumulate: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                // SAFETY: row `i` of `C` is writable (the caller's contract).
                unsafe { std::ptr::write_bytes(c.ptr.add(i * c.row_step), 0, n) };
            }
        }
        return;
    }
    let threads = threads.max(1);
    let col_block = COL_BLOCK.min(n);
    let depth_block = depth_step(k);
    with_scratch(
        &B_PANELS,
        col_block.div_ceil(TILE_COLS) * TILE_COLS * depth_block,
        |panels_buffer| {
            for j0 in (0..n).step_by(COL_BLOCK) {
                let cols = COL_BLOCK.min(n - j0);
                let panels = cols.div_ceil(TILE_COLS);
                for p0 in (0..k).step_by(depth_block) {
                    let depth = depth_block.min(k - p0);
                    let packed = &mut panels_buffer[..panels * TILE_COLS * depth];
                    let pack = |(j, panel): (usize, &mut [f32])| {
                        let first = j0 + j * TILE_COLS;
                        let width = TILE_COLS.min(n - first);
                        // SAFETY: these columns and depths lie inside `B` (the contract).
                        unsafe { pack_panel(b, p0, depth, first, width, panel) }
                    };
                    if threads > 1 {
                        packed
                            .par_chunks_mut(TILE_COLS * depth)
                            .enumerate()
                            .for_each(pack);
                    } else {
                        packed
                            .chunks_mut(TILE_COLS * depth)
                            .enumerate()
                            .for_each(pack);
                    }
                    let block = Block {
                        b_panels: packed,
                        first_col: j0,
                        cols,
                        first_depth: p0,
                        depth,
                        overwrite: p0 == 0 && !accumulate,
                    };
                    // SAFETY (each call): the caller's contract; the parts' rows or panels
                    // are disjoint, so no two threads write the same values of `C`.
                    if threads == 1 {
                        unsafe { block.multiply(a, c, 0..m, 0..panels) };
                    } else if m.div_ceil(TILE_ROWS) >= 2 * threads {
                        let row_tiles = m.div_ceil(TILE_ROWS);
                        (0..threads).into_par_iter().for_each(|t| {
                            let tiles = share(row_tiles, threads, t);
                            let rows = tiles.start * TILE_ROWS..(tiles.end * TILE_ROWS).min(m);
                            unsafe { block.multiply(a, c, rows, 0..panels) };
                        });
                    } else {
                        (0..threads).into_par_iter().for_each(|t| {
                            unsafe { block.multiply(a, c, 0..m, share(panels, threads, t)) };
                        });
                    }
                }
            }
        },
    );
}

/// `C ← A·B` (or `C ← C + A·B`) from operands already packed over their whole depth: `A` in
/// blocks of 6 rows (`⌈m/6⌉ · 6k` values, the layout [`pack_block`] writes) and `B` in panels
/// of 16 columns (`⌈n/16⌉ · 16k` values, as [`pack_panel`] writes), on this thread. The depth
/// is still taken in blocks, so that a panel's part stays in L1 while every block of `A` meets it.
///
/// # Safety
/// The CPU must pass [`suits_this_cpu`]; the slices hold the packed operands; the `m × n`
/// matrix at `c` is writable (and, without `accumulate`, may be uninitialised).
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn multiply_packed(
    (m, n, k): (usize, usize, usize),
    a_blocks: &[f32],
    b_panels: &[f32],
    c: StridedMut,
    accumulate: bool,
) {
    debug_assert!(a_blocks.len() >= m.div_ceil(TILE_ROWS) * TILE_ROWS * k);
    debug_assert!(b_panels.len() >= n.div_ceil(TILE_COLS) * TILE_COLS * k);
    if k == 0 {
        // SAFETY: the caller's contract.
        unsafe { gemm((m, n, 0), NO_OPERAND, NO_OPERAND, c, accumulate, 1) };
        return;
    }
    let depth_block = depth_step(k);
    for p0 in (0..k).step_by(depth_block) {
        let depth = depth_block.min(k - p0);
        let overwrite = p0 == 0 && !accumulate;
        for (j, panel) in b_panels
            .chunks_exact(TILE_COLS * k)
            .take(n.div_ceil(TILE_COLS))
            .enumerate()
        {
            let panel = &panel[p0 * TILE_COLS..][..depth * TILE_COLS];
            let first_col = j * TILE_COLS;
            let width = TILE_COLS.min(n - first_col);
            for (i, block) in a_blocks
                .chunks_exact(TILE_ROWS * k)
                .take(m.div_ceil(TILE_ROWS))
                .enumerate()
            {
                let block = &block[p0 * TILE_ROWS..][..depth * TILE_ROWS];
                let first_row = i * TILE_ROWS;
                let height = TILE_ROWS.min(m - first_row);
                // SAFETY: the tile lies inside `C`; the slices hold `depth` steps.
                unsafe {
                    let tile = c.ptr.add(first_row * c.row_step + first_col);
                    run_tile(
                        depth,
                        block,
                        panel,
                        (tile, c.row_step),
                        (height, width),
                        overwrite,
                    );
                }
            }
        }
    }
}

/// An operand never read (a product of depth 0).
const NO_OPERAND: Strided = Strided {
    ptr: std::ptr::null(),
    row_step: 0,
    col_step: 0,
};

/// Stores the `height × width` corner of a whole tile computed in `local` (row step 16) into
/// `C` at `tile`, overwriting or adding.
///
/// # Safety
/// The `height × width` values at `tile` (row step `row_step`) lie inside `C`.
unsafe fn store_part(
    local: &[f32; TILE_ROWS * TILE_COLS],
    tile: *mut f32,
    row_step: usize,
    height: usize,
    width: usize,
    overwrite: bool,
) {
    for (r, sums) in local.chunks_exact(TILE_COLS).take(height).enumerate() {
        // SAFETY: row `r` of the tile, `width` values, lies inside `C`.
        let out = unsafe { std::slice::from_raw_parts_mut(tile.add(r * row_step), width) };
        if overwrite {
            out.copy_from_slice(&sums[..width]);
        } else {
            out.iter_mut().zip(sums).for_each(|(o, s)| *o += s);
        }
    }
}

/// Part `t` of `0..count` split into `parts` nearly equal ranges.
fn share(count: usize, parts: usize, t: usize) -> Range<usize> {
    count * t / parts..count * (t + 1) / parts
}

/// One depth block of `B`, packed: columns `first_col … first_col + cols` of rows
/// `first_depth … first_depth + depth`.
struct Block<'a> {
    b_panels: &'a [f32],
    first_col: usize,
    cols: usize,
    first_depth: usize,
    depth: usize,
    /// Whether the tiles overwrite `C` (the first depth block of a product without
    /// accumulation) or add to it.
    overwrite: bool,
}

impl Block<'_> {
    /// `C[rows, panels] (+)= A[rows, depth block] · B[depth block, panels]`, on this thread.
    ///
    /// # Safety
    /// As for [`gemm`]; `rows` start at a multiple of [`TILE_ROWS`] and lie inside `m`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn multiply(&self, a: Strided, c: StridedMut, rows: Range<usize>, panels: Range<usize>) {
        let depth = self.depth;
        with_scratch(
            &A_BLOCKS,
            ROW_BLOCK.min(rows.len()).div_ceil(TILE_ROWS) * TILE_ROWS * depth,
            |blocks_buffer| {
                for i0 in rows.clone().step_by(ROW_BLOCK) {
                    let block_rows = ROW_BLOCK.min(rows.end - i0);
                    let blocks = block_rows.div_ceil(TILE_ROWS);
                    let a_blocks = &mut blocks_buffer[..blocks * TILE_ROWS * depth];
                    for (i, to) in a_blocks.chunks_exact_mut(TILE_ROWS * depth).enumerate() {
                        let first = i0 + i * TILE_ROWS;
                        let height = TILE_ROWS.min(rows.end - first);
                        // SAFETY: these rows and depths lie inside `A` (the contract).
                        unsafe { pack_block(a, first, height, self.first_depth, depth, to) };
                    }
                    // Each panel of B (in L1) meets every block of A (in L2) in turn.
                    for j in panels.clone() {
                        let first_col = j * TILE_COLS;
                        let width = TILE_COLS.min(self.cols - first_col);
                        let b_panel = &self.b_panels[j * TILE_COLS * depth..][..TILE_COLS * depth];
                        for (i, a_block) in a_blocks.chunks_exact(TILE_ROWS * depth).enumerate() {
                            let first_row = i0 + i * TILE_ROWS;
                            let height = TILE_ROWS.min(rows.end - first_row);
                            // SAFETY: the tile lies inside `C` (the contract).
                            unsafe {
                                let tile = c
                                    .ptr
                                    .add(first_row * c.row_step + self.first_col + first_col);
                                run_tile(
                                    depth,
                                    a_block,
                                    b_panel,
                                    (tile, c.row_step),
                                    (height, width),
                                    self.overwrite,
                                );
                            }
                        }
                    }
                }
            },
        );
    }
}

/// Packs rows `first … first + height` (at most 6) of `A`, depths `first_depth …
/// first_depth + depth`, into one block: the 6 values of each depth together (rows past
/// `height` repeat the last row: their sums are computed but never stored).
///
/// # Safety
/// Those elements of `A` are readable; `to` holds `6 · depth` values.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_block(
    a: Strided,
    first: usize,
    height: usize,
    first_depth: usize,
    depth: usize,
    to: &mut [f32],
) {
    debug_assert_eq!(to.len(), TILE_ROWS * depth);
    let row = |r: usize| {
        // SAFETY: row `first + min(r, height − 1)` is inside `A`.
        unsafe {
            a.ptr
                .add((first + r.min(height - 1)) * a.row_step + first_depth * a.col_step)
        }
    };
    let rows: [*const f32; TILE_ROWS] = std::array::from_fn(row);
    // Rows stored contiguously (`A` as is): 8 depths of the 6 rows at a time, as an 8 × 8
    // transpose in registers; each column of 6 is stored as 8 lanes, the 2 extra ones
    // overwritten by the next column (so the last group of 8 is left to the loop below).
    let mut done = 0;
    if a.col_step == 1 {
        while done + 8 < depth {
            // SAFETY: depths `done … done + 8 < depth` of rows inside `A`, and columns
            // `done … done + 8` of `to` plus the first 2 values of the next, which exists.
            unsafe {
                // Rows 6 and 7 repeat row 5: their lanes are overwritten by the next column.
                let columns = transpose_8x8(std::array::from_fn(|r| {
                    rows[r.min(TILE_ROWS - 1)].add(done)
                }));
                for (q, column) in columns.into_iter().enumerate() {
                    _mm256_storeu_ps(to.as_mut_ptr().add((done + q) * TILE_ROWS), column);
                }
            }
            done += 8;
        }
    }
    for (p, column) in to.chunks_exact_mut(TILE_ROWS).enumerate().skip(done) {
        for (v, start) in column.iter_mut().zip(&rows) {
            // SAFETY: depth `p < depth` of a row inside `A`.
            *v = unsafe { *start.add(p * a.col_step) };
        }
    }
}

/// Eight consecutive values of each of 8 rows, transposed: vector `q` holds value `q` of
/// every row, row `r` in lane `r` (see [`crate::ops::transpose::transpose_8x8`]).
///
/// # Safety
/// Each pointer addresses 8 readable values.
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose_8x8(rows: [*const f32; 8]) -> [__m256; 8] {
    // SAFETY: the caller's contract.
    let r: [__m256; 8] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(rows[i]) });
    crate::ops::transpose::transpose_8x8(r)
}

/// Packs columns `first … first + width` (at most 16) of `B`, depths `first_depth …
/// first_depth + depth`, into one panel: the 16 values of each depth together (columns past
/// `width` are zeros).
///
/// # Safety
/// Those elements of `B` are readable; `to` holds `16 · depth` values.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_panel(
    b: Strided,
    first_depth: usize,
    depth: usize,
    first: usize,
    width: usize,
    to: &mut [f32],
) {
    debug_assert_eq!(to.len(), TILE_COLS * depth);
    // SAFETY: element (first_depth, first) is inside `B`.
    let corner = unsafe { b.ptr.add(first_depth * b.row_step + first * b.col_step) };
    if b.col_step == 1 {
        if width == TILE_COLS {
            // Two vector loads and stores per depth (a call to `memcpy` for 64 bytes cost
            // more than the copy).
            for (p, row) in to.chunks_exact_mut(TILE_COLS).enumerate() {
                // SAFETY: 16 contiguous values of row `p < depth` of `B`; `row` holds 16.
                unsafe {
                    let from = corner.add(p * b.row_step);
                    let low = _mm256_loadu_ps(from);
                    let high = _mm256_loadu_ps(from.add(8));
                    _mm256_storeu_ps(row.as_mut_ptr(), low);
                    _mm256_storeu_ps(row.as_mut_ptr().add(8), high);
                }
            }
            return;
        }
        for (p, row) in to.chunks_exact_mut(TILE_COLS).enumerate() {
            // SAFETY: `width` contiguous values of row `p < depth` of `B`.
            let from = unsafe { std::slice::from_raw_parts(corner.add(p * b.row_step), width) };
            row[..width].copy_from_slice(from);
            row[width..].fill(0.0);
        }
        return;
    }
    // Columns stored contiguously (`B` transposed): 8 depths of 8 columns at a time,
    // transposed in registers.
    let mut done = 0;
    if b.row_step == 1 && width == TILE_COLS {
        while done + 8 <= depth {
            for half in 0..2 {
                // SAFETY: depths `done … done + 8` of 8 columns inside `B`; rows
                // `done … done + 8` of the panel.
                unsafe {
                    let columns =
                        std::array::from_fn(|q| corner.add((8 * half + q) * b.col_step + done));
                    for (p, values) in transpose_8x8(columns).into_iter().enumerate() {
                        let at = to.as_mut_ptr().add((done + p) * TILE_COLS + 8 * half);
                        _mm256_storeu_ps(at, values);
                    }
                }
            }
            done += 8;
        }
    }
    for (p, row) in to.chunks_exact_mut(TILE_COLS).enumerate().skip(done) {
        // SAFETY: depth `p < depth` of `B`'s columns `first … first + width`.
        let start = unsafe { corner.add(p * b.row_step) };
        for (q, v) in row.iter_mut().enumerate() {
            // SAFETY: column `q < width` of that row.
            *v = if q < width {
                unsafe { *start.add(q * b.col_step) }
            } else {
                0.0
            };
        }
    }
}

/// One tile of `C`, `height × width` of the 6 × 16 at `tile` (row step `row_step`), from a
/// packed block of `A` and panel of `B` of `depth` steps: a whole tile straight into `C`, a
/// tile cut by the edge of `C` computed at its size into a local tile of which only the part
/// inside `C` is stored.
///
/// # Safety
/// The CPU passes [`suits_this_cpu`]; the block and panel hold `depth` steps; the
/// `height × width` values at `tile` lie inside `C`.
#[target_feature(enable = "avx2,fma")]
unsafe fn run_tile(
    depth: usize,
    a_block: &[f32],
    b_panel: &[f32],
    (tile, row_step): (*mut f32, usize),
    (height, width): (usize, usize),
    overwrite: bool,
) {
    debug_assert!(a_block.len() >= TILE_ROWS * depth && b_panel.len() >= TILE_COLS * depth);
    let (a, b) = (a_block.as_ptr(), b_panel.as_ptr());
    // SAFETY (both arms): the caller's contract; `local` is a whole tile with row step 16.
    if height == TILE_ROWS && width == TILE_COLS {
        unsafe { tile_kernel(depth, a, b, tile, row_step, overwrite) };
    } else {
        let mut local = [0.0f32; TILE_ROWS * TILE_COLS];
        unsafe {
            edge_kernel(depth, a, b, &mut local, height, width);
            store_part(&local, tile, row_step, height, width, overwrite);
        }
    }
}

/// The 6 × 16 register tile: `C[6, 16] (+)= Σ_p a[6p … 6p+5] ⊗ b[16p … 16p+15]` over
/// `depth` steps, `C`'s rows `row_step` apart. Twelve accumulators, two registers of `B` and
/// one broadcast of `A` use 15 of the 16 vector registers.
///
/// # Safety
/// `a` holds `6 · depth` values, `b` `16 · depth`, and the tile at `c` is writable.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_kernel(
    depth: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    row_step: usize,
    overwrite: bool,
) {
    // SAFETY: the caller's contract.
    unsafe { part_tile_kernel::<TILE_ROWS, 2>(depth, a, b, c, row_step, overwrite) }
}

/// A tile cut by the edge of `C`, `height × width` of the 6 × 16: only its first `height`
/// rows and `⌈width/8⌉` registers are computed, whole, into `local` (row step 16, overwritten).
///
/// # Safety
/// As for [`tile_kernel`]; `1 ≤ height ≤ 6`, `1 ≤ width ≤ 16`.
#[target_feature(enable = "avx2,fma")]
unsafe fn edge_kernel(
    depth: usize,
    a: *const f32,
    b: *const f32,
    local: &mut [f32; TILE_ROWS * TILE_COLS],
    height: usize,
    width: usize,
) {
    let c = local.as_mut_ptr();
    macro_rules! by_height {
        ($($rows:literal)*) => {
            // SAFETY (each arm): the caller's contract; `local` is a whole tile.
            match (height, width > 8) {
                $(
                    ($rows, false) => unsafe { part_tile_kernel::<$rows, 1>(depth, a, b, c, TILE_COLS, true) },
                    ($rows, true) => unsafe { part_tile_kernel::<$rows, 2>(depth, a, b, c, TILE_COLS, true) },
                )*
                _ => unreachable!("edge tile {height} x {width}"),
            }
        };
    }
    by_height!(1 2 3 4 5 6)
}

/// The register tile's first `ROWS` rows and `VECS` registers of 8 columns (the blocks keep
/// their 6 × 16 layout). Written once for every size, so that an edge tile costs what it
/// computes.
///
/// # Safety
/// As for [`tile_kernel`].
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn part_tile_kernel<const ROWS: usize, const VECS: usize>(
    depth: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    row_step: usize,
    overwrite: bool,
) {
    // SAFETY: every pointer below stays inside the blocks and the tile (the contract).
    unsafe {
        let mut sums = [[_mm256_setzero_ps(); VECS]; ROWS];
        for r in 0..ROWS {
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * row_step) as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * row_step + 8 * VECS - 1) as *const i8);
        }
        let (mut a, mut b) = (a, b);
        let step = |a: *const f32, b: *const f32, sums: &mut [[__m256; VECS]; ROWS]| {
            let bv: [__m256; VECS] = std::array::from_fn(|v| _mm256_loadu_ps(b.add(8 * v)));
            for (r, row) in sums.iter_mut().enumerate() {
                let x = _mm256_broadcast_ss(&*a.add(r));
                for (s, bv) in row.iter_mut().zip(&bv) {
                    *s = _mm256_fmadd_ps(x, *bv, *s);
                }
            }
        };
        for _ in 0..depth / 4 {
            _mm_prefetch::<_MM_HINT_T0>(a.add(16 * TILE_ROWS) as *const i8);
            for u in 0..4 {
                step(a.add(u * TILE_ROWS), b.add(u * TILE_COLS), &mut sums);
            }
            a = a.add(4 * TILE_ROWS);
            b = b.add(4 * TILE_COLS);
        }
        for _ in 0..depth % 4 {
            step(a, b, &mut sums);
            a = a.add(TILE_ROWS);
            b = b.add(TILE_COLS);
        }
        for (r, row) in sums.into_iter().enumerate() {
            for (v, s) in row.into_iter().enumerate() {
                let out = c.add(r * row_step + 8 * v);
                if overwrite {
                    _mm256_storeu_ps(out, s);
                } else {
                    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), s));
                }
            }
        }
    }
}

/// Runs `f` on `len` values of this thread's buffer `key`, aligned to 64 bytes (a cache line:
/// the kernel's loads of `B` never straddle two), grown when needed and kept for the next
/// product. If the buffer is in use (a product called from inside another one on this
/// thread, through rayon's work stealing) a fresh one is used instead.
fn with_scratch<R>(
    key: &'static LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    const ALIGN_VALUES: usize = 64 / std::mem::size_of::<f32>();
    let aligned = |buffer: &mut Vec<f32>| -> usize {
        if buffer.len() < len + ALIGN_VALUES {
            buffer.resize(len + ALIGN_VALUES, 0.0);
        }
        buffer.as_ptr().align_offset(64)
    };
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            let start = aligned(&mut buffer);
            f(&mut buffer[start..start + len])
        }
        Err(_) => {
            let mut buffer = Vec::new();
            let start = aligned(&mut buffer);
            f(&mut buffer[start..start + len])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `C (+)= A·B` by the definition, in f64, through the same strides.
    fn reference(
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        (ar, ac): (usize, usize),
        b: &[f32],
        (br, bc): (usize, usize),
        c: &mut [f32],
        accumulate: bool,
    ) {
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| a[i * ar + p * ac] as f64 * b[p * br + j * bc] as f64)
                    .sum();
                let o = &mut c[i * n + j];
                *o = if accumulate { *o + s as f32 } else { s as f32 };
            }
        }
    }

    #[test]
    fn every_shape_stride_and_split_matches_the_definition() {
        if !suits_this_cpu() {
            return;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut r = crate::rng::Rng::new(11);
        // Edges in every direction, more than one depth block (k > 384), more than one row
        // block (m > 96), a short C (split by panels) and a tall one (split by rows).
        for &(m, n, k) in &[
            (1, 1, 1),
            (5, 17, 3),
            (3, 9, 5),
            (12, 24, 10),
            (6, 16, 4),
            (7, 33, 9),
            (13, 15, 385),
            (97, 40, 70),
            (200, 130, 800),
            (4, 300, 20),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| r.uniform_range(-1.0, 1.0)).collect();
            // Row-major and transposed storage of each operand.
            for a_steps in [(k, 1), (1, m)] {
                for b_steps in [(n, 1), (1, k)] {
                    for accumulate in [false, true] {
                        for threads in [1, 2] {
                            let start: Vec<f32> = (0..m * n).map(|i| (i % 5) as f32).collect();
                            let mut want = start.clone();
                            reference((m, n, k), &a, a_steps, &b, b_steps, &mut want, accumulate);
                            let mut got = if accumulate {
                                start
                            } else {
                                vec![f32::NAN; m * n]
                            };
                            let strided = |v: &[f32], (row_step, col_step)| Strided {
                                ptr: v.as_ptr(),
                                row_step,
                                col_step,
                            };
                            let c = StridedMut {
                                ptr: got.as_mut_ptr(),
                                row_step: n,
                            };
                            pool.install(|| unsafe {
                                gemm(
                                    (m, n, k),
                                    strided(&a, a_steps),
                                    strided(&b, b_steps),
                                    c,
                                    accumulate,
                                    threads,
                                )
                            });
                            for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                                assert!(
                                    (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                                    "{m}x{n}x{k} A {a_steps:?} B {b_steps:?} accumulate \
                                     {accumulate} threads {threads}: C[{idx}] = {g}, want {w}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
