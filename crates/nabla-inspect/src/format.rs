//! How numbers, values and op names are written in graphs, explanations and the CLI.

use nabla_core::Tensor;
use std::borrow::Cow;

/// Most characters of user text (a name, a number, a field) echoed in a message.
pub const ECHO: usize = 40;

/// `text` cut to its first [`ECHO`] characters, with `…` when cut: what a message echoes of
/// input that may be arbitrarily long.
///
/// ```
/// use nabla_inspect::clip;
/// assert_eq!(clip("x"), "x");
/// assert_eq!(clip(&"a".repeat(1000)), format!("{}…", "a".repeat(40)));
/// ```
pub fn clip(text: &str) -> Cow<'_, str> {
    nabla_nn::error::clip_to(text, ECHO)
}

/// The shortest text that reads back as exactly `v` (Rust's round-trip formatting), switching
/// to exponent notation for very large or very small magnitudes.
///
/// ```
/// use nabla_inspect::shortest;
/// assert_eq!(shortest(2.2), "2.2");
/// assert_eq!(shortest(1.1 * 100.0), "110.00000000000001");
/// assert_eq!(shortest(1e-7), "1e-7");
/// ```
pub fn shortest(v: f64) -> String {
    let magnitude = v.abs();
    if !v.is_finite() || v == 0.0 || (1e-5..1e16).contains(&magnitude) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// `v` to six significant digits without trailing zeros, for labels a person reads.
///
/// ```
/// use nabla_inspect::compact;
/// assert_eq!(compact(1.1 * 100.0), "110");
/// assert_eq!(compact(1.0 / 3.0), "0.333333");
/// assert_eq!(compact(-2.5e-9), "-2.5e-9");
/// ```
pub fn compact(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let scientific = format!("{v:.5e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("exponent notation has an e");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    if (-4..6).contains(&exponent) {
        let decimals = (5 - exponent).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).into()
    } else {
        format!("{}e{exponent}", trim_zeros(mantissa))
    }
}

/// A decimal number's text without trailing zeros after its point (`2.50` → `2.5`, `3.0` → `3`).
pub(crate) fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The operation of a node as people write it: `MulBackward` → `mul`,
/// `LeakyReluBackward` → `leaky_relu`.
///
/// ```
/// use nabla_inspect::op_label;
/// assert_eq!(op_label("MulBackward"), "mul");
/// assert_eq!(op_label("LeakyReluBackward"), "leaky_relu");
/// ```
pub fn op_label(node_name: &str) -> String {
    let stem = node_name.strip_suffix("Backward").unwrap_or(node_name);
    let mut label = String::with_capacity(stem.len() + 2);
    for (i, c) in stem.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            label.push('_');
        }
        label.extend(c.to_lowercase());
    }
    label
}

/// A shape as PyTorch prints its size: `[2, 3]`, `[]` for a 0-d tensor.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    format!("{shape:?}")
}

/// The values of a tensor with at most `max` elements, nested by its shape (`[[1, 2], [3, 4]]`);
/// `None` for larger tensors.
pub(crate) fn values(t: &Tensor, max: usize) -> Option<String> {
    if t.numel() > max {
        return None;
    }
    let data = t.to_f64_vec();
    let mut out = String::new();
    nest(&data, t.shape(), &mut out);
    Some(out)
}

fn nest(data: &[f64], shape: &[usize], out: &mut String) {
    let Some((&first, rest)) = shape.split_first() else {
        out.push_str(&compact(data[0]));
        return;
    };
    let stride = rest.iter().product::<usize>();
    out.push('[');
    for i in 0..first {
        if i > 0 {
            out.push_str(", ");
        }
        nest(&data[i * stride..(i + 1) * stride], rest, out);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_rounds_to_six_significant_digits() {
        assert_eq!(compact(220.00000000000003), "220");
        assert_eq!(compact(999999.7), "1e6");
        assert_eq!(compact(123456.4), "123456");
        assert_eq!(compact(0.0001234567), "0.000123457");
        assert_eq!(compact(0.00001234567), "1.23457e-5");
        assert_eq!(compact(-0.0), "0");
        assert_eq!(compact(f64::NAN), "NaN");
    }

    #[test]
    fn shortest_round_trips() {
        for v in [
            0.1,
            1.0 / 3.0,
            220.00000000000003,
            1e300,
            -4e-320,
            12345.678,
        ] {
            assert_eq!(shortest(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(shortest(4.0), "4");
        assert_eq!(shortest(1e300), "1e300");
    }

    #[test]
    fn values_nest_by_shape() {
        let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.5], &[2, 2]);
        assert_eq!(values(&t, 6).unwrap(), "[[1, 2], [3, 4.5]]");
        assert_eq!(values(&Tensor::scalar(2.0f32), 6).unwrap(), "2");
        assert_eq!(
            values(&Tensor::zeros(&[7], nabla_core::DType::F64), 6),
            None
        );
        assert_eq!(shape_text(&[]), "[]");
        assert_eq!(shape_text(&[2, 3]), "[2, 3]");
    }
}
