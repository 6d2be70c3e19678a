//! Raw compute on buffers: no autograd here. Each kernel is generic over the element type and
//! reached through [`dispatch_float!`], which turns a run-time [`crate::DType`] into a type.

pub(crate) mod approx;
pub mod elementwise;
pub mod index;
pub(crate) mod lstm_sequence;
pub mod matmul;
pub(crate) mod pool;
pub(crate) mod recurrent;
pub mod reduce;

/// Below this many elements, a kernel runs on the calling thread: spawning costs more than it saves.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Runs `$body` with `$t` bound to the Rust type of a floating dtype; errors on `i64`.
macro_rules! dispatch_float {
    ($op:expr, $dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::DType::F64 => {
                type $t = f64;
                $body
            }
            other => {
                return Err($crate::Error::UnsupportedDType {
                    op: $op,
                    got: other,
                    expected: "f32 or f64",
                })
            }
        }
    };
}

/// Runs `$body` with `$t` bound to the Rust type of any dtype.
macro_rules! dispatch_any {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::DType::F64 => {
                type $t = f64;
                $body
            }
            $crate::DType::I64 => {
                type $t = i64;
                $body
            }
        }
    };
}

pub(crate) use dispatch_any;
pub(crate) use dispatch_float;
