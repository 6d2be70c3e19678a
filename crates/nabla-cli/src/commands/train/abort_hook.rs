//! A test hook. `NABLA_TEST_ABORT_AT=POINT@EPOCH` makes `nabla train` abort (as a kill would:
//! no clean-up, nothing flushed) when epoch EPOCH reaches POINT, so the kill test reaches moments
//! that timed kills rarely hit, inside and between the writes of a checkpoint. The points, in
//! order: `mid-epoch` (half of the epoch's steps done), `metrics` (its line appended),
//! `checkpoint-partial`, `checkpoint-written`, `checkpoint-renamed` (half the bytes in the
//! temporary file; all of them, synced; renamed over the checkpoint, directory not synced),
//! `model-partial`, `model-written`, `model-renamed` (the same for `model.safetensors`) and
//! `epoch-end` (after the charts). Without the variable nothing is checked but one branch.

/// The point at which this process aborts, if any.
pub struct AbortHook(Option<(String, usize)>);

/// The environment variable the hook reads.
const VARIABLE: &str = "NABLA_TEST_ABORT_AT";

impl AbortHook {
    /// The hook `NABLA_TEST_ABORT_AT` asks for; a value that is not `POINT@EPOCH` is an error.
    pub fn from_env() -> Result<AbortHook, String> {
        let Ok(value) = std::env::var(VARIABLE) else {
            return Ok(AbortHook::none());
        };
        let parsed = value
            .split_once('@')
            .and_then(|(point, epoch)| Some((point.to_string(), epoch.parse().ok()?)));
        match parsed {
            Some(at) => Ok(AbortHook(Some(at))),
            None => Err(format!("{VARIABLE}={value:?}: expected POINT@EPOCH")),
        }
    }

    /// A hook that never aborts.
    pub fn none() -> AbortHook {
        AbortHook(None)
    }

    /// Aborts the process if this is the chosen point of the chosen epoch (1-based).
    pub fn at(&self, point: &str, epoch: usize) {
        if self
            .0
            .as_ref()
            .is_some_and(|(p, e)| p == point && *e == epoch)
        {
            std::process::abort();
        }
    }
}
