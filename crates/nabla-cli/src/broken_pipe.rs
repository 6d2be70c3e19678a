//! A closed pipe (`nabla train | head -1`) ends `nabla` as it ends other Unix tools: quietly,
//! by the SIGPIPE signal at the next write to it, instead of a panic on the error the write
//! would return. Every command's output goes through the same pipe, so this covers them all.
//! A training run may stop at any moment this way: its run folder then holds the last complete
//! checkpoint, as after any other kill, and `--resume` continues it.

/// Restores the default action of SIGPIPE (the Rust runtime ignores it, turning a write to a
/// closed pipe into an error that `println!` panics on). Nothing to do where there are no
/// signals.
pub fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
