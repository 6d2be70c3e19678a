//! Wider vector instructions for loops written in plain Rust, chosen at run time.

/// Runs `body` compiled for AVX-512 (16 f32 lanes) or else AVX2 and FMA (8 lanes) when the CPU
/// has them (detected once and cached by the standard library), else for the baseline target
/// (4 lanes on x86-64). The closure is inlined into the wider build, so its loops vectorise with
/// the wider instructions. Lane-wise loops give the same results at every width: the compiler
/// does not reorder floating-point operations, nor fuse a multiply and an add on its own.
///
/// The elementwise kernels and the optimisers' update loops run inside it.
///
/// ```
/// let x = vec![1.5f32; 1000];
/// let mut y = vec![0.0f32; 1000];
/// nabla_core::simd::with_simd(|| {
///     for (y, &x) in y.iter_mut().zip(&x) {
///         *y = x.sqrt() / 2.0;
///     }
/// });
/// assert_eq!(y[999], 1.5f32.sqrt() / 2.0);
/// ```
#[inline(always)]
pub fn with_simd<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn widest<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        #[target_feature(enable = "avx2,fma")]
        fn wide<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        let avx2_fma = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        if avx2_fma && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: all three features were just detected on this CPU.
            return unsafe { widest(body) };
        }
        if avx2_fma {
            // SAFETY: both features were just detected on this CPU.
            return unsafe { wide(body) };
        }
    }
    body()
}
