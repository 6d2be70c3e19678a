//! Constructors: filled, ranged, identity and random tensors. None of them joins a graph.

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::dispatch_any;
use crate::random::{Generator, with_global_generator};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor of `shape` filled with `value` (converted to `dtype`).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::full(&[2], 1.5, DType::F32).to_vec::<f32>(), vec![1.5, 1.5]);
    /// ```
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        let n = shape.iter().product();
        dispatch_any!(dtype, T => Tensor::from_vec(vec![T::from_f64(value); n], shape))
    }

    /// Zeros of `shape`.
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// Ones of `shape`.
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Zeros with this tensor's shape and dtype.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape(), self.dtype())
    }

    /// Ones with this tensor's shape and dtype.
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape(), self.dtype())
    }

    /// `value` everywhere, with this tensor's shape and dtype.
    pub fn full_like(&self, value: f64) -> Tensor {
        Tensor::full(self.shape(), value, self.dtype())
    }

    /// Values `start, start + step, ...` below `end`, with the dtype of `T`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::arange(0.0f64, 1.0, 0.25).to_vec::<f64>(), vec![0.0, 0.25, 0.5, 0.75]);
    /// ```
    pub fn arange<T: Element>(start: T, end: T, step: T) -> Tensor {
        let (s, e, d) = (start.as_f64(), end.as_f64(), step.as_f64());
        assert!(d != 0.0, "arange: step must not be zero");
        let n = ((e - s) / d).ceil().max(0.0) as usize;
        Tensor::from_vec(
            (0..n).map(|i| T::from_f64(s + i as f64 * d)).collect(),
            &[n],
        )
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::linspace(0.0, 1.0, 3, DType::F64).to_vec::<f64>(), vec![0.0, 0.5, 1.0]);
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        let values = (0..steps).map(|i| {
            if steps == 1 {
                start
            } else {
                start + (end - start) * i as f64 / (steps - 1) as f64
            }
        });
        dispatch_any!(dtype, T => Tensor::from_vec(values.map(T::from_f64).collect(), &[steps]))
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        let values = (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 });
        dispatch_any!(dtype, T => Tensor::from_vec(values.map(T::from_f64).collect(), &[n, n]))
    }

    fn sample(shape: &[usize], dtype: DType, mut draw: impl FnMut() -> f64) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(Error::UnsupportedDType {
                op: "random",
                got: dtype,
                expected: "f32 or f64",
            });
        }
        let n: usize = shape.iter().product();
        Ok(
            dispatch_any!(dtype, T => Tensor::from_vec((0..n).map(|_| T::from_f64(draw())).collect(), shape)),
        )
    }

    /// Uniform values in `[0, 1)` from the process-wide generator.
    pub fn rand(shape: &[usize], dtype: DType) -> Tensor {
        with_global_generator(|g| Tensor::rand_with(shape, dtype, g))
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
    pub fn randn(shape: &[usize], dtype: DType) -> Tensor {
        with_global_generator(|g| Tensor::randn_with(shape, dtype, g))
    }

    /// Uniform values in `[0, 1)` from `generator`; panics for an integer dtype.
    pub fn rand_with(shape: &[usize], dtype: DType, generator: &mut Generator) -> Tensor {
        super::ok(Tensor::sample(shape, dtype, || generator.uniform(0.0, 1.0)))
    }

    /// Standard normal values from `generator`; panics for an integer dtype.
    pub fn randn_with(shape: &[usize], dtype: DType, generator: &mut Generator) -> Tensor {
        super::ok(Tensor::sample(shape, dtype, || generator.normal()))
    }

    /// Uniform values in `[low, high)` from `generator`.
    pub fn uniform_with(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        generator: &mut Generator,
    ) -> Tensor {
        super::ok(Tensor::sample(shape, dtype, || {
            generator.uniform(low, high)
        }))
    }
}
