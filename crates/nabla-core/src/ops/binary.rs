//! Elementwise functions of two tensors under NumPy broadcasting, and the arithmetic operators
//! (`+ - * /` on tensors and `f64` scalars, by reference or by value). Gradients come back in
//! the broadcast shape; the engine sums them down to each input's shape.

use super::unary::Unary;
use super::{Factor, Save, ok, per_variant, record, saved_at};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::Float;
use crate::error::{Error, Result};
use crate::kernels::{dispatch_float, elementwise};
use crate::shape::broadcast_shapes;
use crate::storage::Data;
use crate::tensor::Tensor;

/// A two-operand elementwise function.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

crate::autograd::rules::rule_keys!(Binary {
    Add => "AddBackward",
    Sub => "SubBackward",
    Mul => "MulBackward",
    Div => "DivBackward",
    Pow => "PowBackward",
    Maximum => "MaximumBackward",
    Minimum => "MinimumBackward",
});

impl Binary {
    /// The node's name, which is also its rule key (each binary op is its own rule).
    fn name(self) -> &'static str {
        self.rule()
    }

    fn op_name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    #[inline(always)]
    fn forward<T: Float>(self, a: T, b: T) -> T {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Pow => a.powf(b),
            // NaN in either operand gives NaN (`b` is NaN when the test fails on it); a tie
            // gives `a`, as in PyTorch (which matters for ±0).
            Binary::Maximum => {
                if a >= b || a.is_nan() {
                    a
                } else {
                    b
                }
            }
            Binary::Minimum => {
                if a <= b || a.is_nan() {
                    a
                } else {
                    b
                }
            }
        }
    }

    /// `forward` over the broadcast operands, with the variant fixed in each closure so the
    /// kernel's loop vectorises.
    fn zip<T: Float>(self, a: &Tensor, b: &Tensor, shape: &[usize]) -> Data<T> {
        per_variant!(self, Binary,
            |op| elementwise::zip(a, b, shape, move |p: T, q: T| op().forward(p, q));
            Add, Sub, Mul, Div, Pow, Maximum, Minimum; ;)
    }

    /// What the backward rule keeps: add and sub need nothing, pow also needs its output.
    fn saves(self) -> &'static [Save<'static>] {
        match self {
            Binary::Add | Binary::Sub => &[],
            Binary::Pow => &[Save::Input(0), Save::Input(1), Save::Output],
            _ => &[Save::Input(0), Save::Input(1)],
        }
    }

    /// `∂y/∂a` (`input` 0) or `∂y/∂b` (`input` 1), in differentiable operations.
    fn partial(self, saved: &[Tensor], input: usize) -> Factor {
        use Factor::{Constant, Tensor as T};
        match (self, input) {
            (Binary::Add, _) | (Binary::Sub, 0) => Constant(1.0),
            (Binary::Sub, _) => Constant(-1.0),
            (Binary::Mul, 0) => T(saved[1].clone()),
            (Binary::Mul, _) => T(saved[0].clone()),
            (Binary::Div, 0) => T(saved[1].recip()),
            (Binary::Div, _) => T(-(&saved[0] / (&saved[1] * &saved[1]))),
            (Binary::Pow, 0) => {
                let (a, b) = (&saved[0], &saved[1]);
                T(b * a.pow(&(b - 1.0)))
            }
            (Binary::Pow, _) => {
                let (a, y) = (&saved[0], &saved[2]);
                // d/db aᵇ = aᵇ·ln a; where a = 0 the limit is taken as 0 (PyTorch masks it too).
                T(y * a.eq_scalar(0.0).where_cond(&a.zeros_like(), &a.log()))
            }
            (Binary::Maximum | Binary::Minimum, _) => {
                // As in PyTorch: an operand's share is zero where it loses, one half on a tie and
                // one elsewhere, so where either is NaN both operands get the whole gradient.
                let (me, other) = (&saved[input], &saved[1 - input]);
                let loses = if self == Binary::Maximum {
                    me.lt(other)
                } else {
                    me.gt(other)
                };
                T(1.0 - loses - me.eq(other) * 0.5)
            }
        }
    }
}

