//! `exp`, `sigmoid` and `tanh` for the recurrent cells' gates, in operations that every lane
//! of a vector register can do: no conversion from float to integer, whose saturating Rust
//! semantics (`as i32`) the compiler splits into one scalar instruction per lane.
//!
//! ```text
//! exp(x) = 2^k · 2^f,   y = x·log₂e,  k = round(y),  f = y − k,  |f| ≤ ½
//!   round:  r = y + 1.5·2²³ rounds y to an integer in the float's low mantissa bits, k = r − 1.5·2²³
//!   2^k:    the bits of r are 0x4B40_0000 + k; shifted left by 23 after adding 127 they are
//!           exactly the float 2^k (the 0x4B40_0000 part falls off the top)
//!   2^f ≈ degree-6 Taylor polynomial of e^(f ln 2) (relative error < 2e-7)
//! sigmoid(x) = 1 / (1 + exp(−x))
//! tanh(x)    = sign(x) · (1 − 2 / (exp(2|x|) + 1)),   or x − x³/3 + 2x⁵/15 − 17x⁷/315 for |x| < 0.1
//! ```
//!
//! The same functions as [`fast_math`](super::fast_math)'s, to the same accuracy; call them
//! inside a loop compiled for the running CPU's vector instructions
//! ([`with_best_simd`](super::fast_math::with_best_simd)).

/// `exp(x)` for `x` in about `[−87, 88]` (clamped outside), relative error below 1e-6 for
/// `|x| < 20` (beyond, the rounding of `x·log₂e` to `f32` adds up to 6e-6).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    /// Adding it rounds any |y| < 2²² to an integer (ties to even), kept in the low bits.
    const ROUNDER: f32 = 12_582_912.0; // 1.5 · 2²³
    let x = x.clamp(-87.0, 88.0);
    let y = x * std::f32::consts::LOG2_E;
    let r = y + ROUNDER;
    let k = r - ROUNDER;
    let t = (y - k) * std::f32::consts::LN_2;
    let p = 1.0
        + t * (1.0
            + t * (0.5
                + t * (1.0 / 6.0 + t * (1.0 / 24.0 + t * (1.0 / 120.0 + t * (1.0 / 720.0))))));
    // k ∈ [−126, 127] after the clamp, so k + 127 is a valid biased exponent.
    let two_to_k = f32::from_bits(r.to_bits().wrapping_add(127) << 23);
    two_to_k * p
}

/// The logistic function `1 / (1 + e^(−x))`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The hyperbolic tangent.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    // Near 0 the subtraction above cancels: use the odd Taylor series there (error < 1e-11).
    let a2 = a * a;
    let series = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))));
    let t = if a < 0.1 { series } else { t };
    t.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_to_the_standard_library_and_to_fast_math() {
        let mut x = -100.0f32;
        while x < 100.0 {
            let rel = |a: f32, b: f32| (a - b).abs() / b.abs().max(1e-30);
            // Beyond |x| ≈ 20 the rounding of x·log₂e to f32 dominates (as in fast_math).
            let tolerance = if x.abs() < 20.0 { 1e-6 } else { 1e-5 };
            if x.abs() < 87.0 {
                assert!(rel(exp(x), x.exp()) < tolerance, "exp {x}");
            }
            assert!(
                rel(exp(x), super::super::fast_math::exp(x)) < 1e-6,
                "exp vs fast_math {x}"
            );
            assert!(
                (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6,
                "sigmoid {x}"
            );
            assert!(
                (tanh(x) - x.tanh()).abs() <= 1e-6 * (1.0 + x.tanh().abs()),
                "tanh {x}"
            );
            assert!(
                rel(tanh(x), x.tanh()) < 1e-5 || x.abs() < 1e-6,
                "tanh rel {x}"
            );
            x += 0.0137;
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_finite());
        assert_eq!(tanh(0.0), 0.0);
    }
}
