//! Branch-free f32 exp, tanh and ln (Cephes' `expf`, `tanhf` and `logf` polynomials), erf and
//! GELU (Eigen's rational erf) that the compiler vectorises, unlike the C library's calls.
//! Each polynomial step is a fused multiply-add (`mul_add`): an FMA instruction in the
//! vectorised builds, the C library's exact `fmaf` in the baseline one, so every build gives
//! the same bits. Maximum errors measured against f64 references over every 7th f32 of
//! (−87, 88) for exp, (−20, 20) for tanh and every 7th positive f32 for ln: exp 0.98 ulp, tanh
//! 1.31 ulp, ln 0.82 ulp (the tests check a sparser sample against 1, 1.5 and 1 ulp); erf and
//! GELU's are stated at [`erf_f32`] and [`gelu_f32`]. f64 keeps the C library: gradient checks
//! need its accuracy more than speed.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Beyond these, exp overflows to infinity or underflows to zero.
const EXP_MAX: f32 = 88.722_83;
const EXP_MIN: f32 = -87.336_55;

/// eˣ: x = k·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by a degree-7 polynomial, 2ᵏ by the exponent bits.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let clamped = x.clamp(EXP_MIN, EXP_MAX);
    // Round to nearest by adding and removing 1.5·2²³ (no call to a rounding function, which
    // baseline x86-64 lacks as an instruction and which would stop vectorisation).
    const ROUNDER: f32 = 12_582_912.0;
    let shifted = clamped * LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    let r = clamped - k * LN2_HI - k * LN2_LO;
    let p = 1.987_569_1e-4f32;
    let p = p.mul_add(r, 1.398_2e-3);
    let p = p.mul_add(r, 8.333_452e-3);
    let p = p.mul_add(r, 4.166_579_6e-2);
    let p = p.mul_add(r, 1.666_666_5e-1);
    let p = p.mul_add(r, 0.5);
    let er = p * r * r + r + 1.0;
    // k as an integer, read from the low bits of `shifted` (1.5·2²³ + k): `k as i32` would
    // be a saturating conversion, which the compiler does one lane at a time.
    let k_int = shifted.to_bits().wrapping_sub(ROUNDER.to_bits());
    let scale = f32::from_bits(k_int.wrapping_add(127) << 23);
    // Independent selects, not one branch chain, so the loop vectorises. NaN needs none: it
    // survives the clamp and the polynomial.
    let y = er * scale;
    let y = if x > EXP_MAX { f32::INFINITY } else { y };
    if x < EXP_MIN { 0.0 } else { y }
}

/// tanh: an odd polynomial near zero (where 1 − 2/(e²ˣ + 1) would cancel), that form beyond.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = -5.704_988_7e-3f32;
    let p = p.mul_add(z, 2.063_909e-2);
    let p = p.mul_add(z, -5.373_971_6e-2);
    let p = p.mul_add(z, 1.333_144_2e-1);
    let p = p.mul_add(z, -3.333_328e-1);
    let small = x + x * z * p;
    let large = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
    if a < 0.625 { small } else { large.copysign(x) }
}

/// ln x: x = m·2ᵉ with m in [√½, √2), ln(m) by Cephes' degree-9 polynomial in m − 1, e·ln 2 in
/// two parts. Subnormals are scaled into the normal range first; every special case is a select.
#[inline(always)]
pub(crate) fn ln_f32(x: f32) -> f32 {
    const TWO_POW_23: f32 = 8_388_608.0;
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_POW_23 } else { x };
    let bits = scaled.to_bits();
    // The biased exponent less 126 puts the mantissa in [0.5, 1).
    let e = ((bits >> 23) & 0xff) as i32 - 126 - if subnormal { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let low = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = (if low { e - 1 } else { e }) as f32;
    let r = if low { m + m - 1.0 } else { m - 1.0 };
    let z = r * r;
    let p = 7.037_683_6e-2f32;
    let p = p.mul_add(r, -1.151_461_e-1);
    let p = p.mul_add(r, 1.167_699_9e-1);
    let p = p.mul_add(r, -1.242_014_1e-1);
    let p = p.mul_add(r, 1.424_932_3e-1);
    let p = p.mul_add(r, -1.666_805_8e-1);
    let p = p.mul_add(r, 2.000_071_5e-1);
    let p = p.mul_add(r, -2.499_999_4e-1);
    let p = p.mul_add(r, 3.333_333e-1);
    let y = p * r * z + e * LN2_LO - 0.5 * z;
    let y = r + y + e * LN2_HI;
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    // Negative numbers and NaN (which fails every comparison).
    if x >= 0.0 { y } else { f32::NAN }
}

