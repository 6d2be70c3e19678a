//! Printing tensors the way PyTorch does: `tensor([[1.0000, 2.0000], ...], grad_fn=<MulBackward>)`,
//! one shared width and format per tensor, long dims summarised with `...`.

use crate::dtype::DType;
use crate::tensor::Tensor;
use std::fmt;

/// Above this many elements, each dim shows its first and last `EDGE_ITEMS` entries.
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

enum Style {
    Integer,
    Fixed,
    Scientific,
}

fn choose_style(values: &[f64], dtype: DType) -> Style {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if dtype == DType::I64 || finite.iter().all(|v| v.fract() == 0.0 && v.abs() < 1e8) {
        return Style::Integer;
    }
    let nonzero: Vec<f64> = finite
        .iter()
        .map(|v| v.abs())
        .filter(|&v| v > 0.0)
        .collect();
    let max = nonzero.iter().copied().fold(0.0, f64::max);
    let min = nonzero.iter().copied().fold(f64::INFINITY, f64::min);
    if max >= 1e8 || (min < 1e-4) || (min > 0.0 && max / min > 1000.0) {
        Style::Scientific
    } else {
        Style::Fixed
    }
}

fn format_value(v: f64, style: &Style, dtype: DType) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    match style {
        Style::Integer if dtype == DType::I64 => format!("{v}"),
        Style::Integer => format!("{v}."),
        Style::Fixed => format!("{v:.4}"),
        Style::Scientific => {
            let s = format!("{v:.4e}");
            // Rust prints `1.2340e5`; PyTorch prints `1.2340e+05`.
            match s.split_once('e') {
                Some((mantissa, exp)) => {
                    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                    format!("{mantissa}e{sign}{digits:0>2}")
                }
                None => s,
            }
        }
    }
}

struct Printer<'a> {
    cells: Vec<String>,
    shape: &'a [usize],
    width: usize,
    summarise: bool,
}

impl Printer<'_> {
    fn indices(&self, size: usize) -> Vec<Option<usize>> {
        if self.summarise && size > 2 * EDGE_ITEMS {
            let mut v: Vec<Option<usize>> = (0..EDGE_ITEMS).map(Some).collect();
            v.push(None);
            v.extend((size - EDGE_ITEMS..size).map(Some));
            v
        } else {
            (0..size).map(Some).collect()
        }
    }

    fn write(&self, out: &mut String, dim: usize, offset: usize, indent: usize) {
        if dim == self.shape.len() {
            out.push_str(&format!("{:>w$}", self.cells[offset], w = self.width));
            return;
        }
        let stride: usize = self.shape[dim + 1..].iter().product();
        out.push('[');
        let last_dim = dim + 1 == self.shape.len();
        for (n, i) in self.indices(self.shape[dim]).into_iter().enumerate() {
            if n > 0 {
                out.push(',');
                if last_dim {
                    out.push(' ');
                } else {
                    out.push_str(&"\n".repeat(self.shape.len() - dim - 1));
                    out.push_str(&" ".repeat(indent + 1));
                }
            }
            match i {
                Some(i) => self.write(out, dim + 1, offset + i * stride, indent + 1),
                None => out.push_str("..."),
            }
        }
        out.push(']');
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A view too large to gather (a large `expand`) is described, not printed.
        let values = match self.try_to_f64_vec() {
            Ok(values) => values,
            Err(e) => return write!(f, "tensor(<not printable: {e}>)"),
        };
        let style = choose_style(&values, self.dtype());
        let cells: Vec<String> = values
            .iter()
            .map(|&v| format_value(v, &style, self.dtype()))
            .collect();
        let width = cells.iter().map(String::len).max().unwrap_or(0);
        let printer = Printer {
            cells,
            shape: self.shape(),
            width,
            summarise: self.numel() > SUMMARY_THRESHOLD,
        };
        let mut body = String::new();
        printer.write(&mut body, 0, 0, "tensor(".len());
        write!(f, "tensor({body}")?;
        if self.dtype() != DType::F32 {
            write!(f, ", dtype={}", self.dtype())?;
        }
        if let Some(node) = self.grad_fn() {
            write!(f, ", grad_fn=<{}>", node.name())?;
        } else if self.requires_grad_flag() {
            write!(f, ", requires_grad=true")?;
        }
        write!(f, ")")
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_like_pytorch() {
        let t = Tensor::from_vec(vec![1.0f32, 2.5, -3.0, 4.0], &[2, 2]);
        assert_eq!(
            t.to_string(),
            "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])"
        );
        let i = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
        assert_eq!(
            i.to_string(),
            "tensor([1., 2.], dtype=f64, requires_grad=true)"
        );
        let y = &i * 2.0;
        assert_eq!(
            y.to_string(),
            "tensor([2., 4.], dtype=f64, grad_fn=<MulBackward>)"
        );
        assert_eq!(Tensor::scalar(1e-6f32).to_string(), "tensor(1.0000e-06)");
        let big = Tensor::arange(0.0f32, 2000.0, 1.0);
        assert_eq!(
            big.to_string(),
            "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])"
        );
    }
}