impl Binary {
    /// The rule stated: the output in its inputs `{0}`, `{1}` with its symbol, and the partial
    /// derivatives [`Binary::partial`] computes, in the inputs and the output `{y}`.
    fn formula(self, at: Option<&At>) -> Formula {
        use Binding::{Atom, Power, Prefix, Product, Sum};
        let (output, binding, symbol, partials) = match self {
            Binary::Add => ("{0} + {1}", Sum, "+", [("1", Atom), ("1", Atom)]),
            Binary::Sub => ("{0} - {1*}", Sum, "−", [("1", Atom), ("-1", Prefix)]),
            Binary::Mul => ("{0*}*{1*}", Product, "×", [("{1}", Sum), ("{0}", Sum)]),
            Binary::Div => (
                "{0*}/{1-}",
                Product,
                "÷",
                [("1/{1^}", Product), ("-{0*}/{1^}²", Prefix)],
            ),
            Binary::Pow => (
                "{0^}^{1^}",
                Power,
                "^",
                [("{1*}·{0^}^({1}-1)", Product), ("{y*}·log({0})", Product)],
            ),
            Binary::Maximum => (
                "max({0}, {1})",
                Atom,
                "max",
                [
                    ("1 if {0} > {1}, ½ if {0} = {1}, else 0", Sum),
                    ("1 if {1} > {0}, ½ if {1} = {0}, else 0", Sum),
                ],
            ),
            Binary::Minimum => (
                "min({0}, {1})",
                Atom,
                "min",
                [
                    ("1 if {0} < {1}, ½ if {0} = {1}, else 0", Sum),
                    ("1 if {1} < {0}, ½ if {1} = {0}, else 0", Sum),
                ],
            ),
        };
        let saved = at.and_then(|at| Some((saved_at(self.saves(), at)?, at.output)));
        let inputs = partials
            .iter()
            .enumerate()
            .map(|(i, &(derivative, bound))| {
                let value = saved
                    .as_ref()
                    .map(|(saved, like)| self.partial(saved, i).tensor(like));
                Local::elementwise(derivative, bound, value)
            })
            .collect();
        Formula::new(output, binding, symbol, inputs)
    }
}

struct BinaryBackward(Binary);

impl Backward for BinaryBackward {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn rule(&self) -> &'static str {
        self.0.rule()
    }

    fn formula(&self, _: usize, at: Option<&At>) -> Option<Formula> {
        Some(self.0.formula(at))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        (0..2)
            .map(|i| needs[i].then(|| self.0.partial(saved, i).times(grad)))
            .collect()
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let da = self.0.partial(saved, 0).times(&tangents[0]);
        let db = self.0.partial(saved, 1).times(&tangents[1]);
        da.try_add(&db)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_binary(&inputs[1], self.0))
    }
}

impl Tensor {
    pub(crate) fn try_binary(&self, other: &Tensor, op: Binary) -> Result<Tensor> {
        let name = op.op_name();
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op: name,
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        let shape = broadcast_shapes(name, self.shape(), other.shape())?;
        // An output of a contiguous operand's shape is no larger than that operand's storage.
        if shape.as_slice() != self.shape() || !self.is_contiguous() {
            crate::limits::allocation(name, &shape, self.dtype())?;
        }
        let out = dispatch_float!(name, self.dtype(), T => {
            Tensor::from_data(op.zip::<T>(self, other, &shape), &shape)
        });
        Ok(record(out, &[self, other], BinaryBackward(op), op.saves()))
    }
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident, $try_name:ident => $op:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
                    self.try_binary(other, $op)
                }

                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor {
                    ok(self.$try_name(other))
                }
            )*
        }
    };
}

