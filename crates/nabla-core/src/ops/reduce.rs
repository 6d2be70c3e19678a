//! Reductions (sum, max, min over chosen dims, with `keepdim`), std with its own rule, and the
//! rule-free composites built on them: mean, var, logsumexp, softmax, log_softmax.

use super::{Save, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::Float;
use crate::error::Result;
use crate::kernels::{self, dispatch_float, reduce::reduce};
use crate::shape::{Dims, normalize_dim, normalize_dims};
use crate::tensor::Tensor;

/// Resolved reduction: which dims, the output shape, and the same shape with 1s kept.
struct Reduction {
    dims: Dims,
    out_shape: Dims,
    keep_shape: Dims,
}

impl Reduction {
    fn new(op: &'static str, x: &Tensor, dims: Option<&[isize]>, keepdim: bool) -> Result<Self> {
        let mut dims = match dims {
            Some(d) => normalize_dims(op, d, x.shape())?,
            None => (0..x.ndim()).collect(),
        };
        // A 0-d tensor's dim 0 is a dim of size 1 only in name: there is nothing to reduce.
        if x.ndim() == 0 {
            dims.clear();
        }
        let keep_shape: Dims = x
            .shape()
            .iter()
            .enumerate()
            .map(|(i, &s)| if dims.contains(&i) { 1 } else { s })
            .collect();
        let out_shape = if keepdim {
            keep_shape.clone()
        } else {
            x.shape()
                .iter()
                .enumerate()
                .filter(|(i, _)| !dims.contains(i))
                .map(|(_, &s)| s)
                .collect()
        };
        crate::limits::allocation(op, &out_shape, x.dtype())?;
        Ok(Reduction {
            dims,
            out_shape,
            keep_shape,
        })
    }
}

struct SumBackward {
    input_shape: Dims,
    keep_shape: Dims,
    out_shape: Dims,
}

impl Backward for SumBackward {
    fn name(&self) -> &'static str {
        "SumBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let each = Local::map("{g} copied to every element it summed", Binding::Sum);
        Some(Formula::new("sum({0})", Binding::Atom, "Σ", vec![each]))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(
            grad.reshape(&self.keep_shape).expand(&self.input_shape),
        )]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0]
            .try_sum_to(&self.keep_shape)?
            .try_reshape(&self.out_shape)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(self.jvp(&[], inputs))
    }
}

/// Max and min send the gradient to the elements equal to the result, split evenly on ties. As
/// in PyTorch, where the result is NaN the whole reduction (`max()`) shares it among the NaN
/// elements, and a reduction over chosen dims (`amax`) gives NaN to every element of the run.
struct ExtremumBackward {
    name: &'static str,
    /// Whether every dim was reduced by `max()`/`min()` rather than named.
    whole: bool,
    dims: Dims,
    keep_shape: Dims,
    out_shape: Dims,
}

impl ExtremumBackward {
    /// The share of the result each input element holds: 1/k for the k elements equal to it.
    fn shares(&self, x: &Tensor, y: &Tensor) -> Tensor {
        let y = y.reshape(&self.keep_shape);
        let mut hits = x.eq(&y);
        if self.whole {
            hits = hits + x.ne(x) * y.ne(&y);
        }
        let dims: Vec<isize> = self.dims.iter().map(|&d| d as isize).collect();
        let count = hits.sum_dims(&dims, true);
        hits / count
    }
}

impl Backward for ExtremumBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    fn rule(&self) -> &'static str {
        "ExtremumBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let f = if self.name == "MaxBackward" {
            "max"
        } else {
            "min"
        };
        let share = "{g}/k where {0} = {y} (k such elements), 0 elsewhere";
        let each = Local::map(share, Binding::Sum);
        Some(Formula::new(
            &format!("{f}({{0}})"),
            Binding::Atom,
            f,
            vec![each],
        ))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        let shares = self.shares(&saved[0], &saved[1]);
        smallvec::smallvec![Some(grad.reshape(&self.keep_shape) * shares)]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let shares = self.shares(&saved[0], &saved[1]);
        (&tangents[0] * shares)
            .try_sum_to(&self.keep_shape)?
            .try_reshape(&self.out_shape)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let dims: Vec<isize> = self.dims.iter().map(|&d| d as isize).collect();
        let max = self.name == "MaxBackward";
        Some(
            inputs[0]
                .try_extremum(Some(&dims), true, max)
                .and_then(|y| y.try_reshape(&self.out_shape)),
        )
    }
}

