//! The recurrent products of a fused RNN sequence (`h_{t−1}·W_hhᵀ` forward, `dG_t·W_hh`
//! backward): many small products, one per step and thread, all with the same right operand.
//! A general GEMM lays that operand out again in every product; here it is laid out once per
//! sequence ([`PackedMatrix::pack`]) in the panels the micro-kernel reads, and every product
//! reads those panels.
//!
//! The micro-kernel keeps an `MR`×`NR` block of the output in vector registers (6 rows of four
//! AVX-512 vectors or two AVX2 ones: per step of the inner dimension, one load per vector of the
//! panel, one broadcast per row of the left operand and one fused multiply-add per
//! accumulator), chosen at run time ([`Isa::detected`]). On other CPUs the products go through
//! [`gemm_into`]. The left operand is laid out per product (`MR` rows at a time, `k` groups of
//! `MR` values), a small part of the work beside the `n` multiply-adds each value takes part in.

use super::matmul::{Strided, gemm_into};
use crate::dtype::Float;

/// The instruction sets the micro-kernel is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX-512F (32 vector registers of 64 bytes).
    Avx512,
    /// AVX2 and FMA (16 vector registers of 32 bytes).
    Avx2,
    /// Neither: the products run through [`gemm_into`].
    Generic,
}

impl Isa {
    /// The widest this CPU has (detected once and cached by the standard library).
    pub(crate) fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2_fma = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            if avx2_fma && std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if avx2_fma {
                return Isa::Avx2;
            }
        }
        Isa::Generic
    }

    /// Every instruction set this CPU can run, the widest first.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        match Isa::detected() {
            Isa::Avx512 => vec![Isa::Avx512, Isa::Avx2, Isa::Generic],
            Isa::Avx2 => vec![Isa::Avx2, Isa::Generic],
            Isa::Generic => vec![Isa::Generic],
        }
    }
}

/// A micro-kernel: from `a`, `k` groups of `MR` values (`MR` rows of the left operand, one
/// group per step of the inner dimension) and a panel of `k` rows of `NR` values, writes the
/// `MR`×`NR` block `Σ_p a[p, r]·panel[p, c]` row-major into `out`.
///
/// # Safety
/// The CPU must have the instruction set the kernel was written for.
type MicroKernel<T> = unsafe fn(a: &[T], panel: &[T], out: &mut [T]);

/// An element type with micro-kernels.
pub(crate) trait Recurrent: Float {
    /// The micro-kernel for `isa` and its block `(MR, NR)`; `None` for [`Isa::Generic`].
    fn micro_kernel(isa: Isa) -> Option<(usize, usize, MicroKernel<Self>)>;
}

/// Writes a micro-kernel (see [`MicroKernel`]) on one vector type: `$mr` rows of `$nv` vectors
/// of `$lanes` values.
#[cfg(target_arch = "x86_64")]
macro_rules! micro_kernel {
    ($name:ident, $t:ty, $features:literal, $mr:literal, $nv:literal, $lanes:literal,
     $zero:ident, $load:ident, $store:ident, $broadcast:ident, $fmadd:ident) => {
        #[target_feature(enable = $features)]
        pub(super) fn $name(a: &[$t], panel: &[$t], out: &mut [$t]) {
            const MR: usize = $mr;
            const NR: usize = $nv * $lanes;
            let k = a.len() / MR;
            assert!(panel.len() >= k * NR && out.len() >= MR * NR);
            let (a, b) = (a.as_ptr(), panel.as_ptr());
            let mut acc = [[$zero(); $nv]; MR];
            for p in 0..k {
                // SAFETY: p < k, so the reads stay inside `panel` (at least k·NR values,
                // asserted) and `a` (k·MR values at least).
                let b: [_; $nv] =
                    std::array::from_fn(|v| unsafe { $load(b.add(p * NR + v * $lanes)) });
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x = $broadcast(unsafe { *a.add(p * MR + r) });
                    for (acc, &b) in acc.iter_mut().zip(&b) {
                        *acc = $fmadd(x, b, *acc);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                for (v, &acc) in acc.iter().enumerate() {
                    // SAFETY: r·NR + (v + 1)·lanes ≤ MR·NR values of `out` (asserted).
                    unsafe { $store(out.as_mut_ptr().add(r * NR + v * $lanes), acc) };
                }
            }
        }
    };
}

// The AVX-512 intrinsics are stable since Rust 1.89, as is the `avx512f` target feature that
// `crate::simd::with_simd` already enables: the workspace needs 1.89 for either.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::incompatible_msrv)]
mod x86 {
    use std::arch::x86_64::*;

    // AVX-512: 32 registers, 24 accumulators (6 rows of four vectors), 4 loads and 6
    // broadcasts per 24 multiply-adds.
    micro_kernel!(
        f32_avx512,
        f32,
        "avx512f",
        6,
        4,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps
    );
    micro_kernel!(
        f64_avx512,
        f64,
        "avx512f",
        6,
        4,
        8,
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd
    );
    // AVX2: 16 registers, 12 accumulators (6 rows of two vectors).
    micro_kernel!(
        f32_avx2,
        f32,
        "avx2,fma",
        6,
        2,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps
    );
    micro_kernel!(
        f64_avx2,
        f64,
        "avx2,fma",
        6,
        2,
        4,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd
    );
}

impl Recurrent for f32 {
    fn micro_kernel(isa: Isa) -> Option<(usize, usize, MicroKernel<f32>)> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some((6, 64, x86::f32_avx512)),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some((6, 16, x86::f32_avx2)),
            _ => None,
        }
    }
}