binary_methods! {
    /// `a + b` with broadcasting; gradients `g` and `g`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
    /// let b = Tensor::from_vec(vec![10.0f32, 20.0, 30.0], &[3, 1]);
    /// assert_eq!(a.add(&b).shape(), &[3, 2]);
    /// let err = a.try_add(&Tensor::zeros(&[3], nabla_core::DType::F32)).unwrap_err();
    /// assert_eq!(err.to_string(), "add: shapes [2] and [3] are incompatible (cannot broadcast)");
    /// ```
    add, try_add => Binary::Add;
    /// `a − b` with broadcasting; gradients `g` and `−g`.
    sub, try_sub => Binary::Sub;
    /// `a · b` with broadcasting; gradients `g·b` and `g·a`.
    mul, try_mul => Binary::Mul;
    /// `a / b` with broadcasting; gradients `g/b` and `−g·a/b²`.
    div, try_div => Binary::Div;
    /// `aᵇ` elementwise; gradients `g·b·aᵇ⁻¹` and `g·aᵇ·ln a`.
    pow, try_pow => Binary::Pow;
    /// Elementwise maximum, NaN where either operand is NaN (PyTorch's `maximum`); the gradient
    /// goes to the larger operand, split evenly on ties, and to both where either is NaN.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let a = Tensor::from_vec(vec![f64::NAN, 1.0], &[2]);
    /// let m = a.maximum(&Tensor::zeros(&[2], nabla_core::DType::F64)).to_vec::<f64>();
    /// assert!(m[0].is_nan() && m[1] == 1.0);
    /// ```
    maximum, try_maximum => Binary::Maximum;
    /// Elementwise minimum, NaN where either operand is NaN; the gradient goes to the smaller
    /// operand, split evenly on ties, and to both where either is NaN.
    minimum, try_minimum => Binary::Minimum;
}

/// The four forms of a binary operator between tensors, and the forms with an `f64` on either
/// side, written `|t, s| expr` and `|s, t| expr`. The scalar bodies are pasted in, not called
/// through closures, so a panic reports the caller's line.
macro_rules! operator {
    ($trait:ident, $method:ident, $op:expr,
     |$t:ident, $s:ident| $scalar:expr, |$ls:ident, $lt:ident| $scalar_lhs:expr) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                ok(self.try_binary(rhs, $op))
            }
        }
        impl std::ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                ok(self.try_binary(&rhs, $op))
            }
        }
        impl std::ops::$trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                ok(self.try_binary(rhs, $op))
            }
        }
        impl std::ops::$trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                ok(self.try_binary(&rhs, $op))
            }
        }
        impl std::ops::$trait<f64> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: f64) -> Tensor {
                let ($t, $s) = (self, rhs);
                $scalar
            }
        }
        impl std::ops::$trait<f64> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: f64) -> Tensor {
                let ($t, $s) = (&self, rhs);
                $scalar
            }
        }
        impl std::ops::$trait<&Tensor> for f64 {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                let ($ls, $lt) = (self, rhs);
                $scalar_lhs
            }
        }
        impl std::ops::$trait<Tensor> for f64 {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                let ($ls, $lt) = (self, &rhs);
                $scalar_lhs
            }
        }
    };
}

operator!(Add, add, Binary::Add, |t, s| t.add_scalar(s), |s, t| t
    .add_scalar(s));
operator!(Sub, sub, Binary::Sub, |t, s| t.add_scalar(-s), |s, t| t
    .neg()
    .add_scalar(s));
operator!(Mul, mul, Binary::Mul, |t, s| t.mul_scalar(s), |s, t| t
    .mul_scalar(s));
operator!(Div, div, Binary::Div, |t, s| t.div_scalar(s), |s, t| t
    .recip()
    .mul_scalar(s));

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        ok(self.try_unary(Unary::Neg))
    }
}

impl std::ops::Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        ok(self.try_unary(Unary::Neg))
    }
}
