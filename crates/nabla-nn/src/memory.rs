//! How much memory the machine can give, so that a model or a file whose size is absurd is
//! refused with one line before anything is allocated, instead of ending in the allocator's
//! abort or the kernel's out-of-memory killer.
//!
//! The figure is `MemAvailable` from `/proc/meminfo` on Linux (what the kernel estimates can be
//! allocated without swapping). Elsewhere it is unknown and only sizes that overflow are refused.

use crate::error::{Error, Result};

/// Bytes the machine can allocate now, when the platform says (Linux), else `None`.
///
/// ```
/// if let Some(bytes) = nabla_nn::memory::available() {
///     assert!(bytes > 0);
/// }
/// ```
pub fn available() -> Option<u64> {
    nabla_core::limits::meminfo("MemAvailable")
}

/// Refuses `needed` bytes (`None`: more than a `u64` holds) when they exceed what the machine has
/// available, naming `what` needs them: `"the model (parameters, gradients, Adam's state and
/// the activations of a batch of 128) would need 37.6 TB; this machine has 5.2 GB available"`.
///
/// ```
/// use nabla_nn::memory;
/// assert!(memory::check("a tiny buffer", Some(16), Some(1 << 30)).is_ok());
/// let error = memory::check("a huge buffer", Some(3 << 40), Some(1 << 30)).unwrap_err();
/// assert_eq!(error.to_string(), "a huge buffer would need 3.3 TB; this machine has 1.1 GB available");
/// ```
pub fn check(what: &str, needed: Option<u64>, available: Option<u64>) -> Result<()> {
    let needed = match (needed, available) {
        (Some(n), Some(a)) if n <= a => return Ok(()),
        (Some(_), None) => return Ok(()),
        (Some(n), _) => bytes(n),
        (None, _) => "more than 2^64 bytes".to_string(),
    };
    let available = available.map_or("far less".to_string(), |a| {
        format!("{} available", bytes(a))
    });
    Err(Error::Memory(format!(
        "{what} would need {needed}; this machine has {available}"
    )))
}

/// A byte count in decimal units with one decimal: `"18.0 GB"`, `"512 bytes"`.
///
/// ```
/// assert_eq!(nabla_nn::memory::bytes(18_000_000_000), "18.0 GB");
/// assert_eq!(nabla_nn::memory::bytes(512), "512 bytes");
/// ```
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_the_machine_or_u64_are_refused() {
        assert!(check("x", Some(10), None).is_ok());
        assert_eq!(
            check("x", None, Some(2_000)).unwrap_err().to_string(),
            "x would need more than 2^64 bytes; this machine has 2.0 kB available"
        );
        assert_eq!(
            check("x", Some(3_000), Some(2_000))
                .unwrap_err()
                .to_string(),
            "x would need 3.0 kB; this machine has 2.0 kB available"
        );
        assert_eq!(
            check("x", None, None).unwrap_err().to_string(),
            "x would need more than 2^64 bytes; this machine has far less"
        );
        assert_eq!(bytes(999_999), "1.0 MB");
        assert_eq!(bytes(u64::MAX), "18.4 EB");
    }
}
