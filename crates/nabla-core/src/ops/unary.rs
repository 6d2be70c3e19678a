//! Elementwise functions of one tensor, stated once: the scalar forward `f` and the derivative
//! `f'` as a tensor expression. The backward rule is always `grad · f'`, and since `f'` is built
//! from differentiable operations, it can itself be differentiated.

use super::{Factor, Save, ok, per_variant, record, saved_at};
use crate::autograd::formula::{At, Binding, Formula, Local, exponent};
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
    ClampMin(f64),
    ClampMax(f64),
    AddScalar(f64),
    MulScalar(f64),
    DivScalar(f64),
}

crate::autograd::rules::rule_keys!(Unary {
    Neg => "NegBackward",
    Exp => "ExpBackward",
    Log => "LogBackward",
    Sqrt => "SqrtBackward",
    Abs => "AbsBackward",
    Sign => "SignBackward",
    Sin => "SinBackward",
    Cos => "CosBackward",
    Tanh => "TanhBackward",
    Sigmoid => "SigmoidBackward",
    Relu => "ReluBackward",
    Erf => "ErfBackward",
    Gelu => "GeluBackward",
    Recip => "ReciprocalBackward",
    Square => "PowBackward(square)",
    LeakyRelu => "LeakyReluBackward",
    Powf => "PowBackward(scalar)",
    Clamp => "ClampBackward",
    ClampMin => "ClampMinBackward",
    ClampMax => "ClampMaxBackward",
    AddScalar => "AddBackward(scalar)",
    MulScalar => "MulBackward(scalar)",
    DivScalar => "DivBackward(scalar)",
});

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
            Unary::ClampMin(_) => "ClampMinBackward",
            Unary::ClampMax(_) => "ClampMaxBackward",
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
            Unary::Sigmoid => x.sigmoid_kernel(),
            // NaN and −0 are not below zero and pass through, as in PyTorch.
            Unary::Relu => {
                if x < T::zero() {
                    T::zero()
                } else {
                    x
                }
            }
            Unary::Erf => x.erf_kernel(),
            Unary::Gelu => x.gelu_kernel(),
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
                // Selects rather than one branch chain, so the loop vectorises; a NaN element
                // fails both comparisons and passes through, and a NaN bound (a constant, so the
                // test leaves the loop) makes every element NaN, as in PyTorch.
                let raised = if x < c(lo) { c(lo) } else { x };
                let lowered = if raised > c(hi) { c(hi) } else { raised };
                if lo.is_nan() || hi.is_nan() {
                    T::nan()
                } else {
                    lowered
                }
            }
            Unary::ClampMin(lo) => {
                let raised = if x < c(lo) { c(lo) } else { x };
                if lo.is_nan() { T::nan() } else { raised }
            }
            Unary::ClampMax(hi) => {
                let lowered = if x > c(hi) { c(hi) } else { x };
                if hi.is_nan() { T::nan() } else { lowered }
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
            LeakyRelu, Powf, ClampMin, ClampMax, AddScalar, MulScalar, DivScalar;
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
            // As PyTorch: zero where the input is at most zero, one elsewhere (NaN included).
            Unary::Relu => T(x().gt_or_nan_scalar(0.0)),
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
            // Strictly inside the bounds, as PyTorch 2: zero at a bound, at NaN and for a NaN bound.
            Unary::Clamp(lo, hi) => T(x().gt_scalar(lo) * x().lt_scalar(hi)),
            Unary::ClampMin(lo) => T(x().gt_scalar(lo)),
            Unary::ClampMax(hi) => T(x().lt_scalar(hi)),
            Unary::AddScalar(_) => Constant(1.0),
            Unary::MulScalar(s) => Constant(s),
            Unary::DivScalar(s) => Constant(1.0 / s),
        }
    }
}

impl Factor {
    /// The factor as a tensor (a constant as a 0-d tensor of `like`'s dtype).
    pub(crate) fn tensor(self, like: &Tensor) -> Tensor {
        match self {
            Factor::Constant(c) => Tensor::scalar(c).to_dtype(like.dtype()),
            Factor::Tensor(t) => t,
        }
    }
}

