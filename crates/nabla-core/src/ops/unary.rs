//! Elementwise functions of one tensor, stated once: the scalar forward `f` and the derivative
//! `f'` as a tensor expression. The backward rule is always `grad · f'`, and since `f'` is built
//! from differentiable operations, it can itself be differentiated.

use super::{Factor, Save, ok, per_variant, record};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::Float;
use crate::error::Result;
use crate::kernels::{dispatch_float, elementwise};
use crate::storage::Data;
use crate::tensor::Tensor;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// An elementwise function, with its parameters.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Unary {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sign,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    Erf,
    Gelu,
    Recip,
    /// `powf(2)`: one exact product, where the C library's pow is a call per element.
    Square,
    LeakyRelu(f64),
    Powf(f64),
    Clamp(f64, f64),
    AddScalar(f64),
    MulScalar(f64),
    DivScalar(f64),
}

impl Unary {
    fn name(self) -> &'static str {
        match self {
            Unary::Neg => "NegBackward",
            Unary::Exp => "ExpBackward",
            Unary::Log => "LogBackward",
            Unary::Sqrt => "SqrtBackward",
            Unary::Abs => "AbsBackward",
            Unary::Sign => "SignBackward",
            Unary::Sin => "SinBackward",
            Unary::Cos => "CosBackward",
            Unary::Tanh => "TanhBackward",
            Unary::Sigmoid => "SigmoidBackward",
            Unary::Relu => "ReluBackward",
            Unary::Erf => "ErfBackward",
            Unary::Gelu => "GeluBackward",
            Unary::Recip => "ReciprocalBackward",
            Unary::LeakyRelu(_) => "LeakyReluBackward",
            Unary::Powf(_) | Unary::Square => "PowBackward",
            Unary::Clamp(..) => "ClampBackward",
            Unary::AddScalar(_) => "AddBackward",
            Unary::MulScalar(_) => "MulBackward",
            Unary::DivScalar(_) => "DivBackward",
        }
    }

    #[inline(always)]
    fn forward<T: Float>(self, x: T) -> T {
        let c = |v: f64| T::from_f64(v);
        match self {
            Unary::Neg => -x,
            Unary::Exp => x.exp_kernel(),
            Unary::Log => x.ln_kernel(),
            Unary::Sqrt => x.sqrt(),
            Unary::Abs => x.abs(),
            Unary::Sign => {
                if x > T::zero() {
                    T::one()
                } else if x < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                }
            }
            Unary::Sin => x.sin(),
            Unary::Cos => x.cos(),
            Unary::Tanh => x.tanh_kernel(),
            Unary::Sigmoid => {
                // Stable on both tails: exp is only ever taken of a non-positive number.
                let e = (-x.abs()).exp_kernel();
                if x >= T::zero() {
                    T::one() / (T::one() + e)
                } else {
                    e / (T::one() + e)
                }
            }
            Unary::Relu => {
                if x > T::zero() {
                    x
                } else {
                    T::zero()
                }
            }
            Unary::Erf => x.erf(),
            Unary::Gelu => c(0.5) * x * (T::one() + (x * c(FRAC_1_SQRT_2)).erf()),
            Unary::Recip => x.recip(),
            Unary::LeakyRelu(slope) => {
                if x > T::zero() {
                    x
                } else {
                    x * c(slope)
                }
            }
            Unary::Square => x * x,
            Unary::Powf(p) => x.powf(c(p)),
            Unary::Clamp(lo, hi) => {
                // Two selects rather than one branch chain, so the loop vectorises; NaN fails
                // both comparisons and passes through, as in PyTorch.
                let (lo, hi) = (c(lo), c(hi));
                let raised = if x < lo { lo } else { x };
                if raised > hi { hi } else { raised }
            }
            Unary::AddScalar(s) => x + c(s),
            Unary::MulScalar(s) => x * c(s),
            Unary::DivScalar(s) => x / c(s),
        }
    }

    /// `forward` over every element of `x`. Each arm hands the kernel a closure with the variant
    /// fixed, so the `match` in `forward` folds away and the loop vectorises (a branchy per-element
    /// match costs ~10x on random data).
    fn map<T: Float>(self, x: &Tensor) -> Data<T> {
        per_variant!(self, Unary, |op| elementwise::map(x, move |v: T| op().forward(v));
            Neg, Exp, Log, Sqrt, Abs, Sign, Sin, Cos, Tanh, Sigmoid, Relu, Erf, Gelu, Recip, Square;
            LeakyRelu, Powf, AddScalar, MulScalar, DivScalar;
            Clamp)
    }

    /// What `derivative` reads: nothing for constants, the output where `f'` is a function of
    /// `y` (cheaper, and what PyTorch saves), else the input.
    fn saves(self) -> &'static [Save<'static>] {
        match self {
            Unary::Neg
            | Unary::Sign
            | Unary::AddScalar(_)
            | Unary::MulScalar(_)
            | Unary::DivScalar(_) => &[],
            Unary::Exp | Unary::Sqrt | Unary::Tanh | Unary::Sigmoid | Unary::Recip => {
                &[Save::Output]
            }
            _ => &[Save::Input(0)],
        }
    }

    /// `f'` in differentiable operations, from `saved`: the input `x` or the output `y = f(x)`
    /// as chosen by [`Unary::saves`].
    fn derivative(self, saved: &[Tensor]) -> Factor {
        use Factor::{Constant, Tensor as T};
        // One tensor is saved: the input for ops that read `x`, the output for ops that read `y`.
        let x = || &saved[0];
        let y = x;
        match self {
            Unary::Neg => Constant(-1.0),
            Unary::Exp => T(y().clone()),
            Unary::Log => T(x().recip()),
            Unary::Sqrt => T(y().recip() * 0.5),
            Unary::Abs => T(x().sign()),
            Unary::Sign => Constant(0.0),
            Unary::Sin => T(x().cos()),
            Unary::Cos => T(-x().sin()),
            Unary::Tanh => T(1.0 - y() * y()),
            Unary::Sigmoid => T(y() * (1.0 - y())),
            Unary::Relu => T(x().gt_scalar(0.0)),
            Unary::Erf => T((x() * x() * -1.0).exp() * (2.0 / PI.sqrt())),
            Unary::Gelu => {
                let cdf = (x() * FRAC_1_SQRT_2).erf() * 0.5 + 0.5;
                let pdf = (x() * x() * -0.5).exp() * (1.0 / (2.0 * PI).sqrt());
                T(cdf + x() * pdf)
            }
            Unary::Recip => T(-(y() * y())),
            Unary::LeakyRelu(slope) => T(x().gt_scalar(0.0) * (1.0 - slope) + slope),
            Unary::Square => T(x() * 2.0),
            Unary::Powf(p) => T(x().powf(p - 1.0) * p),
            Unary::Clamp(lo, hi) => T(x().ge_scalar(lo) * x().le_scalar(hi)),
            Unary::AddScalar(_) => Constant(1.0),
            Unary::MulScalar(s) => Constant(s),
            Unary::DivScalar(s) => Constant(1.0 / s),
        }
    }
}

