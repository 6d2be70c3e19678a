//! The machine's f32 FMA peak, the ceiling matmul figures are compared with: a loop of
//! independent fused multiply-adds on registers only (no memory traffic), timed on one thread
//! (per core) and on every thread of the pool (total), for AVX2+FMA (8 lanes) and AVX-512
//! (16 lanes) when the CPU has them.

use super::report::{FmaPeak, PeakFigure};
use std::time::Instant;

/// Independent accumulator registers: more than FMA latency (4 cycles) times FMA ports (2), so
/// no FMA waits for the one before it.
const ACCUMULATORS: usize = 12;

/// Loop rounds per thread and timed run: 10-20 ms. Short runs, many of them, so that the fastest
/// has most likely run undisturbed on a machine shared with other work.
const ROUNDS: u64 = 10_000_000;

/// Timed runs per figure (after one warm-up run); the fastest counts.
const RUNS: usize = 25;

/// GFLOP/s of `kernel` (one FMA per accumulator and round on `lanes`-wide registers) running on
/// `threads` threads at once.
fn gflops(threads: usize, lanes: usize, kernel: fn(u64)) -> f64 {
    let flops = (threads * ACCUMULATORS * lanes * 2) as f64 * ROUNDS as f64;
    let mut best = f64::INFINITY;
    for run in 0..=RUNS {
        let start = Instant::now();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(move || kernel(ROUNDS)))
                .collect();
            for handle in handles {
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        if run > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    flops / best / 1e9
}

fn figure(threads: usize, lanes: usize, kernel: fn(u64)) -> PeakFigure {
    PeakFigure {
        gflops_per_core: gflops(1, lanes, kernel),
        gflops_total: gflops(threads, lanes, kernel),
    }
}

/// The peaks with the pool's thread count as "all threads".
pub fn fma_peak() -> FmaPeak {
    let threads = nabla_core::num_threads();
    #[cfg(target_arch = "x86_64")]
    {
        let avx2_fma = (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
            // SAFETY: the CPU has AVX2 and FMA, checked just before.
            .then(|| figure(threads, 8, |r| unsafe { x86::avx2_fma(r) }));
        let avx512_fma = is_x86_feature_detected!("avx512f")
            // SAFETY: the CPU has AVX-512F, checked just before.
            .then(|| figure(threads, 16, |r| unsafe { x86::avx512_fma(r) }));
        FmaPeak {
            threads,
            avx2_fma,
            avx512_fma,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    FmaPeak {
        threads,
        avx2_fma: None,
        avx512_fma: None,
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;

    // Written in assembly so that the loop is exactly twelve FMAs on twelve accumulator
    // registers, whatever the compiler would make of it. Each accumulator iterates
    // a <- b*a + c with b = 0.999999 and c = 1e-6, which converges to c/(1 - b) = 1 from zero: no
    // overflow and no denormals, whose slow path would understate the peak.
    macro_rules! fma_kernel {
        ($(#[$doc:meta])* $name:ident, $r:literal) => {
            $(#[$doc])*
            ///
            /// # Safety
            ///
            /// The CPU must support the instructions.
            pub unsafe fn $name(rounds: u64) {
                // SAFETY: the caller guarantees the instructions exist; the kernel touches only
                // registers, all of them declared clobbered or as operands.
                unsafe {
                    asm!(
                        "vxorps xmm0, xmm0, xmm0",
                        "vxorps xmm1, xmm1, xmm1",
                        "vxorps xmm2, xmm2, xmm2",
                        "vxorps xmm3, xmm3, xmm3",
                        "vxorps xmm4, xmm4, xmm4",
                        "vxorps xmm5, xmm5, xmm5",
                        "vxorps xmm6, xmm6, xmm6",
                        "vxorps xmm7, xmm7, xmm7",
                        "vxorps xmm8, xmm8, xmm8",
                        "vxorps xmm9, xmm9, xmm9",
                        "vxorps xmm10, xmm10, xmm10",
                        "vxorps xmm11, xmm11, xmm11",
                        concat!("vbroadcastss ", $r, "12, xmm14"),
                        concat!("vbroadcastss ", $r, "13, xmm15"),
                        "2:",
                        concat!("vfmadd213ps ", $r, "0, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "1, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "2, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "3, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "4, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "5, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "6, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "7, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "8, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "9, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "10, ", $r, "12, ", $r, "13"),
                        concat!("vfmadd213ps ", $r, "11, ", $r, "12, ", $r, "13"),
                        "dec rax",
                        "jnz 2b",
                        inout("rax") rounds.max(1) => _,
                        in("xmm14") 0.999_999f32,
                        in("xmm15") 1e-6f32,
                        clobber_abi("C"),
                        options(nomem, nostack),
                    );
                }
            }
        };
    }

    fma_kernel!(
        /// `rounds` rounds of 12 AVX2+FMA fused multiply-adds on 8 f32 lanes.
        avx2_fma, "ymm"
    );
    fma_kernel!(
        /// `rounds` rounds of 12 AVX-512F fused multiply-adds on 16 f32 lanes.
        avx512_fma, "zmm"
    );
}
