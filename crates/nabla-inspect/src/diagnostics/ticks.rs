//! Axis ticks a reader can read, for every chart: round values (1, 2 or 5 times a power of
//! ten) on linear axes, whole numbers on axes of epochs and steps, percentages for fractions,
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
/// significant digits, trailing zeros dropped (`0.32`, `3.2×10⁻⁴`, `2×10⁻⁴`).
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
            trimmed(format!("{value:.decimals$}"))
        }
        _ => format!(
            "{}×{}",
            trimmed(format!("{mantissa:.1}")),
            power_of_ten(exponent)
        ),
    }
}

/// `text` (a decimal number) without trailing zeros after the point, and `-0` as `0`.
fn trimmed(text: String) -> String {
    match crate::format::trim_zeros(&text) {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

/// A linear axis' tick label: at most three decimals, without trailing zeros (`2`, `2.5`,
/// `0.125`).
pub(crate) fn linear_tick_label(v: f64) -> String {
    trimmed(format!("{v:.3}"))
}

/// How an axis maps values to positions and labels its ticks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Round ticks (1, 2 or 5 times a power of ten).
    Linear,
    /// Whole-number ticks only (epochs, steps, layers): never `1.5`.
    Integer,
    /// Fractions drawn as percentages, ticks labelled `95%`.
    Percent,
    /// Values drawn as their log10, ticks at powers of ten labelled `10⁻³`.
    Log,
}

impl Scale {
    /// Where a value is drawn on the axis (its log10 on a log axis, its percentage for a
    /// fraction); not finite for a value the axis cannot show (a non-positive one on a log axis).
    pub(crate) fn position(self, v: f64) -> f64 {
        match self {
            Scale::Log if v > 0.0 => v.log10(),
            Scale::Log => f64::NAN,
            Scale::Percent => 100.0 * v,
            Scale::Linear | Scale::Integer => v,
        }
    }

    /// The ticks of the positions `lo..=hi` (as [`Scale::position`] gives them), about `count`
    /// of them on a linear axis.
    pub(crate) fn ticks(self, lo: f64, hi: f64, count: usize) -> Vec<f64> {
        match self {
            Scale::Log => log_ticks(lo, hi),
            Scale::Integer => {
                let (first, last) = (lo.ceil().max(0.0), hi.floor().max(0.0));
                if first > last {
                    return Vec::new();
                }
                integer_ticks(first as usize, last as usize, count + 2)
                    .into_iter()
                    .map(|t| t as f64)
                    .collect()
            }
            Scale::Linear | Scale::Percent => round_ticks(lo, hi, count),
        }
    }

    /// The label of the tick at `position`.
    pub(crate) fn label(self, position: f64) -> String {
        match self {
            Scale::Log => log_tick_label(position),
            Scale::Percent => format!("{}%", linear_tick_label(position)),
            Scale::Linear | Scale::Integer => linear_tick_label(position),
        }
    }

    /// The labeller of ticks `ticks` of this scale: as [`Scale::label`], except that linear
    /// ticks closer than 0.001 apart are written `2×10⁻⁵` (three decimals would make them all
    /// `0`).
    pub(crate) fn labeller(self, ticks: &[f64]) -> impl Fn(&f64) -> String + use<> {
        let step = ticks
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(f64::INFINITY, f64::min);
        let small = self == Scale::Linear && step < 1e-3;
        move |&v| {
            if small && v != 0.0 {
                let exponent = v.abs().log10().floor();
                let mantissa = v / 10f64.powf(exponent);
                format!(
                    "{}×{}",
                    trimmed(format!("{mantissa:.1}")),
                    power_of_ten(exponent as i32)
                )
            } else if small {
                "0".to_string()
            } else {
                self.label(v)
            }
        }
    }
}

/// Multiples of the smallest round step (1, 2 or 5 times a power of ten) that puts at most
/// `count + 2` of them in `[lo, hi]`.
pub(crate) fn round_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return if lo.is_finite() { vec![lo] } else { Vec::new() };
    }
    let span = hi - lo;
    let rough = span / count.max(1) as f64;
    let scale = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * scale)
        .find(|&s| span / s <= count as f64 + 1.0)
        .unwrap_or(10.0 * scale);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Ticks of a log axis over log10 values `lo..=hi`: every decade inside (every second, fifth,
/// ... one when there are many), or when fewer than two decades fall inside, the values 1, 2
/// and 5 times a power of ten.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let (first, last) = (lo.ceil() as i64, hi.floor() as i64);
    if last - first >= 1 {
        let decades = (last - first) as usize;
        let every = [1, 2, 5, 10, 20, 50]
            .into_iter()
            .find(|&k| decades / k < 8)
            .unwrap_or(100) as i64;
        return (first..=last)
            .filter(|d| d.rem_euclid(every) == 0 || decades < 8)
            .map(|d| d as f64)
            .collect();
    }
    let mut ticks = Vec::new();
    for decade in (lo.floor() as i64)..=(hi.ceil() as i64) {
        for m in [1.0f64, 2.0, 5.0] {
            let t = decade as f64 + m.log10();
            if t >= lo - 1e-12 && t <= hi + 1e-12 {
                ticks.push(t);
            }
        }
    }
    ticks
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
        assert_eq!(log_tick_label(2f64.log10() - 4.0), "2×10⁻⁴");
        assert_eq!(log_tick_label(5f64.log10() + 3.0), "5×10³");
        assert_eq!(log_tick_label(2f64.log10() - 1.0), "0.2");
    }

    #[test]
    fn linear_ticks_drop_trailing_zeros() {
        assert_eq!(linear_tick_label(2.0), "2");
        assert_eq!(linear_tick_label(2.5), "2.5");
        assert_eq!(linear_tick_label(0.125), "0.125");
        assert_eq!(linear_tick_label(-0.0001), "0");
        assert_eq!(linear_tick_label(300.0), "300");
    }

    #[test]
    fn log_axes_tick_decades_or_one_two_five_within_one() {
        assert_eq!(
            log_ticks(-7.3, 0.4),
            [-7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0, 0.0]
        );
        assert_eq!(log_ticks(-20.5, 0.5), [-20.0, -15.0, -10.0, -5.0, 0.0]);
        let within: Vec<String> = log_ticks(-0.9, -0.1)
            .into_iter()
            .map(log_tick_label)
            .collect();
        assert_eq!(within, ["0.2", "0.5"]);
    }

    #[test]
    fn round_ticks_are_never_fewer_than_about_count() {
        assert_eq!(round_ticks(-4.5, 4.5, 4), [-4.0, -2.0, 0.0, 2.0, 4.0]);
        assert_eq!(round_ticks(0.55, 10.45, 6), [2.0, 4.0, 6.0, 8.0, 10.0]);
    }

    #[test]
    fn tiny_linear_ticks_are_written_with_a_power_of_ten() {
        let ticks = round_ticks(-3e-5, 3e-5, 4);
        let label = Scale::Linear.labeller(&ticks);
        let labels: Vec<String> = ticks.iter().map(&label).collect();
        assert_eq!(labels, ["-2×10⁻⁵", "0", "2×10⁻⁵"]);
    }

    #[test]
    fn scales_place_and_label_their_ticks() {
        assert_eq!(Scale::Integer.ticks(0.8, 3.2, 8), [1.0, 2.0, 3.0]);
        assert_eq!(
            Scale::Integer.ticks(0.55, 10.45, 6),
            [1.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(Scale::Integer.ticks(0.7, 7.3, 6).len(), 7);
        let labels: Vec<String> = round_ticks(0.0, 1.0, 5)
            .into_iter()
            .map(linear_tick_label)
            .collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(Scale::Percent.position(0.5), 50.0);
        assert_eq!(Scale::Percent.label(98.0), "98%");
        assert!(Scale::Log.position(0.0).is_nan());
        assert_eq!(Scale::Log.label(-3.0), "10⁻³");
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
