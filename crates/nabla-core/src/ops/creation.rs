//! Constructors: filled, ranged, identity and random tensors. None of them joins a graph. Each
//! checks its shape first (see [`crate::limits`]): a shape whose size overflows or exceeds the
//! machine's memory is an error naming it, never an attempted allocation.

use super::ok;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::dispatch_any;
use crate::limits;
use crate::random::{Generator, with_global_generator};
use crate::tensor::Tensor;

impl Tensor {
    fn try_filled(op: &'static str, shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        let n = limits::allocation(op, shape, dtype)?;
        // From the buffer pool: a large fresh allocation would come as new pages the kernel
        // zeroes on first touch, which costs more than filling a reused buffer.
        Ok(dispatch_any!(dtype, T => {
            let mut data = crate::pool::take::<T>(n);
            data.fill(T::from_f64(value));
            Tensor::from_data(data, shape)
        }))
    }

    /// A tensor of `shape` filled with `value` (converted to `dtype`).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::full(&[2], 1.5, DType::F32).to_vec::<f32>(), vec![1.5, 1.5]);
    /// assert!(Tensor::try_full(&[1 << 40, 1 << 40], 1.5, DType::F32).is_err());
    /// ```
    pub fn try_full(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        Tensor::try_filled("full", shape, value, dtype)
    }

