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
