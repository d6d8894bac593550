//! Vectorisable `exp`, `sigmoid` and `tanh` for the recurrent cells, whose gates call them
//! millions of times per batch.
//!
//! ```text
//! exp(x)     = 2^k · 2^f,   x·log₂e = k + f,  k = round(x·log₂e),  |f| ≤ ½
//!              2^f ≈ degree-6 polynomial (relative error < 2e-7); 2^k is put in the exponent bits
//! sigmoid(x) = 1 / (1 + exp(−x))
//! tanh(x)    = sign(x) · (1 − 2 / (exp(2|x|) + 1)),   or x − x³/3 + 2x⁵/15 − 17x⁷/315 for |x| < 0.1
//! ```
//!
//! The loops are branch-free, so the compiler vectorises them; they are compiled three times
//! (baseline, AVX2+FMA, AVX-512) and the best one for the running CPU is picked at run time.

/// `exp(x)` for `x` in about `[−87, 88]` (clamped outside), relative error below 3e-7.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let y = x * std::f32::consts::LOG2_E;
    let k = y.round_ties_even(); // one instruction, unlike round()
    let f = y - k;
    // 2^f on [-0.5, 0.5]: Taylor series of e^(f ln 2), enough terms for f32.
    let t = f * std::f32::consts::LN_2;
    let p = 1.0
        + t * (1.0
            + t * (0.5
                + t * (1.0 / 6.0 + t * (1.0 / 24.0 + t * (1.0 / 120.0 + t * (1.0 / 720.0))))));
    f32::from_bits(((k as i32 + 127) as u32) << 23) * p
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
    fn close_to_the_standard_library() {
        let mut x = -20.0f32;
        while x < 20.0 {
            let rel = |a: f32, b: f32| (a - b).abs() / b.abs().max(1e-30);
            assert!(rel(exp(x), x.exp()) < 1e-6, "exp {x}");
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
        let mut v = vec![-1.0, 0.0, 2.0];
        tanh_in_place(&mut v);
        assert!((v[2] - 2f32.tanh()).abs() < 1e-6 && v[1] == 0.0);
        sigmoid_in_place(&mut v);
        assert!((v[1] - 0.5).abs() < 1e-7);
    }
}