    /// Panicking form of [`Tensor::try_full`].
    #[track_caller]
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        ok(Tensor::try_full(shape, value, dtype))
    }

    /// Zeros of `shape`; an error when the shape could not be held in memory.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::try_zeros(&[2], DType::F64).unwrap().to_vec::<f64>(), vec![0.0, 0.0]);
    /// ```
    pub fn try_zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::try_filled("zeros", shape, 0.0, dtype)
    }

    /// Panicking form of [`Tensor::try_zeros`].
    #[track_caller]
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        ok(Tensor::try_zeros(shape, dtype))
    }

    /// Ones of `shape`; an error when the shape could not be held in memory.
    pub fn try_ones(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::try_filled("ones", shape, 1.0, dtype)
    }

    /// Panicking form of [`Tensor::try_ones`].
    #[track_caller]
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        ok(Tensor::try_ones(shape, dtype))
    }

    /// Zeros with this tensor's shape and dtype.
    #[track_caller]
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape(), self.dtype())
    }

    /// Ones with this tensor's shape and dtype.
    #[track_caller]
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape(), self.dtype())
    }

    /// `value` everywhere, with this tensor's shape and dtype.
    #[track_caller]
    pub fn full_like(&self, value: f64) -> Tensor {
        Tensor::full(self.shape(), value, self.dtype())
    }

    /// Values `start, start + step, ...` below `end`, with the dtype of `T`. As in PyTorch, the
    /// bounds and step must be finite, the step nonzero and pointing from `start` to `end`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::arange(0.0f64, 1.0, 0.25).to_vec::<f64>(), vec![0.0, 0.25, 0.5, 0.75]);
    /// assert!(Tensor::try_arange(0.0f64, 1.0, -1.0).is_err());
    /// ```
    pub fn try_arange<T: Element>(start: T, end: T, step: T) -> Result<Tensor> {
        let (s, e, d) = (start.as_f64(), end.as_f64(), step.as_f64());
        if !(s.is_finite() && e.is_finite() && d.is_finite()) {
            return Err(Error::invalid(
                "arange",
                format!("unsupported range {s} to {e} by {d}: all three must be finite"),
            ));
        }
        if d == 0.0 {
            return Err(Error::invalid("arange", "step must not be zero"));
        }
        if (e - s) * d.signum() < 0.0 {
            return Err(Error::invalid(
                "arange",
                format!("the step {d} does not lead from {s} to {e}"),
            ));
        }
        let count = ((e - s) / d).ceil();
        if count > isize::MAX as f64 {
            return Err(Error::invalid(
                "arange",
                format!("{s} to {e} by {d} has more elements than fit in memory"),
            ));
        }
        let n = limits::allocation("arange", &[count as usize], T::DTYPE)?;
        Ok(Tensor::from_vec(
            (0..n).map(|i| T::from_f64(s + i as f64 * d)).collect(),
            &[n],
        ))
    }

    /// Panicking form of [`Tensor::try_arange`].
    #[track_caller]
    pub fn arange<T: Element>(start: T, end: T, step: T) -> Tensor {
        ok(Tensor::try_arange(start, end, step))
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::linspace(0.0, 1.0, 3, DType::F64).to_vec::<f64>(), vec![0.0, 0.5, 1.0]);
    /// ```
    pub fn try_linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        limits::allocation("linspace", &[steps], dtype)?;
        let values = (0..steps).map(|i| {
            if steps == 1 {
                start
            } else {
                start + (end - start) * i as f64 / (steps - 1) as f64
            }
        });
        Ok(dispatch_any!(dtype, T => Tensor::from_vec(values.map(T::from_f64).collect(), &[steps])))
    }

    /// Panicking form of [`Tensor::try_linspace`].
    #[track_caller]
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        ok(Tensor::try_linspace(start, end, steps, dtype))
    }

    /// The `n × n` identity matrix.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::eye(2, DType::F32).to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn try_eye(n: usize, dtype: DType) -> Result<Tensor> {
        let total = limits::allocation("eye", &[n, n], dtype)?;
        let values = (0..total).map(|i| if i / n == i % n { 1.0 } else { 0.0 });
        Ok(dispatch_any!(dtype, T => Tensor::from_vec(values.map(T::from_f64).collect(), &[n, n])))
    }

    /// Panicking form of [`Tensor::try_eye`].
    #[track_caller]
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        ok(Tensor::try_eye(n, dtype))
    }

    fn sample(
        op: &'static str,
        shape: &[usize],
        dtype: DType,
        mut draw: impl FnMut() -> f64,
    ) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(Error::UnsupportedDType {
                op,
                got: dtype,
                expected: "f32 or f64",
            });
        }
        let n = limits::allocation(op, shape, dtype)?;
        Ok(
            dispatch_any!(dtype, T => Tensor::from_vec((0..n).map(|_| T::from_f64(draw())).collect(), shape)),
        )
    }

    /// Uniform values in `[0, 1)` from the process-wide generator.
    pub fn try_rand(shape: &[usize], dtype: DType) -> Result<Tensor> {
        with_global_generator(|g| Tensor::try_rand_with(shape, dtype, g))
    }

    /// Panicking form of [`Tensor::try_rand`].
    #[track_caller]
    pub fn rand(shape: &[usize], dtype: DType) -> Tensor {
        ok(Tensor::try_rand(shape, dtype))
    }

    /// Standard normal values from the process-wide generator.
    ///
    /// ```
    /// use nabla_core::{manual_seed, DType, Tensor};
    /// manual_seed(42);
    /// let a = Tensor::randn(&[3], DType::F64);
    /// manual_seed(42);
    /// assert_eq!(a.to_vec::<f64>(), Tensor::randn(&[3], DType::F64).to_vec::<f64>());
    /// ```
    pub fn try_randn(shape: &[usize], dtype: DType) -> Result<Tensor> {
        with_global_generator(|g| Tensor::try_randn_with(shape, dtype, g))
    }

    /// Panicking form of [`Tensor::try_randn`].
    #[track_caller]
    pub fn randn(shape: &[usize], dtype: DType) -> Tensor {
        ok(Tensor::try_randn(shape, dtype))
    }

    /// Uniform values in `[0, 1)` from `generator`; an error for an integer dtype.
    pub fn try_rand_with(
        shape: &[usize],
        dtype: DType,
        generator: &mut Generator,
    ) -> Result<Tensor> {
        Tensor::sample("rand", shape, dtype, || generator.uniform(0.0, 1.0))
    }

    /// Panicking form of [`Tensor::try_rand_with`].
    #[track_caller]
    pub fn rand_with(shape: &[usize], dtype: DType, generator: &mut Generator) -> Tensor {
        ok(Tensor::try_rand_with(shape, dtype, generator))
    }

    /// Standard normal values from `generator`; an error for an integer dtype.
    pub fn try_randn_with(
        shape: &[usize],
        dtype: DType,
        generator: &mut Generator,
    ) -> Result<Tensor> {
        Tensor::sample("randn", shape, dtype, || generator.normal())
    }

    /// Panicking form of [`Tensor::try_randn_with`].
    #[track_caller]
    pub fn randn_with(shape: &[usize], dtype: DType, generator: &mut Generator) -> Tensor {
        ok(Tensor::try_randn_with(shape, dtype, generator))
    }

    /// Uniform values in `[low, high)` from `generator`; an error for an integer dtype or
    /// bounds that are not ordered `low ≤ high` (a NaN bound never is).
    pub fn try_uniform_with(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        generator: &mut Generator,
    ) -> Result<Tensor> {
        if low.is_nan() || high.is_nan() || low > high {
            return Err(Error::invalid(
                "uniform",
                format!("the bounds must satisfy low ≤ high, got [{low}, {high})"),
            ));
        }
        // As PyTorch's `uniform_`: the width must be a finite number of the output's type, or
        // every draw `low + u·(high − low)` is NaN or infinite.
        let widest = if dtype == DType::F32 {
            f32::MAX as f64
        } else {
            f64::MAX
        };
        if !(high - low).is_finite() || high - low > widest {
            return Err(Error::invalid(
                "uniform",
                format!(
                    "the bounds [{low}, {high}) must be finite and high - low at most the \
                     largest {dtype} ({widest:e})"
                ),
            ));
        }
        Tensor::sample("uniform", shape, dtype, || generator.uniform(low, high))
    }

    /// Panicking form of [`Tensor::try_uniform_with`].
    #[track_caller]
    pub fn uniform_with(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        generator: &mut Generator,
    ) -> Tensor {
        ok(Tensor::try_uniform_with(shape, low, high, dtype, generator))
    }
}