struct UnaryBackward(Unary);

impl Backward for UnaryBackward {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _needs: &[bool]) -> Gradients {
        smallvec::smallvec![Some(self.0.derivative(saved).times(grad))]
    }

    fn vjp_owned(&self, saved: &[Tensor], grad: Tensor, _needs: &[bool]) -> Gradients {
        smallvec::smallvec![Some(self.0.derivative(saved).times_owned(grad))]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        Ok(self.0.derivative(saved).times(&tangents[0]))
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_unary(self.0))
    }
}

impl Tensor {
    pub(crate) fn try_unary(&self, op: Unary) -> Result<Tensor> {
        // A contiguous input's storage already holds as many elements as the output needs.
        if !self.is_contiguous() {
            crate::limits::allocation(op.name(), self.shape(), self.dtype())?;
        }
        let out = dispatch_float!(op.name(), self.dtype(), T => {
            Tensor::from_data(op.map::<T>(self), self.shape())
        });
        Ok(record(out, &[self], UnaryBackward(op), op.saves()))
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident, $try_name:ident => $op:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $try_name(&self) -> Result<Tensor> {
                    self.try_unary($op)
                }

                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self) -> Tensor {
                    ok(self.$try_name())
                }
            )*
        }
    };
}

unary_methods! {
    /// `-x`; derivative −1.
    neg, try_neg => Unary::Neg;
    /// `eˣ`; derivative `eˣ` (the saved output).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(0.0f64).requires_grad();
    /// let y = x.exp();
    /// y.backward();
    /// assert_eq!((y.item::<f64>(), x.grad().unwrap().item::<f64>()), (1.0, 1.0));
    /// ```
    exp, try_exp => Unary::Exp;
    /// Natural logarithm; derivative `1/x`.
    log, try_log => Unary::Log;
    /// Square root; derivative `1/(2√x)`.
    sqrt, try_sqrt => Unary::Sqrt;
    /// `|x|`; derivative `sign(x)` (0 at 0, as in PyTorch).
    abs, try_abs => Unary::Abs;
    /// −1, 0 or 1; derivative 0.
    sign, try_sign => Unary::Sign;
    /// Sine; derivative cosine.
    sin, try_sin => Unary::Sin;
    /// Cosine; derivative minus sine.
    cos, try_cos => Unary::Cos;
    /// Hyperbolic tangent; derivative `1 − y²`.
    tanh, try_tanh => Unary::Tanh;
    /// Logistic sigmoid `1/(1+e⁻ˣ)`, stable for large |x|; derivative `y(1 − y)`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(0.3f64).requires_grad();
    /// let y = x.sigmoid();
    /// y.backward();
    /// let y = y.item::<f64>();
    /// assert!((x.grad().unwrap().item::<f64>() - y * (1.0 - y)).abs() < 1e-15);
    /// ```
    sigmoid, try_sigmoid => Unary::Sigmoid;
    /// `max(x, 0)`; the gradient passes where `x > 0` only.
    relu, try_relu => Unary::Relu;
    /// The error function; derivative `2/√π · e^(−x²)`.
    erf, try_erf => Unary::Erf;
    /// Exact GELU `x·Φ(x)`; derivative `Φ(x) + x·φ(x)`.
    gelu, try_gelu => Unary::Gelu;
    /// `1/x`; derivative `−1/x²`.
    recip, try_recip => Unary::Recip;
}