/// The standard deviation's rule, after PyTorch's `std_backward`: `∂σ/∂x = (x − x̄)/((n − c)·σ)`,
/// zero where `σ = 0`.
struct StdBackward {
    dims: Vec<isize>,
    keepdim: bool,
    correction: usize,
    /// `n − correction`, at least 0.
    divisor: f64,
    keep_shape: Dims,
}

impl StdBackward {
    /// `∂σ/∂x` for every element of `x`, from `x` and the result `sigma`.
    fn partial(&self, x: &Tensor, sigma: &Tensor) -> Tensor {
        let sigma = sigma.reshape(&self.keep_shape);
        let flat = sigma.eq_scalar(0.0);
        let n = x.numel() / sigma.numel().max(1);
        let centred = x - x.sum_dims(&self.dims, true) / n as f64;
        centred / ((&sigma + &flat) * self.divisor) * (1.0 - flat)
    }
}

impl Backward for StdBackward {
    fn name(&self) -> &'static str {
        "StdBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let derivative = format!("{{g}}·({{0}} − mean({{0}}))/({}·{{y*}})", self.divisor);
        let each = Local::map(&derivative, Binding::Product);
        Some(Formula::new("std({0})", Binding::Atom, "std", vec![each]))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        let partial = self.partial(&saved[0], &saved[1]);
        smallvec::smallvec![Some(grad.reshape(&self.keep_shape) * partial)]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        (&tangents[0] * self.partial(&saved[0], &saved[1]))
            .try_sum_dims_opt(Some(&self.dims), self.keepdim)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_std_dims(&self.dims, self.keepdim, self.correction))
    }
}

fn extremum<T: Float>(run: &[T], max: bool) -> T {
    let mut best = run[0];
    for &v in &run[1..] {
        if v.is_nan() || best.is_nan() {
            return T::nan();
        }
        if (max && v > best) || (!max && v < best) {
            best = v;
        }
    }
    best
}

/// The index of the first extreme value, or of the first NaN, as in PyTorch.
fn arg_extremum<T: Float>(run: &[T], max: bool) -> i64 {
    let mut best = 0;
    for (i, &v) in run.iter().enumerate() {
        if v.is_nan() {
            return i as i64;
        }
        if (max && v > run[best]) || (!max && v < run[best]) {
            best = i;
        }
    }
    best as i64
}

impl Tensor {
    /// Sum over `dims` (all dims when `None`).
    pub fn try_sum_dims_opt(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let r = Reduction::new("sum", self, dims, keepdim)?;
        let out = dispatch_float!("sum", self.dtype(), T => {
            Tensor::from_vec(kernels::reduce::sum::<T>(self, &r.dims)?, &r.out_shape)
        });
        let backward = SumBackward {
            input_shape: self.dims_vec(),
            keep_shape: r.keep_shape,
            out_shape: r.out_shape,
        };
        Ok(record(out, &[self], backward, &[]))
    }

    /// Sum of all elements, as a 0-d tensor.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::arange(1.0f64, 5.0, 1.0).sum().item::<f64>(), 10.0);
    /// ```
    pub fn try_sum(&self) -> Result<Tensor> {
        self.try_sum_dims_opt(None, false)
    }

    /// Panicking form of [`Tensor::try_sum`].
    #[track_caller]
    pub fn sum(&self) -> Tensor {
        ok(self.try_sum())
    }

