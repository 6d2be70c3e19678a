//! Resident memory of this process from `/proc/self/status` (Linux): the current size (`VmRSS`)
//! and the high-water mark since the process started (`VmHWM`), in MiB. Elsewhere, `None`.

/// The value of a `kB` field of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Memory resident now.
pub fn resident_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// The most memory that was ever resident at once.
pub fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}