impl Tensor {
    /// `x` where positive, `slope·x` elsewhere; derivative 1 or `slope`.
    pub fn try_leaky_relu(&self, slope: f64) -> Result<Tensor> {
        self.try_unary(Unary::LeakyRelu(slope))
    }

    /// Panicking form of [`Tensor::try_leaky_relu`].
    #[track_caller]
    pub fn leaky_relu(&self, slope: f64) -> Tensor {
        ok(self.try_leaky_relu(slope))
    }

    /// `xᵖ` for a constant exponent; derivative `p·xᵖ⁻¹`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(2.0f64).requires_grad();
    /// x.powf(3.0).backward();
    /// assert_eq!(x.grad().unwrap().item::<f64>(), 12.0);
    /// ```
    pub fn try_powf(&self, exponent: f64) -> Result<Tensor> {
        // A square (losses, penalties) gets its own rule: x·x forward, 2x backward.
        let op = if exponent == 2.0 {
            Unary::Square
        } else {
            Unary::Powf(exponent)
        };
        self.try_unary(op)
    }

    /// Panicking form of [`Tensor::try_powf`].
    #[track_caller]
    pub fn powf(&self, exponent: f64) -> Tensor {
        ok(self.try_powf(exponent))
    }

    /// Limits values to `[min, max]`; the gradient passes where `min ≤ x ≤ max`.
    #[track_caller]
    pub fn clamp(&self, min: f64, max: f64) -> Tensor {
        ok(self.try_clamp(min, max))
    }

    /// Fallible form of [`Tensor::clamp`]: errors when `min > max`.
    pub fn try_clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min > max {
            return Err(crate::Error::invalid(
                "clamp",
                format!("min {min} is greater than max {max}"),
            ));
        }
        self.try_unary(Unary::Clamp(min, max))
    }

    /// `x + s` for a constant; an error for an integer tensor.
    pub fn try_add_scalar(&self, s: f64) -> Result<Tensor> {
        self.try_unary(Unary::AddScalar(s))
    }

    /// Panicking form of [`Tensor::try_add_scalar`].
    #[track_caller]
    pub fn add_scalar(&self, s: f64) -> Tensor {
        ok(self.try_add_scalar(s))
    }

    /// `x · s` for a constant; an error for an integer tensor.
    pub fn try_mul_scalar(&self, s: f64) -> Result<Tensor> {
        self.try_unary(Unary::MulScalar(s))
    }

    /// Panicking form of [`Tensor::try_mul_scalar`].
    #[track_caller]
    pub fn mul_scalar(&self, s: f64) -> Tensor {
        ok(self.try_mul_scalar(s))
    }

    /// `x / s` for a constant; an error for an integer tensor.
    pub fn try_div_scalar(&self, s: f64) -> Result<Tensor> {
        self.try_unary(Unary::DivScalar(s))
    }

    /// Panicking form of [`Tensor::try_div_scalar`].
    #[track_caller]
    pub fn div_scalar(&self, s: f64) -> Tensor {
        ok(self.try_div_scalar(s))
    }
}