/// erf x: Eigen's rational approximation `x·P(x²)/Q(x²)` (degrees 6 and 4 in x²), ±1 from
/// |x| = 3.92 on, where erf rounds to ±1 in f32. One division and no exp: a dozen vector
/// instructions per 16 values. Maximum error over x in [−10, 10] (every 1e-4; the tests below):
/// 3.3e-7 absolute (8.8e-8 of it the fit's, the rest f32 rounding), 7.5 ulp; the C library's
/// `erff` is within 1 ulp but runs one value at a time.
#[inline(always)]
pub(crate) fn erf_f32(x: f32) -> f32 {
    // From here on erf rounds to ±1 in f32 (1 − erf x < 2⁻²⁵), which the fit misses by an ulp.
    const SATURATED: f32 = 3.919_206;
    // `clamp` would pass NaN through too, but as a chain of branches; these are selects.
    let c = if x > SATURATED { SATURATED } else { x };
    let c = if c < -SATURATED { -SATURATED } else { c };
    let z = c * c;
    let p = -2.726_142_3e-10f32;
    let p = p.mul_add(z, 2.770_681_4e-8);
    let p = p.mul_add(z, -2.101_024e-6);
    let p = p.mul_add(z, -5.692_506_4e-5);
    let p = p.mul_add(z, -7.349_906_3e-4);
    let p = p.mul_add(z, -2.954_6e-3);
    let p = p.mul_add(z, -1.609_603_3e-2);
    let q = -1.456_607_2e-5f32;
    let q = q.mul_add(z, -2.133_740_6e-4);
    let q = q.mul_add(z, -1.682_827e-3);
    let q = q.mul_add(z, -7.373_329e-3);
    let q = q.mul_add(z, -1.426_474e-2);
    let y = c * p / q;
    if c.abs() == SATURATED {
        1.0f32.copysign(x)
    } else {
        y
    }
}