impl Recurrent for f64 {
    fn micro_kernel(isa: Isa) -> Option<(usize, usize, MicroKernel<f64>)> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some((6, 32, x86::f64_avx512)),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some((6, 8, x86::f64_avx2)),
            _ => None,
        }
    }
}

/// A k×n matrix laid out for the micro-kernel: panels of `NR` columns, panel `q` holding, for
/// every row `p` of the k, the values of columns `q·NR..q·NR + NR` side by side (zeros past
/// column n). Without a micro-kernel it keeps the matrix as given.
pub(crate) struct PackedMatrix<'a, T: Recurrent> {
    panels: Vec<T>,
    plain: Strided<'a, T>,
    k: usize,
    n: usize,
    kernel: Option<(usize, usize, MicroKernel<T>)>,
}

impl<'a, T: Recurrent> PackedMatrix<'a, T> {
    /// Lays out the k×n matrix `b` for products on `isa`, which the CPU must have.
    ///
    /// Panics when `b` reaches outside its slice, or the CPU lacks `isa`.
    pub(crate) fn pack(b: Strided<'a, T>, (k, n): (usize, usize), isa: Isa) -> Self {
        assert!(
            b.fits(k, n),
            "recurrent product: a matrix reaches outside its buffer"
        );
        assert!(
            isa == Isa::Generic || Isa::detected() == isa || Isa::detected() == Isa::Avx512,
            "recurrent product: this CPU lacks {isa:?}"
        );
        let kernel = T::micro_kernel(isa);
        let mut panels = Vec::new();
        if let Some((_, nr, _)) = kernel {
            panels = vec![T::default(); n.div_ceil(nr) * nr * k];
            for (q, panel) in panels.chunks_exact_mut(nr * k.max(1)).enumerate() {
                let columns = q * nr..n.min(q * nr + nr);
                for (p, row) in panel.chunks_exact_mut(nr).enumerate() {
                    for (v, j) in row.iter_mut().zip(columns.clone()) {
                        *v = b.data[p * b.row + j * b.col];
                    }
                }
            }
        }
        PackedMatrix {
            panels,
            plain: b,
            k,
            n,
            kernel,
        }
    }

