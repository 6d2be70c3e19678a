//! The thread pool behind large kernels and GEMM. It defaults to all cores; results for a given
//! thread count are deterministic (work is split the same way every time).

/// Sets how many threads large kernels use. Must be called before the first parallel kernel;
/// later calls return an error naming the count already in force.
///
/// ```
/// // Chosen once at start-up, e.g. from a `--threads` flag.
/// let _ = nabla_core::set_num_threads(2);
/// ```
pub fn set_num_threads(threads: usize) -> crate::Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|_| {
            crate::Error::invalid(
                "set_num_threads",
                format!(
                    "the thread pool already runs with {} threads",
                    rayon::current_num_threads()
                ),
            )
        })
}

/// Threads large kernels use.
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}
