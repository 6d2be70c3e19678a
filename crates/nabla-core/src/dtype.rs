//! Element types. Tensors hold `f32`, `f64` or `i64` (indices and class labels); every numeric
//! kernel is written once over the [`Float`] trait and dispatched on [`DType`] at run time.

use std::fmt;

/// The element type of a tensor.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float, the default for training.
    F32,
    /// 64-bit float, used by gradient checks.
    F64,
    /// 64-bit integer, for indices and class labels; not differentiable.
    I64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// Whether values of this type can carry gradients.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// The name used in messages and in safetensors headers (`F32`, `F64`, `I64`).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "F32",
            DType::F64 => "F64",
            DType::I64 => "I64",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I64 => "i64",
        })
    }
}

/// A type that a tensor can store.
pub trait Element: Copy + Default + Send + Sync + PartialOrd + fmt::Debug + 'static {
    /// The run-time tag of this type.
    const DTYPE: DType;
    /// Converts from `f64` (rounding for `f32`, truncating for `i64`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact for f32; rounds i64 beyond 2^53).
    fn as_f64(self) -> f64;
    /// The storage variant holding a vector of this type.
    fn into_buffer(data: crate::storage::Data<Self>) -> crate::storage::Buffer;
    /// The slice inside a buffer of this type, or `None` when the buffer holds another type.
    fn slice(buffer: &crate::storage::Buffer) -> Option<&[Self]>;
    /// The mutable slice inside a buffer of this type.
    fn slice_mut(buffer: &mut crate::storage::Buffer) -> Option<&mut [Self]>;
    /// The vector inside a buffer of this type, or the buffer back when it holds another type.
    fn from_buffer(
        buffer: crate::storage::Buffer,
    ) -> Result<crate::storage::Data<Self>, crate::storage::Buffer>;
}

/// A floating-point element: the types gradients flow through.
pub trait Float: Element + num_traits::Float + std::iter::Sum {
    /// erf as the kernels compute it: within 3.3e-7 (7.5 ulp) on [−10, 10] for f32, the C
    /// library for f64.
    fn erf_kernel(self) -> Self;
    /// GELU `x·Φ(x)` as the kernels compute it: within 1.0e-6 on [−10, 10] for f32 (absolute
    /// accuracy in the negative tail, not relative), `½·x·(1 + erf(x/√2))` with the C
    /// library's erf for f64.
    fn gelu_kernel(self) -> Self;
    /// eˣ as the kernels compute it: a vectorisable approximation within 1 ulp for f32, the C
    /// library for f64.
    fn exp_kernel(self) -> Self;
    /// tanh as the kernels compute it: within 1.5 ulp for f32, the C library for f64.
    fn tanh_kernel(self) -> Self;
    /// ln as the kernels compute it: within 1 ulp for f32, the C library for f64.
    fn ln_kernel(self) -> Self;
    /// The logistic sigmoid `1/(1 + e⁻ˣ)` as the kernels compute it, from
    /// [`Float::exp_kernel`]: stable on both tails (the exponential is only ever taken of a
    /// non-positive number), exactly 0 and 1 at the infinities, NaN at NaN.
    #[inline(always)]
    fn sigmoid_kernel(self) -> Self {
        let e = (-self.abs()).exp_kernel();
        if self >= Self::zero() {
            Self::one() / (Self::one() + e)
        } else {
            e / (Self::one() + e)
        }
    }
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn as_f64(self) -> f64 {
                self as f64
            }
            fn into_buffer(data: crate::storage::Data<Self>) -> crate::storage::Buffer {
                crate::storage::Buffer::$variant(data)
            }
            fn slice(buffer: &crate::storage::Buffer) -> Option<&[Self]> {
                match buffer {
                    crate::storage::Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(buffer: &mut crate::storage::Buffer) -> Option<&mut [Self]> {
                match buffer {
                    crate::storage::Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn from_buffer(
                buffer: crate::storage::Buffer,
            ) -> Result<crate::storage::Data<Self>, crate::storage::Buffer> {
                match buffer {
                    crate::storage::Buffer::$variant(v) => Ok(v),
                    other => Err(other),
                }
            }
        }
    };
}

element!(f32, F32);
element!(f64, F64);
element!(i64, I64);

impl Float for f32 {
    #[inline(always)]
    fn erf_kernel(self) -> Self {
        crate::kernels::approx::erf_f32(self)
    }
    #[inline(always)]
    fn gelu_kernel(self) -> Self {
        crate::kernels::approx::gelu_f32(self)
    }
    #[inline(always)]
    fn exp_kernel(self) -> Self {
        crate::kernels::approx::exp_f32(self)
    }
    #[inline(always)]
    fn tanh_kernel(self) -> Self {
        crate::kernels::approx::tanh_f32(self)
    }
    #[inline(always)]
    fn ln_kernel(self) -> Self {
        crate::kernels::approx::ln_f32(self)
    }
}

impl Float for f64 {
    fn erf_kernel(self) -> Self {
        libm::erf(self)
    }
    fn gelu_kernel(self) -> Self {
        0.5 * self * (1.0 + libm::erf(self * std::f64::consts::FRAC_1_SQRT_2))
    }
    fn exp_kernel(self) -> Self {
        self.exp()
    }
    fn tanh_kernel(self) -> Self {
        self.tanh()
    }
    fn ln_kernel(self) -> Self {
        self.ln()
    }
}
