//! Axis ticks a reader can read: round values (1, 2 or 5 times a power of ten) on linear axes,
//! and powers of ten written as `10⁻³` on logarithmic ones.

/// `10` with `exponent` in superscript digits: `10⁻³`, `10⁰`, `10¹²`.
pub(crate) fn power_of_ten(exponent: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut out = String::from("10");
    if exponent < 0 {
        out.push('⁻');
    }
    for d in exponent.unsigned_abs().to_string().bytes() {
        out.push(DIGITS[usize::from(d - b'0')]);
    }
    out
}

/// The label of the value `10^log10` on a log axis: `10⁻³` on a decade, else the value with two
/// significant digits (`0.32`, `3.2×10⁻⁴`).
pub(crate) fn log_tick_label(log10: f64) -> String {
    let rounded = log10.round();
    if (log10 - rounded).abs() < 1e-9 {
        return power_of_ten(rounded as i32);
    }
    let exponent = log10.floor();
    let mantissa = 10f64.powf(log10 - exponent);
    let exponent = exponent as i32;
    match exponent {
        -2..=2 => {
            let value = mantissa * 10f64.powi(exponent);
            let decimals = usize::try_from(1 - exponent).unwrap_or(0);
            format!("{value:.decimals$}")
        }
        _ => format!("{mantissa:.1}×{}", power_of_ten(exponent)),
    }
}

/// Round tick values between `lo` and `hi` (integers, `lo <= hi`), at most about `count`: the
/// multiples of a step of 1, 2 or 5 times a power of ten, and `lo` itself when the first multiple
/// is at least half a step away from it.
pub(crate) fn integer_ticks(lo: usize, hi: usize, count: usize) -> Vec<usize> {
    let span = hi.saturating_sub(lo).max(1);
    let mut step = 1;
    'search: for scale in (0..19).map(|k| 10usize.pow(k)) {
        for m in [1, 2, 5] {
            step = m * scale;
            if span / step < count.max(1) {
                break 'search;
            }
        }
    }
    let first = lo.div_ceil(step) * step;
    let mut ticks = Vec::new();
    if first != lo && (first - lo) * 2 >= step {
        ticks.push(lo);
    }
    ticks.extend((first..=hi).step_by(step));
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_powers_of_ten_in_superscript() {
        assert_eq!(power_of_ten(-3), "10⁻³");
        assert_eq!(power_of_ten(0), "10⁰");
        assert_eq!(power_of_ten(12), "10¹²");
        assert_eq!(log_tick_label(-3.0), "10⁻³");
        assert_eq!(log_tick_label(2.0 + 1e-12), "10²");
    }

    #[test]
    fn values_between_decades_have_two_significant_digits() {
        assert_eq!(log_tick_label(-0.5), "0.32");
        assert_eq!(log_tick_label(0.5), "3.2");
        assert_eq!(log_tick_label(2f64.log10() - 4.0), "2.0×10⁻⁴");
        assert_eq!(log_tick_label(5f64.log10() + 3.0), "5.0×10³");
    }

    #[test]
    fn integer_ticks_are_round_and_start_at_the_low_end() {
        assert_eq!(integer_ticks(1, 28, 8), [1, 5, 10, 15, 20, 25]);
        assert_eq!(integer_ticks(1, 50, 8), [1, 10, 20, 30, 40, 50]);
        assert_eq!(integer_ticks(1, 3, 8), [1, 2, 3]);
        assert_eq!(integer_ticks(4, 4, 8), [4]);
        assert_eq!(integer_ticks(1, 469, 8), [1, 100, 200, 300, 400]);
        assert_eq!(integer_ticks(0, 1000, 6), [0, 200, 400, 600, 800, 1000]);
    }
}
