//! Matrix transposition, for products whose operands the GEMM kernel reads fastest untransposed.
//!
//! ```text
//! t[j, i] = a[i, j]        a: [rows, cols] (row-major)   t = aᵀ: [cols, rows]
//! ```
//!
//! The GEMM kernel packs a transposed operand element by element; for the small products of a
//! convolution or a recurrent layer that packing cost about as much as the multiplication, so
//! the layers transpose once, in tiles, and multiply untransposed.

/// `aᵀ` of a row-major `[rows, cols]` matrix, as a new `[cols, rows]` matrix.
///
/// ```
/// use dl_core::ops::transpose::transpose;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [[1, 2, 3], [4, 5, 6]]
/// assert_eq!(transpose(&a, 2, 3), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
pub fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; rows * cols];
    transpose_into(a, rows, cols, &mut t);
    t
}

/// Writes `aᵀ` (`[cols, rows]`) of a row-major `[rows, cols]` matrix `a` into `t`, in square
/// tiles so that both the reads and the writes stay within a few cache lines.
///
/// **Panics** if `a` or `t` is shorter than `rows · cols`.
#[track_caller]
pub fn transpose_into(a: &[f32], rows: usize, cols: usize, t: &mut [f32]) {
    assert!(
        a.len() >= rows * cols && t.len() >= rows * cols,
        "transpose_into: [{rows}, {cols}] from {} values into {}",
        a.len(),
        t.len()
    );
    const TILE: usize = 16;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    t[c * rows + r] = a[r * cols + c];
                }
            }
        }
    }
}

/// The transpose of 8 rows of 8 values held in registers: vector `q` of the result holds value
/// `q` of every row, row `r` in lane `r`. Pairs of rows are interleaved, then pairs of pairs,
/// then the two 128-bit halves swapped.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) fn transpose_8x8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    // Pairs of rows interleaved, then pairs of pairs, then the two 128-bit halves.
    let (t0, t1) = (
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
    );
    let (t2, t3) = (
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
    );
    let (t4, t5) = (
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
    );
    let (t6, t7) = (
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    );
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposing_twice_gives_back_the_matrix_across_tile_edges() {
        let (rows, cols) = (37, 19);
        let a: Vec<f32> = (0..rows * cols).map(|v| v as f32).collect();
        let t = transpose(&a, rows, cols);
        assert_eq!(t[5 * rows + 30], a[30 * cols + 5]);
        assert_eq!(transpose(&t, cols, rows), a);
    }
}