/// GELU `x·Φ(x) = ½·x·(1 + erf(x/√2))`, through [`erf_f32`] as PyTorch's vectorised GELU goes
/// through its own erf. Maximum absolute error against the exact value over x in [−10, 10]
/// (every 1e-4; the tests below): 1.0e-6 (PyTorch 2.15's f32 GELU: 1.07e-6 on the same grid;
/// rounding the exact value to f32 alone: 2.4e-7); beyond, x itself or 0 where the exact value
/// is within 1e-7 of 0. The relative accuracy of the negative tail is lost (as in PyTorch). ∞
/// gives ∞, −∞ and NaN give NaN, as the formula does in f64. Its derivative `Φ(x) + x·φ(x)`,
/// composed from [`erf_f32`] and [`exp_f32`] by the backward rule, is within 2.2e-7 (PyTorch's:
/// 2.6e-7).
#[inline(always)]
pub(crate) fn gelu_f32(x: f32) -> f32 {
    // ½x + ½x·erf in one fused step: one rounding where the product and the sum would round
    // twice (most of the error for large x, where erf is ±1).
    let half = 0.5 * x;
    half.mul_add(erf_f32(x * std::f32::consts::FRAC_1_SQRT_2), half)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(got: f32, exact: f64) -> f64 {
        let spacing = (exact.abs() as f32).max(f32::MIN_POSITIVE);
        let ulp = (f32::from_bits(spacing.to_bits() + 1) - spacing) as f64;
        (got as f64 - exact).abs() / ulp
    }

    /// Every f32 between `from` and `to` (same sign; their bit patterns are ordered by
    /// magnitude).
    fn every_f32_in(from: f32, to: f32) -> impl Iterator<Item = f32> {
        (from.to_bits()..to.to_bits()).map(f32::from_bits)
    }

    /// The worst error in ulps of `approx` against `exact` over every 4001st f32 of magnitude
    /// 1e-30 to `lo` (negative) and `hi` (positive).
    fn worst_ulps(approx: fn(f32) -> f32, exact: fn(f64) -> f64, lo: f32, hi: f32) -> f64 {
        every_f32_in(-1e-30, lo)
            .chain(every_f32_in(1e-30, hi))
            .step_by(4001)
            .map(|x| ulps(approx(x), exact(x as f64)))
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_is_within_one_ulp() {
        let worst = worst_ulps(exp_f32, f64::exp, -87.0, 88.0);
        assert!(worst <= 1.0, "worst error {worst} ulp");
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn ln_is_within_one_ulp() {
        let worst = every_f32_in(1e-45, f32::MAX)
            .step_by(4001)
            .map(|x| ulps(ln_f32(x), (x as f64).ln()))
            .fold(0.0, f64::max);
        assert!(worst <= 1.0, "worst error {worst} ulp");
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(ln_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(-0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
        assert!(ln_f32(-1.0).is_nan());
        assert!(ln_f32(f32::NEG_INFINITY).is_nan());
        assert!(ln_f32(f32::NAN).is_nan());
    }

    #[test]
    fn tanh_is_within_one_and_a_half_ulps() {
        let worst = worst_ulps(tanh_f32, f64::tanh, -20.0, 20.0);
        assert!(worst <= 1.5, "worst error {worst} ulp");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(tanh_f32(50.0), 1.0);
        assert_eq!(tanh_f32(-50.0), -1.0);
    }

    /// The grid the GELU and erf tests sweep: x from −10 to 10 in steps of 1e-4.
    fn grid() -> impl Iterator<Item = f32> {
        (-100_000..=100_000).map(|i| (i as f64 * 1e-4) as f32)
    }

    /// The largest `|approx(x) − exact(x)|` over the grid.
    fn worst_abs(approx: impl Fn(f32) -> f32, exact: impl Fn(f64) -> f64) -> f64 {
        grid()
            .map(|x| (approx(x) as f64 - exact(x as f64)).abs())
            .fold(0.0, f64::max)
    }

    /// GELU's exact value and derivative, in f64.
    fn gelu_exact(x: f64) -> f64 {
        0.5 * x * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
    }

    fn gelu_derivative_exact(x: f64) -> f64 {
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2) + x * pdf
    }

    #[test]
    fn erf_is_within_the_stated_error() {
        let worst = worst_abs(erf_f32, libm::erf);
        assert!(worst <= 3.5e-7, "worst absolute error {worst:e}");
        let worst = worst_ulps(erf_f32, libm::erf, -10.0, 10.0);
        assert!(worst <= 8.0, "worst error {worst} ulp");
        assert_eq!(erf_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(erf_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(erf_f32(f32::INFINITY), 1.0);
        assert_eq!(erf_f32(f32::NEG_INFINITY), -1.0);
        assert!(erf_f32(f32::NAN).is_nan());
    }

    #[test]
    fn gelu_is_within_the_stated_error() {
        let worst = worst_abs(gelu_f32, gelu_exact);
        assert!(worst <= 1.05e-6, "worst absolute error {worst:e}");
        assert_eq!(gelu_f32(f32::INFINITY), f32::INFINITY);
        assert!(gelu_f32(f32::NEG_INFINITY).is_nan());
        assert!(gelu_f32(f32::NAN).is_nan());
        assert_eq!(gelu_f32(100.0), 100.0);
        assert_eq!(gelu_f32(-100.0), 0.0);
    }

    #[test]
    fn gelu_derivative_through_erf_and_exp_is_within_the_stated_error() {
        // As the backward rule composes it: Φ(x) from erf, x·φ(x) from exp.
        let derivative = |x: f32| {
            let cdf = erf_f32(x * std::f32::consts::FRAC_1_SQRT_2) * 0.5 + 0.5;
            let pdf = exp_f32(x * x * -0.5) * (1.0 / (2.0 * std::f32::consts::PI).sqrt());
            cdf + x * pdf
        };
        let worst = worst_abs(derivative, gelu_derivative_exact);
        assert!(worst <= 2.2e-7, "worst absolute error {worst:e}");
    }
}
