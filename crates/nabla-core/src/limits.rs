//! How large a tensor may be. Every shape an operation makes is checked here before any memory
//! is touched:
//! - its dims must multiply without overflow, counting a zero-size dim as one, so that no
//!   product of some of its dims (a stride, a flattened size) can overflow either;
//! - the bytes it would need must fit in `isize::MAX`, the most any Rust allocation may hold;
//! - a new buffer must fit in the machine's physical memory: a request beyond it is refused
//!   with the size named, never attempted.
//!
//! ```
//! use nabla_core::{DType, Tensor};
//! let err = Tensor::try_zeros(&[usize::MAX, 2], DType::F32).unwrap_err();
//! assert!(err.to_string().starts_with("zeros: shape [18446744073709551615, 2] has more elements than fit in memory"));
//! ```

use crate::dtype::DType;
use crate::error::{Error, Result};
use std::sync::OnceLock;

/// The product of `shape`'s dims with zero-size dims counted as one, or `None` when it
/// exceeds `isize::MAX`.
fn span(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
        .filter(|&n| n <= isize::MAX as usize)
}

/// The number of elements of `shape`; an error naming `op` when its dims multiply beyond what
/// any memory could hold.
pub(crate) fn numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    match span(shape) {
        Some(_) => Ok(shape.iter().product()),
        None => Err(Error::invalid(
            op,
            format!(
                "shape {shape:?} has more elements than fit in memory (the product of its dims \
                 overflows)"
            ),
        )),
    }
}

/// The number of elements of a new `dtype` buffer of `shape`, after checking that its bytes fit
/// in `isize::MAX` and in the machine's physical memory.
pub(crate) fn allocation(op: &'static str, shape: &[usize], dtype: DType) -> Result<usize> {
    let n = numel(op, shape)?;
    bytes(n, dtype)
        .map_err(|why| Error::invalid(op, format!("shape {shape:?} of {dtype} {why}")))?;
    Ok(n)
}

/// Checks a buffer of `n` elements of `dtype`; the error completes "a buffer of ... ".
fn bytes(n: usize, dtype: DType) -> std::result::Result<usize, String> {
    let size = dtype.size_in_bytes();
    let total = match n.checked_mul(size) {
        Some(total) if total <= isize::MAX as usize => total,
        _ => {
            return Err(format!(
                "needs {n} × {size} bytes, more than fit in memory (over isize::MAX)"
            ));
        }
    };
    match physical_memory() {
        Some(memory) if total as u64 > memory => Err(format!(
            "needs {}, more than this machine's {} of memory",
            human(total as u64),
            human(memory)
        )),
        _ => Ok(total),
    }
}

/// Panics with the size named when a buffer of `n` elements of `dtype` could never be held:
/// the last check before any allocation of a tensor buffer, for paths that have no `Result`.
#[track_caller]
pub(crate) fn assert_allocatable(n: usize, dtype: DType) {
    if let Err(why) = bytes(n, dtype) {
        panic!("cannot allocate a buffer of {n} {dtype} elements: it {why}");
    }
}

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`), read once; `None`
/// where it cannot be read, and then only the `isize::MAX` bound applies.
pub fn physical_memory() -> Option<u64> {
    static MEMORY: OnceLock<Option<u64>> = OnceLock::new();
    *MEMORY.get_or_init(|| meminfo("MemTotal"))
}

/// One field of `/proc/meminfo` in bytes (`MemTotal`, `MemAvailable`, ...), read now; `None`
/// where the file or the field is missing, as on systems other than Linux.
///
/// ```
/// if let Some(bytes) = nabla_core::limits::meminfo("MemTotal") {
///     assert!(bytes > 0);
/// }
/// ```
pub fn meminfo(field: &str) -> Option<u64> {
    meminfo_field(&std::fs::read_to_string("/proc/meminfo").ok()?, field)
}

/// `field` in bytes from the text of `/proc/meminfo`, whose sizes are in kB (KiB).
fn meminfo_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let mut words = line[field.len() + 1..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => kib.checked_mul(1024),
        _ => None,
    }
}

/// A byte count for messages: `1.5 GiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_fields_are_read_in_bytes() {
        let text = "MemTotal:       16303460 kB\nMemFree:         1000000 kB\nMemAvailable:    5000000 kB\n";
        assert_eq!(meminfo_field(text, "MemAvailable"), Some(5_000_000 * 1024));
        assert_eq!(meminfo_field(text, "MemTotal"), Some(16_303_460 * 1024));
        assert_eq!(meminfo_field("MemTotal: 1 kB\n", "MemAvailable"), None);
        assert_eq!(meminfo_field("MemAvailable: lots\n", "MemAvailable"), None);
    }

    #[test]
    fn zero_size_dims_hide_no_overflow() {
        assert_eq!(numel("t", &[0, 3]).unwrap(), 0);
        assert!(numel("t", &[0, usize::MAX, 2]).is_err());
        assert!(numel("t", &[1 << 32, 1 << 32]).is_err());
        assert_eq!(numel("t", &[]).unwrap(), 1);
    }

    #[test]
    fn byte_counts_are_named() {
        let err = allocation("zeros", &[1 << 62], DType::F64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "zeros: shape [4611686018427387904] of f64 needs 4611686018427387904 × 8 bytes, \
             more than fit in memory (over isize::MAX)"
        );
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(12), "12 bytes");
    }
}