impl Unary {
    /// The rule stated: the output in its input `{0}` with its symbol, and the derivative
    /// [`Unary::derivative`] computes, in `{0}` and the output `{y}`.
    fn formula(self, at: Option<&At>) -> Formula {
        use Binding::{Atom, Power, Prefix, Product, Sum};
        let n = |v: f64| crate::autograd::formula::number(v).0;
        let call = |f: &str| (format!("{f}({{0}})"), Atom, f.to_string());
        let (output, binding, symbol) = match self {
            Unary::Neg => ("-{0-}".to_string(), Prefix, "−".to_string()),
            Unary::Exp => call("exp"),
            Unary::Log => call("log"),
            Unary::Sqrt => call("sqrt"),
            Unary::Abs => call("abs"),
            Unary::Sign => call("sign"),
            Unary::Sin => call("sin"),
            Unary::Cos => call("cos"),
            Unary::Tanh => call("tanh"),
            Unary::Sigmoid => call("sigmoid"),
            Unary::Relu => call("relu"),
            Unary::Erf => call("erf"),
            Unary::Gelu => call("gelu"),
            Unary::LeakyRelu(_) => call("leaky_relu"),
            Unary::Recip => ("1/{0-}".to_string(), Product, "1/x".to_string()),
            Unary::Square => ("{0^}^2".to_string(), Power, "^2".to_string()),
            Unary::Powf(p) if p < 0.0 => {
                (format!("{{0^}}^({})", n(p)), Power, format!("^{}", n(p)))
            }
            Unary::Powf(p) => (format!("{{0^}}^{}", n(p)), Power, format!("^{}", n(p))),
            Unary::Clamp(lo, hi) => {
                let f = format!("clamp({{0}}, {}, {})", n(lo), n(hi));
                (f, Atom, "clamp".to_string())
            }
            Unary::ClampMin(lo) => (format!("max({{0}}, {})", n(lo)), Atom, "max".to_string()),
            Unary::ClampMax(hi) => (format!("min({{0}}, {})", n(hi)), Atom, "min".to_string()),
            Unary::AddScalar(s) if s < 0.0 => (format!("{{0}} - {}", n(-s)), Sum, "+".to_string()),
            Unary::AddScalar(s) => (format!("{{0}} + {}", n(s)), Sum, "+".to_string()),
            Unary::MulScalar(s) if s < 0.0 => {
                (format!("{{0*}}*({})", n(s)), Product, "×".to_string())
            }
            Unary::MulScalar(s) => (format!("{{0*}}*{}", n(s)), Product, "×".to_string()),
            Unary::DivScalar(s) if s < 0.0 => {
                (format!("{{0*}}/({})", n(s)), Product, "÷".to_string())
            }
            Unary::DivScalar(s) => (format!("{{0*}}/{}", n(s)), Product, "÷".to_string()),
        };
        let (derivative, bound) = match self {
            Unary::Neg => ("-1".to_string(), Prefix),
            Unary::Exp => ("{y}".to_string(), Atom),
            Unary::Log => ("1/{0^}".to_string(), Product),
            Unary::Sqrt => ("1/(2·{y*})".to_string(), Product),
            Unary::Abs => ("sign({0})".to_string(), Atom),
            Unary::Sign => ("0".to_string(), Atom),
            Unary::Sin => ("cos({0})".to_string(), Atom),
            Unary::Cos => ("-sin({0})".to_string(), Prefix),
            Unary::Tanh => ("1 − {y^}²".to_string(), Sum),
            Unary::Sigmoid => ("{y*}·(1 − {y*})".to_string(), Product),
            Unary::Relu => ("1 if {0} > 0 else 0".to_string(), Sum),
            Unary::Erf => ("2/√π·exp(-{0^}²)".to_string(), Product),
            Unary::Gelu => ("Φ({0}) + {0*}·φ({0})".to_string(), Sum),
            Unary::Recip => ("-{y^}²".to_string(), Prefix),
            Unary::Square => ("2·{0^}¹".to_string(), Product),
            Unary::LeakyRelu(slope) => (format!("1 if {{0}} > 0 else {}", n(slope)), Sum),
            Unary::Powf(p) => (format!("{}·{{0^}}{}", n(p), exponent(p - 1.0)), Product),
            Unary::Clamp(lo, hi) => (format!("1 if {} < {{0}} < {} else 0", n(lo), n(hi)), Sum),
            Unary::ClampMin(lo) => (format!("1 if {{0}} > {} else 0", n(lo)), Sum),
            Unary::ClampMax(hi) => (format!("1 if {{0}} < {} else 0", n(hi)), Sum),
            Unary::AddScalar(_) => ("1".to_string(), Atom),
            Unary::MulScalar(s) => (n(s), if s < 0.0 { Prefix } else { Atom }),
            Unary::DivScalar(s) => (format!("1/{}", n(s)), Product),
        };
        let value = at
            .and_then(|at| Some((saved_at(self.saves(), at)?, at.output)))
            .map(|(saved, like)| self.derivative(&saved).tensor(like));
        Formula::new(
            &output,
            binding,
            &symbol,
            vec![Local::elementwise(&derivative, bound, value)],
        )
    }
}

