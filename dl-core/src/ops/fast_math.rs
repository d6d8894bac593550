//! Vectorisable `exp`, `sigmoid` and `tanh` for the recurrent cells, whose gates call them
//! millions of times per batch, and sums, dot products and maxima in vector lanes (for the
//! rows of attention and layer normalisation).
//!
//! ```text
//! exp(x)     = 2^k · 2^f,   y = x·log₂e,  k = round(y),  f = y − k,  |f| ≤ ½
//!   round:   r = y + 1.5·2²³ rounds y to an integer in the float's low mantissa bits, k = r − 1.5·2²³
//!   2^k:     the bits of r are 0x4B40_0000 + k; shifted left by 23 after adding 127 they are
//!            exactly the float 2^k (the 0x4B40_0000 part falls off the top)
//!   2^f ≈ degree-6 Taylor polynomial of e^(f ln 2) (relative error < 2e-7)
//! sigmoid(x) = 1 / (1 + exp(−x))
//! tanh(x)    ≈ x · p(x²) / q(x²)   on [−9, 9] (±1 to f32 beyond), p of degree 6, q of degree 3
//! ```
//!
//! The rational approximation of `tanh` is Eigen's (`generic_fast_tanh_float`), accurate to a
//! few units in the last place: no `exp`, and one division.
//!
//! The loops are branch-free, so the compiler vectorises them; they are compiled three times
//! (baseline, AVX2+FMA, AVX-512) and the best one for the running CPU is picked at run time.
//! `exp` uses only operations every lane of a vector register can do: no conversion from float
//! to integer, whose saturating Rust semantics (`as i32`) the compiler splits into one scalar
//! instruction per lane.

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
    // 2^f on [-0.5, 0.5]: Taylor series of e^(f ln 2), enough terms for f32.
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

/// The hyperbolic tangent, `x · p(x²) / q(x²)` with `x` clamped to `[−9, 9]` (where `tanh` is
/// already ±1 in `f32`): the numerator's odd and the denominator's even coefficients are
/// Eigen's, accurate to a few units in the last place.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const BETA: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let x = x.clamp(-9.0, 9.0);
    let x2 = x * x;
    // Horner's rule; plain products and sums (`mul_add` is a library call without FMA).
    let p = ALPHA.iter().rev().fold(0.0, |acc, &a| acc * x2 + a);
    let q = BETA.iter().rev().fold(0.0, |acc, &b| acc * x2 + b);
    x * p / q
}

/// Lanes of the partial sums below: a float sum is not reordered by the compiler, so the
/// vector lanes are written out (16 = one AVX-512 register of `f32`).
const LANES: usize = 16;

/// `Σ f(x)` over `values`, in 16 partial sums (one AVX-512 register) the compiler can vectorise.
#[inline(always)]
pub fn sum_map(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    let mut acc = [0.0f32; LANES];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ aᵢ bᵢ` over the common length, in 16 partial sums.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (a[..n].chunks_exact(LANES), b[..n].chunks_exact(LANES));
    let tail: f32 = a
        .remainder()
        .iter()
        .zip(b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.zip(b) {
        for ((a, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *a += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The largest value (`−∞` for none), in 16 partial maxima.
#[inline(always)]
pub fn max(values: &[f32]) -> f32 {
    let chunks = values.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    let mut acc = [f32::NEG_INFINITY; LANES];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter().fold(tail, |m, &v| if v > m { v } else { m })
}

/// Runs `f` compiled for the best vector instructions of the running CPU (AVX-512, else
/// AVX2+FMA, else the baseline): `f` is inlined into a copy of this function built for each.
#[inline(always)]
pub fn with_best_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the features the function was compiled for.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Defines a function whose body is compiled three times (AVX-512, AVX2+FMA, the baseline) and
/// runs the best one for the running CPU: for row kernels (a softmax, a normalisation) whose
/// loops would not be vectorised inside a [`with_best_simd`] closure, which the compiler may
/// keep out of line, compiled for the baseline.
macro_rules! best_simd_fn {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features the function was compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use best_simd_fn;

macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident, $f:expr) => {
        $(#[$doc])*
        pub fn $name(values: &mut [f32]) {
            #[inline(always)]
            fn body(values: &mut [f32]) {
                for v in values.iter_mut() {
                    *v = $f(*v);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512(values: &mut [f32]) {
                    body(values)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2(values: &mut [f32]) {
                    body(values)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features the function was compiled for.
                    return unsafe { avx512(values) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { avx2(values) };
                }
            }
            body(values)
        }
    };
}

dispatch!(
    /// Applies [`sigmoid`] to every value in place.
    sigmoid_in_place,
    sigmoid
);
dispatch!(
    /// Applies [`tanh`] to every value in place.
    tanh_in_place,
    tanh
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sums_agree_with_plain_loops() {
        for n in [0, 1, 15, 16, 17, 100] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 3) % 5) as f32 * 0.5).collect();
            let plain_dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain_dot).abs() < 1e-4, "dot, n = {n}");
            let plain_squares: f32 = a.iter().map(|v| v * v).sum();
            assert!(
                (sum_map(&a, |v| v * v) - plain_squares).abs() < 1e-3,
                "sum_map, n = {n}"
            );
            let plain_max = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max(&a), plain_max, "max, n = {n}");
        }
    }

    #[test]
    fn close_to_the_standard_library() {
        let mut x = -100.0f32;
        while x < 100.0 {
            let rel = |a: f32, b: f32| (a - b).abs() / b.abs().max(1e-30);
            // Beyond |x| ≈ 20 the rounding of x·log₂e to f32 dominates.
            let tolerance = if x.abs() < 20.0 { 1e-6 } else { 1e-5 };
            if x.abs() < 87.0 {
                assert!(rel(exp(x), x.exp()) < tolerance, "exp {x}");
            }
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
        let mut v = vec![-1.0, 0.0, 2.0];
        tanh_in_place(&mut v);
        assert!((v[2] - 2f32.tanh()).abs() < 1e-6 && v[1] == 0.0);
        sigmoid_in_place(&mut v);
        assert!((v[1] - 0.5).abs() < 1e-7);
    }
}