    /// `dst = a·b` for the m×k matrix `a`, on the calling thread; `dst` is m×n with rows
    /// `dst_row` elements apart.
    ///
    /// Panics when `a` or `dst` reach outside their slices.
    pub(crate) fn product(&self, dst: &mut [T], dst_row: usize, a: Strided<'_, T>, m: usize) {
        let (k, n) = (self.k, self.n);
        let out = Strided {
            data: &*dst,
            row: dst_row,
            col: 1,
        };
        assert!(
            out.fits(m, n) && a.fits(m, k),
            "recurrent product: a matrix reaches outside its buffer"
        );
        let Some((mr, nr, kernel)) = self.kernel.filter(|_| k > 0) else {
            return gemm_into(dst, dst_row, a, self.plain, (m, k, n), false);
        };
        // `a` laid out as blocks of MR rows, each as k groups of MR values (zeros for rows
        // past m); then each panel, held in the first-level cache, meets every block in turn.
        let blocks = m.div_ceil(mr);
        let mut a_blocks = vec![T::default(); blocks * mr * k];
        for (b, a_block) in a_blocks.chunks_exact_mut(mr * k).enumerate() {
            let rows = mr.min(m - b * mr);
            for (r, row) in a.data[b * mr * a.row..]
                .chunks(a.row.max(1))
                .take(rows)
                .enumerate()
            {
                for (p, v) in a_block.iter_mut().skip(r).step_by(mr).enumerate() {
                    *v = row[p * a.col];
                }
            }
        }
        let mut block = vec![T::default(); mr * nr];
        for (q, panel) in self.panels.chunks_exact(nr * k).enumerate() {
            let (j0, cols) = (q * nr, nr.min(n - q * nr));
            for (b, a_block) in a_blocks.chunks_exact(mr * k).enumerate() {
                // SAFETY: `pack` built this kernel only for an instruction set the CPU has.
                unsafe { kernel(a_block, panel, &mut block) };
                let rows = mr.min(m - b * mr);
                for (r, values) in block.chunks_exact(nr).take(rows).enumerate() {
                    let at = (b * mr + r) * dst_row + j0;
                    dst[at..at + cols].copy_from_slice(&values[..cols]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a·b` one dot product at a time, in f64.
    fn naive(a: &[f64], b: &[f64], (m, k, n): (usize, usize, usize)) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    /// Deterministic values in [−1, 1).
    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    /// Checks the product on every instruction set this CPU has, with `b` given transposed
    /// (as `W_hh` is read forward) and as it is, into a destination wider than the product.
    fn check<T: Recurrent>(m: usize, k: usize, n: usize, tolerance: f64) {
        let (a64, b64) = (values(m * k, 1), values(k * n, 2));
        let expected = naive(&a64, &b64, (m, k, n));
        let a: Vec<T> = a64.iter().map(|&v| T::from(v).unwrap()).collect();
        let b: Vec<T> = b64.iter().map(|&v| T::from(v).unwrap()).collect();
        let mut bt = vec![T::default(); k * n];
        for p in 0..k {
            for j in 0..n {
                bt[j * k + p] = b[p * n + j];
            }
        }
        let a = Strided {
            data: &a[..],
            row: k,
            col: 1,
        };
        let given = [
            Strided {
                data: &b[..],
                row: n,
                col: 1,
            },
            Strided {
                data: &bt[..],
                row: 1,
                col: k,
            },
        ];
        for isa in Isa::available() {
            for b in given {
                let packed = PackedMatrix::pack(b, (k, n), isa);
                let row = n + 3;
                let sentinel = T::from(7.0).unwrap();
                let mut dst = vec![sentinel; m * row];
                packed.product(&mut dst, row, a, m);
                for i in 0..m {
                    for j in 0..row {
                        let got = dst[i * row + j].to_f64().unwrap();
                        if j >= n {
                            assert_eq!(got, 7.0, "{isa:?} wrote past column {n} of row {i}");
                            continue;
                        }
                        let want = expected[i * n + j];
                        assert!(
                            (got - want).abs() <= tolerance * (1.0 + want.abs()),
                            "{isa:?} m={m} k={k} n={n}: ({i}, {j}) is {got}, expected {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_product_matches_a_naive_one_at_odd_sizes_on_every_instruction_set() {
        for m in [1, 3, 127, 129] {
            for h in [1, 5, 128] {
                // Forward: [m, H]·[H, 4H]; backward: [m, 4H]·[4H, H].
                check::<f32>(m, h, 4 * h, 1e-5);
                check::<f32>(m, 4 * h, h, 1e-5);
                check::<f64>(m, h, 4 * h, 1e-13);
                check::<f64>(m, 4 * h, h, 1e-13);
            }
        }
    }

    #[test]
    fn an_empty_product_writes_nothing_or_zeros() {
        for isa in Isa::available() {
            let b = [1.0f32; 4];
            let b = Strided {
                data: &b[..],
                row: 4,
                col: 1,
            };
            let packed = PackedMatrix::pack(b, (0, 4), isa);
            let mut dst = vec![3.0f32; 8];
            packed.product(
                &mut dst,
                4,
                Strided {
                    data: &[],
                    row: 0,
                    col: 1,
                },
                2,
            );
            assert_eq!(dst, [0.0; 8], "{isa:?}: k = 0 gives zeros");
            packed.product(
                &mut dst[..0],
                4,
                Strided {
                    data: &[],
                    row: 0,
                    col: 1,
                },
                0,
            );
        }
    }
}