struct UnaryBackward(Unary);

impl Backward for UnaryBackward {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn rule(&self) -> &'static str {
        self.0.rule()
    }

    fn formula(&self, _: usize, at: Option<&At>) -> Option<Formula> {
        Some(self.0.formula(at))
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
        self.check_gather(op.name())?;
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
    /// `max(x, 0)`, NaN staying NaN; the gradient is stopped where `x ≤ 0` and passes elsewhere
    /// (at NaN too), as in PyTorch.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f64, 2.0, f64::NAN], &[3]).requires_grad();
    /// let y = x.relu();
    /// y.sum().backward();
    /// assert_eq!(y.to_vec::<f64>()[..2], [0.0, 2.0]);
    /// assert!(y.to_vec::<f64>()[2].is_nan());
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 1.0, 1.0]);
    /// ```
    relu, try_relu => Unary::Relu;
    /// The error function; derivative `2/√π · e^(−x²)`. In f64 the C library's; in f32 a
    /// vectorised approximation within 3.3e-7 (7.5 ulp) of the exact value for x in [−10, 10].
    erf, try_erf => Unary::Erf;
    /// GELU `x·Φ(x)` with the exact normal CDF `Φ` (PyTorch's default, not the tanh
    /// approximation); derivative `Φ(x) + x·φ(x)`. In f64 through the C library's erf; in f32 a
    /// vectorised approximation within 1.0e-6 of the exact value for x in [−10, 10] (PyTorch's
    /// f32 GELU: 1.07e-6), its derivative within 2.2e-7; as in PyTorch, the negative tail keeps
    /// its absolute, not its relative, accuracy.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let y = Tensor::from_vec(vec![-1.0f32, 0.0, 2.0], &[3]).gelu().to_vec::<f32>();
    /// let exact = [-0.158_655_25f64, 0.0, 1.954_499_7];
    /// assert!(y.iter().zip(exact).all(|(&a, b)| (a as f64 - b).abs() < 4e-7));
    /// ```
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

    /// Limits values to `[min, max]`. As in PyTorch 2, the gradient passes strictly inside,
    /// `min < x < max`, and is zero at either bound; a NaN element stays NaN (gradient zero), and
    /// a NaN bound makes every element NaN.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0f64, -1.0, 0.5, 1.0], &[4]).requires_grad();
    /// let y = x.clamp(-1.0, 1.0);
    /// y.sum().backward();
    /// assert_eq!(y.to_vec::<f64>(), vec![-1.0, -1.0, 0.5, 1.0]);
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0, 1.0, 0.0]);
    /// assert!(x.clamp(f64::NAN, 1.0).to_vec::<f64>().iter().all(|v| v.is_nan()));
    /// ```
    #[track_caller]
    pub fn clamp(&self, min: f64, max: f64) -> Tensor {
        ok(self.try_clamp(min, max))
    }

    /// Values below `min` raised to it (PyTorch's `clamp_min`, or `clamp(min=…)`); the gradient
    /// passes where `x > min`, so an infinite element keeps its gradient, unlike
    /// `clamp(min, ∞)`. A NaN bound makes every element NaN.
    #[track_caller]
    pub fn clamp_min(&self, min: f64) -> Tensor {
        ok(self.try_clamp_min(min))
    }

    /// Fallible form of [`Tensor::clamp_min`]: errors for an integer tensor.
    pub fn try_clamp_min(&self, min: f64) -> Result<Tensor> {
        self.check_float("clamp_min")?;
        self.try_unary(Unary::ClampMin(min))
    }

    /// Values above `max` lowered to it (PyTorch's `clamp_max`); the gradient passes where
    /// `x < max`.
    #[track_caller]
    pub fn clamp_max(&self, max: f64) -> Tensor {
        ok(self.try_clamp_max(max))
    }

    /// Fallible form of [`Tensor::clamp_max`]: errors for an integer tensor.
    pub fn try_clamp_max(&self, max: f64) -> Result<Tensor> {
        self.check_float("clamp_max")?;
        self.try_unary(Unary::ClampMax(max))
    }

    /// Fallible form of [`Tensor::clamp`]: errors when `min > max` (PyTorch would set every
    /// element to `max`).
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