    /// Sum over `dims`; `keepdim` keeps them with size 1. Gradient: broadcast back.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::arange(0.0f64, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(t.sum_dims(&[1], false).to_vec::<f64>(), vec![3.0, 12.0]);
    /// assert_eq!(t.sum_dims(&[0], true).shape(), &[1, 3]);
    /// ```
    pub fn try_sum_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.try_sum_dims_opt(Some(dims), keepdim)
    }

    /// Panicking form of [`Tensor::try_sum_dims`].
    #[track_caller]
    pub fn sum_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_sum_dims(dims, keepdim))
    }

    /// Sums a broadcast tensor down to `shape` (the adjoint of `expand`).
    pub fn try_sum_to(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = self.ndim().checked_sub(shape.len()).ok_or_else(|| {
            crate::Error::shapes("sum_to", self.shape(), shape, "target has more dims")
        })?;
        let mut dims: Vec<isize> = (0..lead as isize).collect();
        for (i, &s) in shape.iter().enumerate() {
            let have = self.shape()[lead + i];
            if s == 1 && have != 1 {
                dims.push((lead + i) as isize);
            } else if s != have {
                return Err(crate::Error::shapes(
                    "sum_to",
                    self.shape(),
                    shape,
                    "not a broadcast of the target",
                ));
            }
        }
        self.try_sum_dims_opt(Some(&dims), true)?.try_reshape(shape)
    }

    /// Panicking form of [`Tensor::try_sum_to`].
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Tensor {
        ok(self.try_sum_to(shape))
    }

    /// Mean of all elements.
    pub fn try_mean(&self) -> Result<Tensor> {
        let n = self.numel() as f64;
        self.try_sum()?.try_div_scalar(n)
    }

    /// Panicking form of [`Tensor::try_mean`].
    #[track_caller]
    pub fn mean(&self) -> Tensor {
        ok(self.try_mean())
    }

    /// Mean over `dims`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::arange(0.0f64, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(t.mean_dims(&[1], false).to_vec::<f64>(), vec![1.0, 4.0]);
    /// ```
    pub fn try_mean_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let total = self.try_sum_dims(dims, keepdim)?;
        let n = self.numel() / total.numel().max(1);
        total.try_div_scalar(n as f64)
    }

    /// Panicking form of [`Tensor::try_mean_dims`].
    #[track_caller]
    pub fn mean_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_mean_dims(dims, keepdim))
    }

    pub(crate) fn try_extremum(
        &self,
        dims: Option<&[isize]>,
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        let (op, name) = if max {
            ("max", "MaxBackward")
        } else {
            ("min", "MinBackward")
        };
        if self.numel() == 0 {
            return Err(crate::Error::invalid(op, "cannot reduce an empty tensor"));
        }
        let r = Reduction::new(op, self, dims, keepdim)?;
        let out = dispatch_float!(op, self.dtype(), T => {
            Tensor::from_vec(reduce(op, self, &r.dims, |run: &[T]| extremum(run, max))?, &r.out_shape)
        });
        let backward = ExtremumBackward {
            name,
            whole: dims.is_none(),
            dims: r.dims,
            keep_shape: r.keep_shape,
            out_shape: r.out_shape,
        };
        Ok(record(
            out,
            &[self],
            backward,
            &[Save::Input(0), Save::Output],
        ))
    }

    /// Largest element, NaN if any element is NaN; the gradient goes to the maximal elements
    /// (the NaN ones when the result is NaN), shared evenly. An error for an empty tensor.
    pub fn try_max(&self) -> Result<Tensor> {
        self.try_extremum(None, false, true)
    }

    /// Panicking form of [`Tensor::try_max`].
    #[track_caller]
    pub fn max(&self) -> Tensor {
        ok(self.try_max())
    }

    /// Largest values over `dims` (PyTorch's `amax`): NaN where the run holds a NaN, and then
    /// the gradient of every element of the run is NaN.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f64, 5.0, 3.0, 2.0], &[2, 2]);
    /// assert_eq!(t.max_dims(&[1], false).to_vec::<f64>(), vec![5.0, 3.0]);
    /// ```
    pub fn try_max_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.try_extremum(Some(dims), keepdim, true)
    }

    /// Panicking form of [`Tensor::try_max_dims`].
    #[track_caller]
    pub fn max_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_max_dims(dims, keepdim))
    }

    /// Smallest element; an error for an empty tensor.
    pub fn try_min(&self) -> Result<Tensor> {
        self.try_extremum(None, false, false)
    }

    /// Panicking form of [`Tensor::try_min`].
    #[track_caller]
    pub fn min(&self) -> Tensor {
        ok(self.try_min())
    }

    /// Smallest values over `dims` (PyTorch's `amin`).
    pub fn try_min_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.try_extremum(Some(dims), keepdim, false)
    }

    /// Panicking form of [`Tensor::try_min_dims`].
    #[track_caller]
    pub fn min_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_min_dims(dims, keepdim))
    }

    /// Index of the largest value along `dim` (first on ties), as `i64`; an error for a dim
    /// out of range or of size 0.
    pub fn try_argmax(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.try_arg_extremum(dim, keepdim, true)
    }

    /// Index of the smallest value along `dim` (first on ties), as `i64`.
    pub fn try_argmin(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.try_arg_extremum(dim, keepdim, false)
    }

    fn try_arg_extremum(&self, dim: isize, keepdim: bool, max: bool) -> Result<Tensor> {
        let op = if max { "argmax" } else { "argmin" };
        let d = normalize_dim(op, dim, self.shape())?;
        if self.shape().get(d) == Some(&0) {
            return Err(crate::Error::invalid(op, "cannot reduce an empty dim"));
        }
        let r = Reduction::new(op, self, Some(&[d as isize]), keepdim)?;
        Ok(dispatch_float!(op, self.dtype(), T => {
            Tensor::from_vec(reduce(op, self, &r.dims, |run: &[T]| arg_extremum(run, max))?, &r.out_shape)
        }))
    }

    /// Index of the largest value along `dim` (first on ties, or the first NaN), as `i64`; not
    /// differentiable.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 2.0], &[2, 2]);
    /// assert_eq!(t.argmax(1, false).to_vec::<i64>(), vec![1, 0]);
    /// ```
    #[track_caller]
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Tensor {
        ok(self.try_argmax(dim, keepdim))
    }

    /// Index of the smallest value along `dim` (first on ties, or the first NaN), as `i64`.
    #[track_caller]
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Tensor {
        ok(self.try_argmin(dim, keepdim))
    }

    /// Variance over `dims` with `correction` (1: unbiased, 0: population), as in PyTorch: the
    /// sum of squared deviations divided by `max(n − correction, 0)`, so one element with
    /// correction 1, or an empty run, gives NaN (0/0).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]);
    /// assert_eq!(t.var_dims(&[0], false, 1).item::<f64>(), 5.0 / 3.0);
    /// assert_eq!(t.var_dims(&[0], false, 0).item::<f64>(), 1.25);
    /// assert!(Tensor::from_vec(vec![3.0f64], &[1]).var().item::<f64>().is_nan());
    /// ```
    pub fn try_var_dims(&self, dims: &[isize], keepdim: bool, correction: usize) -> Result<Tensor> {
        self.check_float("var")?;
        let r = Reduction::new("var", self, Some(dims), keepdim)?;
        let n: usize = r.dims.iter().map(|&d| self.shape()[d]).product();
        let mean = self.try_sum_dims_opt(Some(dims), true)? / n as f64;
        let centred = self.try_sub(&mean)?;
        let squares = (&centred * &centred).try_sum_dims_opt(Some(dims), keepdim)?;
        Ok(squares / n.saturating_sub(correction) as f64)
    }

    /// Panicking form of [`Tensor::try_var_dims`].
    #[track_caller]
    pub fn var_dims(&self, dims: &[isize], keepdim: bool, correction: usize) -> Tensor {
        ok(self.try_var_dims(dims, keepdim, correction))
    }

    /// Unbiased variance of all elements.
    pub fn try_var(&self) -> Result<Tensor> {
        let all: Vec<isize> = (0..self.ndim() as isize).collect();
        self.try_var_dims(&all, false, 1)
    }

    /// Panicking form of [`Tensor::try_var`].
    #[track_caller]
    pub fn var(&self) -> Tensor {
        ok(self.try_var())
    }

    /// Standard deviation over `dims` with `correction`, `√var`, as in PyTorch: NaN where the
    /// variance is (one element with correction 1), and a zero gradient where the deviation is
    /// zero (where `1/(2√var)` would make it NaN).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).requires_grad();
    /// let s = t.std_dims(&[0], false, 1);
    /// s.backward();
    /// assert_eq!(s.item::<f64>(), 2f64.sqrt());
    /// let flat = Tensor::from_vec(vec![2.0f64, 2.0], &[2]).requires_grad();
    /// flat.std().backward();
    /// assert_eq!(flat.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0]);
    /// ```
    pub fn try_std_dims(&self, dims: &[isize], keepdim: bool, correction: usize) -> Result<Tensor> {
        self.check_float("std")?;
        let r = Reduction::new("std", self, Some(dims), keepdim)?;
        let n: usize = r.dims.iter().map(|&d| self.shape()[d]).product();
        let out = self
            .detach()
            .try_var_dims(dims, keepdim, correction)?
            .sqrt();
        let backward = StdBackward {
            dims: r.dims.iter().map(|&d| d as isize).collect(),
            keepdim,
            correction,
            divisor: n.saturating_sub(correction) as f64,
            keep_shape: r.keep_shape,
        };
        Ok(record(
            out,
            &[self],
            backward,
            &[Save::Input(0), Save::Output],
        ))
    }

    /// Panicking form of [`Tensor::try_std_dims`].
    #[track_caller]
    pub fn std_dims(&self, dims: &[isize], keepdim: bool, correction: usize) -> Tensor {
        ok(self.try_std_dims(dims, keepdim, correction))
    }

    /// Standard deviation of all elements, with correction 1.
    #[track_caller]
    pub fn std(&self) -> Tensor {
        ok(self.try_std())
    }

    /// Fallible form of [`Tensor::std`]: errors for an integer tensor.
    pub fn try_std(&self) -> Result<Tensor> {
        let all: Vec<isize> = (0..self.ndim() as isize).collect();
        self.try_std_dims(&all, false, 1)
    }

    /// `log Σ exp(x)` over `dims`, computed stably by shifting by the (constant) maximum.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1000.0f64, 1000.0], &[2]);
    /// assert!((t.logsumexp(&[0], false).item::<f64>() - (1000.0 + 2f64.ln())).abs() < 1e-9);
    /// ```
    pub fn try_logsumexp(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let shift = self.detach().try_max_dims(dims, true)?;
        // An infinite maximum would turn the shift into inf − inf; shift by 0 there instead.
        let finite = shift.abs().lt_scalar(f64::INFINITY);
        let shift = finite.where_cond(&shift, &shift.zeros_like());
        let sum = self
            .try_sub(&shift)?
            .exp()
            .try_sum_dims_opt(Some(dims), true)?;
        let out = sum.log() + shift;
        if keepdim {
            Ok(out)
        } else {
            let r = Reduction::new("logsumexp", self, Some(dims), false)?;
            out.try_reshape(&r.out_shape)
        }
    }

    /// Panicking form of [`Tensor::try_logsumexp`].
    #[track_caller]
    pub fn logsumexp(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_logsumexp(dims, keepdim))
    }

    /// `exp(x) / Σ exp(x)` along `dim`, stable for large values.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let p = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).softmax(0);
    /// assert!((p.sum().item::<f64>() - 1.0).abs() < 1e-15);
    /// ```
    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        let shift = self.detach().try_max_dims(&[dim], true)?;
        let e = self.try_sub(&shift)?.exp();
        let total = e.try_sum_dims_opt(Some(&[dim]), true)?;
        e.try_div(&total)
    }

    /// Panicking form of [`Tensor::try_softmax`].
    #[track_caller]
    pub fn softmax(&self, dim: isize) -> Tensor {
        ok(self.try_softmax(dim))
    }

    /// `x − logsumexp(x)` along `dim`.
    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        let lse = self.try_logsumexp(&[dim], true)?;
        self.try_sub(&lse)
    }

    /// Panicking form of [`Tensor::try_log_softmax`].
    #[track_caller]
    pub fn log_softmax(&self, dim: isize) -> Tensor {
        ok(self.try_log_softmax(dim))
    }
}
