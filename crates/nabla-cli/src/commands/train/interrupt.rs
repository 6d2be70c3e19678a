//! Ctrl-C while a run trains on one process: the first SIGINT asks the run to stop before its
//! next step ([`StopOnInterrupt`]), so that its event log can end with `interrupted`; the run
//! then ends as Ctrl-C always ended it ([`Interrupts::end_process`]). A second SIGINT ends the
//! process at once. Checkpoints are untouched: the run resumes from its last epoch as before.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a SIGINT arrived while a run was catching them.
static REQUESTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_interrupt(_signal: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
    // SAFETY: signal() is async-signal-safe; the default action ends the process on a second
    // Ctrl-C.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// SIGINT caught while this lives; the default action is back when it is dropped.
pub struct Interrupts(());

impl Interrupts {
    /// Catches SIGINT until dropped.
    pub fn catch() -> Interrupts {
        #[cfg(unix)]
        // SAFETY: the handler stores to an atomic and calls signal(), both async-signal-safe.
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
        Interrupts(())
    }

    /// Whether Ctrl-C was pressed.
    pub fn requested(&self) -> bool {
        REQUESTED.load(Ordering::SeqCst)
    }

    /// Ends the process as the Ctrl-C it caught would have (killed by SIGINT).
    pub fn end_process(self) -> ! {
        drop(self);
        #[cfg(unix)]
        // SAFETY: raising a signal whose action is the default one.
        unsafe {
            libc::raise(libc::SIGINT);
        }
        std::process::exit(130)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the default action.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }
}

/// Stops the run before its next step once Ctrl-C was pressed.
pub struct StopOnInterrupt<'a>(pub &'a Interrupts);

impl nabla_nn::train::Observer for StopOnInterrupt<'_> {
    fn step_begin(&mut self, epoch: usize, step: usize) -> nabla_nn::Result<()> {
        match self.0.requested() {
            true => Err(nabla_nn::Error::Observer(
                format!("interrupted (Ctrl-C) at epoch {epoch}, step {step}").into(),
            )),
            false => Ok(()),
        }
    }
}
