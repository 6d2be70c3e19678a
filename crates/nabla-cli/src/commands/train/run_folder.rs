//! The run folder and its one consistent state.
//!
//! `checkpoint.safetensors` is the state a resumed run starts from, in one file: the model's
//! tensors (`model.` + PyTorch's names), the optimiser's (`optimizer.` + its names), the state of
//! every random generator of the model (`generator.` + its name, Dropout's mask stream, four
//! words of xoshiro256++ as `I64`), and in its metadata the completed epoch, the data order's
//! seed and next epoch, the thread count that wrote it and the run's first loss. It is replaced
//! in one atomic rename after every epoch, so a kill at any moment leaves the old state or the
//! new one, complete.
//!
//! The other files follow from it. `metrics.jsonl` gets each epoch's line (synced) before the
//! checkpoint that completes the epoch; a resumed run cuts it back to the checkpoint's epoch,
//! dropping a line whose checkpoint never landed. `model.safetensors` (the model alone, loadable
//! into the matching `torch.nn.Sequential`) is written after the checkpoint and rewritten from
//! it on resume when a kill came in between. `events.jsonl` (see [`super::events`]) is
//! appended to, never rewritten: its `epoch` line is synced after the metrics line, and a
//! resumed run appends a `resume` event instead of cutting the log back. `config.json`, the charts and `resumes.jsonl` (each
//! resume and the settings it changed) are replaced atomically. Temporary files a kill left
//! behind are removed when the run starts again.

use super::abort_hook::AbortHook;
use super::config::TrainConfig;
use crate::CliResult;
use nabla_core::{DType, Generator, Tensor};
use nabla_nn::checkpoint::{
    Metadata, WriteStage, encode, load_safetensors, remove_temporaries, sync_dir, write_atomically,
    write_atomically_observed,
};
use nabla_nn::module::Module;
use nabla_nn::optim::Optimizer;
use nabla_nn::saved::MODEL_PREFIX;
use nabla_nn::train::{EpochReport, non_finite_index};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
///
/// The loss is the task's (cross-entropy, or the mean squared error for regression); `acc` is
/// the accuracy of classification and `mae` the mean absolute error of regression. `val_` holds
/// the figures on the validation split; `test_` those on the test set, every epoch when the run
/// has no validation split (and none then when it has one: the test set is evaluated once, at
/// the end). Figures a run does not measure are left out.
pub struct EpochMetrics {
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_acc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_acc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_acc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mae: Option<f64>,
    pub seconds: f64,
    pub samples_per_second: f64,
}

impl EpochMetrics {
    /// The record of an epoch whose evaluated set, if any, is the validation split (`val_`)
    /// or, for a run without one, the test set (`test_`).
    pub fn new(report: &EpochReport, evaluated_is_test: bool) -> EpochMetrics {
        let (val, test) = match &report.validation {
            Some(m) if evaluated_is_test => (None, Some(m)),
            Some(m) => (Some(m), None),
            None => (None, None),
        };
        EpochMetrics {
            epoch: report.epoch,
            lr: report.lr,
            train_loss: report.train.loss,
            train_acc: report.train.accuracy,
            train_mae: report.train.mae,
            val_loss: val.map(|m| m.loss),
            val_acc: val.and_then(|m| m.accuracy),
            val_mae: val.and_then(|m| m.mae),
            test_loss: test.map(|m| m.loss),
            test_acc: test.and_then(|m| m.accuracy),
            test_mae: test.and_then(|m| m.mae),
            seconds: report.seconds,
            samples_per_second: report.samples_per_second,
        }
    }
}

/// What a checkpoint holds besides the tensors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Epochs completed (0: none, the run starts from its initial weights).
    pub epoch: usize,
    /// The loss of the run's first step, against which a blow-up is measured.
    pub first_loss: Option<f64>,
    /// The thread count the checkpoint was written with (none before the first checkpoint).
    pub threads: Option<usize>,
}

pub struct RunFolder {
    dir: PathBuf,
}

/// The lock of a run folder, released when dropped (or when the process ends); dropping it
/// also empties the lock file, so [`is_training`] no longer sees the run.
pub struct RunLock {
    file: std::fs::File,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // A lock file left holding the PID only makes a later `nabla view` check that process.
        let _ = self.file.set_len(0);
    }
}

/// A file's name is that of a file a run writes: the run files, the charts and reports.
fn is_run_output(name: &str) -> bool {
    RUN_FILES.contains(&name)
        || REPORTS.contains(&name)
        || name
            .strip_prefix("activations_epoch_")
            .and_then(|rest| rest.strip_suffix(".svg"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Takes the exclusive advisory lock of `file` (`flock`) without waiting: `false` when another
/// process holds it. The operating system drops it when the file is closed or its process ends.
#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `file`, open for the whole call; flock reads nothing
    // else.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Where there is no `flock`, runs are not locked.
#[cfg(not(unix))]
fn try_lock(_file: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}

/// Whether a run is training into `dir`: its lock file records the PID of the process that
/// took the lock last ([`RunFolder::lock`]), and that process is running. Unlike taking the
/// lock to see whether it is free, this never stands in the way of a run starting at the same
/// instant. (A run killed without its `end` event whose PID another process took since reads
/// as training while that process runs.)
pub fn is_training(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(LOCK))
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .is_some_and(is_running)
}

/// Whether the process `pid` exists (signal 0 checks without sending anything; a process of
/// another user answers `EPERM`).
#[cfg(unix)]
fn is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 is no signal: kill only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// Where there is no `kill`, runs are not locked, so none is seen training.
#[cfg(not(unix))]
fn is_running(_pid: u32) -> bool {
    false
}

/// Refuses a folder that holds a run, or any file of one.
fn check_free(dir: &Path) -> CliResult {
    if dir.join(CONFIG).exists() {
        return Err(format!(
            "{}: already holds a run; continue it with --resume or choose another --out",
            dir.display()
        )
        .into());
    }
    if let Some(file) = RUN_FILES.iter().find(|f| dir.join(f).exists()) {
        return Err(format!(
            "{}: holds {file} of an earlier run but no {CONFIG}; choose another --out or \
             remove it",
            dir.display()
        )
        .into());
    }
    Ok(())
}

const CONFIG: &str = "config.json";
pub(crate) const METRICS: &str = "metrics.jsonl";
const CHECKPOINT: &str = "checkpoint.safetensors";
const MODEL: &str = "model.safetensors";
const RESUMES: &str = "resumes.jsonl";
const EVENTS: &str = crate::run_events::EVENTS;
/// The optimiser file of runs written before the single checkpoint.
const OLD_OPTIMIZER: &str = "optimizer.safetensors";

/// Files only a run writes: a folder holding one of them holds a run.
const RUN_FILES: [&str; 7] = [
    CONFIG,
    CHECKPOINT,
    MODEL,
    OLD_OPTIMIZER,
    METRICS,
    RESUMES,
    EVENTS,
];

/// The charts and reports a run writes besides its run files.
const REPORTS: [&str; 7] = [
    "curves.svg",
    "diagnostics.json",
    "gradient_norms.svg",
    super::diagnose::DISTRIBUTIONS,
    super::diagnose::WEIGHT_HISTOGRAMS,
    super::diagnose::TIME_STEP_GRADIENTS,
    "anomaly.svg",
];
/// The lock file: the PID of the process holding the lock, empty once it let go (a killed
/// process leaves its PID).
const LOCK: &str = ".lock";

const OPTIMIZER_PREFIX: &str = "optimizer.";
const GENERATOR_PREFIX: &str = "generator.";

impl RunFolder {
    /// The folder of a new run: `dir`, or the first free `runs/train-N`. Nothing is created
    /// until the run locks it ([`RunFolder::lock`]), so a run that fails to start leaves no
    /// folder. A file, or a folder holding any file of a run (a configuration, a checkpoint,
    /// metrics), is refused.
    pub fn new_run(dir: Option<&Path>) -> CliResult<RunFolder> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => (1..)
                .map(|n| PathBuf::from(format!("runs/train-{n}")))
                .find(|p| !p.exists())
                .expect("an unused run number"),
        };
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "{}: --out names a file, not a folder; choose another --out",
                dir.display()
            )
            .into());
        }
        check_free(&dir)?;
        Ok(RunFolder { dir })
    }

    /// The folder rank 0 of a data-parallel run writes, as the other ranks name it (they
    /// never read or write it; it need not exist on their hosts).
    pub fn named(dir: &Path) -> RunFolder {
        RunFolder {
            dir: dir.to_path_buf(),
        }
    }

    /// An existing run folder, to resume.
    pub fn open(dir: &Path) -> CliResult<RunFolder> {
        if !dir.join(CONFIG).is_file() {
            return Err(format!("{}: not a run folder (no {CONFIG})", dir.display()).into());
        }
        Ok(RunFolder {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Creates the folder if needed and takes its lock, held until the returned [`RunLock`] is
    /// dropped, so no two processes write one run folder; a second one gets an error naming
    /// the PID of the first. The lock is the operating system's, so a killed process holds it
    /// no longer. A new run checks again, under the lock, that no other run took the folder.
    pub fn lock(&self, new_run: bool) -> CliResult<RunLock> {
        let path = self.dir.join(LOCK);
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("{}: cannot create the run folder: {e}", self.dir.display()))?;
        let io = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if !try_lock(&file).map_err(io)? {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (PID {pid})"),
            };
            return Err(format!(
                "{}: another nabla process{holder} is writing this run folder; wait for it to \
                 finish",
                self.dir.display()
            )
            .into());
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        if new_run {
            check_free(&self.dir)?;
        }
        Ok(RunLock { file })
    }

    /// Removes the temporary files a killed write of this run left in the folder (only those
    /// of the files a run writes).
    pub fn remove_temporaries(&self) -> CliResult {
        remove_temporaries(&self.dir, is_run_output)?;
        Ok(())
    }

    /// Writes `contents` to the file `name` of the folder (charts and reports), atomically.
    pub fn write(&self, name: &str, contents: &str) -> CliResult {
        write_atomically(self.dir.join(name), contents.as_bytes())?;
        Ok(())
    }

    /// Writes `config.json` atomically, creating the folder if needed.
    pub fn write_config(&self, config: &TrainConfig) -> CliResult {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("{}: cannot create the run folder: {e}", self.dir.display()))?;
        self.write(CONFIG, &(serde_json::to_string_pretty(config)? + "\n"))
    }

    pub fn read_config(&self) -> CliResult<TrainConfig> {
        let path = self.dir.join(CONFIG);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let config: TrainConfig = serde_json::from_str(&text).map_err(|e| {
            // Runs before layer specs saved the --hidden flags, and weights named without the
            // flatten layer.
            let old = serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|v| v.get("hidden").is_some() && v.get("layers").is_none());
            if old {
                format!(
                    "{}: written by an earlier version of nabla, whose models have no layer \
                     spec; this version cannot resume it (start a new run)",
                    path.display()
                )
            } else {
                format!("{}: not a valid run configuration: {e}", path.display())
            }
        })?;
        config
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// The epoch records of the first `epochs` epochs, the ones the checkpoint holds; lines of
    /// later epochs (written before a checkpoint that never landed) and a line cut short by a
    /// kill are dropped from the file.
    pub fn metrics_up_to(&self, epochs: usize) -> CliResult<Vec<EpochMetrics>> {
        let path = self.dir.join(METRICS);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("{}: {e}", path.display()).into()),
        };
        // A line without its newline is one a kill cut short.
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        let mut kept = Vec::new();
        let mut kept_bytes = 0;
        for (i, line) in complete.lines().enumerate() {
            let metrics: EpochMetrics = serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
            if metrics.epoch > epochs {
                break;
            }
            if metrics.epoch != kept.len() + 1 {
                return Err(format!(
                    "{} line {}: the record of epoch {} where epoch {} was expected",
                    path.display(),
                    i + 1,
                    metrics.epoch,
                    kept.len() + 1
                )
                .into());
            }
            kept.push(metrics);
            kept_bytes += line.len() + 1;
        }
        if kept.len() != epochs {
            return Err(format!(
                "{}: holds the records of {} epochs, but {CHECKPOINT} was saved after epoch \
                 {epochs}",
                path.display(),
                kept.len()
            )
            .into());
        }
        if kept_bytes != text.len() {
            write_atomically(&path, &text.as_bytes()[..kept_bytes])?;
        }
        Ok(kept)
    }

    /// Appends one epoch's record and syncs it to disk, so it is there before the checkpoint
    /// that completes the epoch.
    pub fn append_metrics(&self, metrics: &EpochMetrics) -> CliResult {
        let path = self.dir.join(METRICS);
        let existed = path.exists();
        let io = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        writeln!(file, "{}", serde_json::to_string(metrics)?).map_err(io)?;
        file.sync_data().map_err(io)?;
        if !existed {
            sync_dir(&self.dir).map_err(io)?;
        }
        Ok(())
    }

    /// Records a resume in `resumes.jsonl`: the epoch it starts after, the settings it
    /// changed (`{"epochs": [old, new]}`) and its thread count.
    pub fn record_resume(
        &self,
        after_epoch: usize,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> CliResult {
        let record = serde_json::json!({
            "after_epoch": after_epoch,
            "changed": changes,
            "threads": nabla_core::num_threads(),
        });
        let path = self.dir.join(RESUMES);
        let mut text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("{}: {e}", path.display()).into()),
        };
        text.push_str(&format!("{record}\n"));
        write_atomically(&path, text.as_bytes())?;
        Ok(())
    }

    /// Saves the state after `progress.epoch` completed epochs: `checkpoint.safetensors` in one
    /// atomic replacement, then `model.safetensors` from it, both with `model_meta` (the
    /// layers and schema that rebuild the model) in their metadata. `seed` fixes the data order.
    pub fn save_checkpoint(
        &self,
        net: &dyn Module,
        optimizer: &dyn Optimizer,
        progress: &Progress,
        seed: u64,
        model_meta: &Metadata,
        hook: &AbortHook,
    ) -> CliResult {
        let mut tensors = prefixed(MODEL_PREFIX, net.state_dict());
        tensors.extend(prefixed(OPTIMIZER_PREFIX, optimizer.state_dict()));
        for (name, generator) in net.named_generators() {
            let words = generator.state().map(|w| w as i64).to_vec();
            tensors.push((
                format!("{GENERATOR_PREFIX}{name}"),
                Tensor::from_vec(words, &[4]),
            ));
        }
        let mut meta = Metadata::from([
            ("epoch".to_string(), progress.epoch.to_string()),
            ("format".to_string(), "pt".to_string()),
            ("data_seed".to_string(), seed.to_string()),
            ("data_epoch".to_string(), progress.epoch.to_string()),
            ("threads".to_string(), nabla_core::num_threads().to_string()),
        ]);
        if let Some(loss) = progress.first_loss {
            meta.insert("first_loss".to_string(), format!("{loss:?}"));
        }
        meta.extend(model_meta.clone());
        let epoch = progress.epoch;
        write_atomically_observed(
            self.dir.join(CHECKPOINT),
            &encode(&tensors, &meta),
            |stage| hook.at(&stage_point("checkpoint", stage), epoch),
        )?;
        self.export_model(net, epoch, model_meta, hook)
    }

    /// Writes `model.safetensors` (the model alone, PyTorch's names, with `model_meta`: the
    /// layers and schema that rebuild it) unless it already holds exactly these bytes.
    fn export_model(
        &self,
        net: &dyn Module,
        epoch: usize,
        model_meta: &Metadata,
        hook: &AbortHook,
    ) -> CliResult {
        let mut meta = Metadata::from([
            ("epoch".to_string(), epoch.to_string()),
            ("format".to_string(), "pt".to_string()),
        ]);
        meta.extend(model_meta.clone());
        let bytes = encode(&net.state_dict(), &meta);
        let path = self.dir.join(MODEL);
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok(());
        }
        write_atomically_observed(&path, &bytes, |stage| {
            hook.at(&stage_point("model", stage), epoch)
        })?;
        Ok(())
    }

    /// Restores the checkpoint into `net` and `optimizer` (and the model's generators) and
    /// returns its progress: epoch 0 when the run stopped before its first epoch completed.
    /// A checkpoint whose data order is not `seed`'s, or holding a NaN or infinity, is refused.
    /// `model.safetensors` is rewritten from the checkpoint if a kill left it behind.
    pub fn restore(
        &self,
        net: &dyn Module,
        optimizer: &mut dyn Optimizer,
        seed: u64,
        model_meta: &Metadata,
    ) -> CliResult<Progress> {
        let path = self.dir.join(CHECKPOINT);
        if !path.exists() {
            if let Some(file) = [MODEL, OLD_OPTIMIZER]
                .iter()
                .find(|f| self.dir.join(f).exists())
            {
                return Err(format!(
                    "{}: holds {file} but no {CHECKPOINT}, which --resume needs (earlier \
                     versions of nabla saved the optimiser apart); start a new run",
                    self.dir.display()
                )
                .into());
            }
            return Ok(Progress::default());
        }
        let (tensors, meta) = load_safetensors(&path)?;
        let fail = |message: String| -> Box<dyn std::error::Error + Send + Sync> {
            format!("{}: {message}", path.display()).into()
        };
        for (name, t) in &tensors {
            if let Some(index) = non_finite_index(t) {
                return Err(fail(format!(
                    "tensor {name:?} holds {} at element {index}; the checkpoint cannot be \
                     resumed",
                    t.to_f64_vec()[index]
                )));
            }
        }
        let number = |key: &str| -> CliResult<u64> {
            let value = meta
                .get(key)
                .ok_or_else(|| fail(format!("no {key} in the checkpoint metadata")))?;
            value.parse().map_err(|_| {
                fail(format!(
                    "{key} {value:?} in the checkpoint metadata is not a non-negative integer"
                ))
            })
        };
        let epoch = number("epoch")? as usize;
        let (data_seed, data_epoch) = (number("data_seed")?, number("data_epoch")? as usize);
        if data_seed != seed || data_epoch != epoch {
            return Err(fail(format!(
                "its data order (seed {data_seed}, epoch {data_epoch}) is not the run's (seed \
                 {seed}, epoch {epoch})"
            )));
        }
        let first_loss = match meta.get("first_loss") {
            Some(v) => Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|loss| loss.is_finite() && *loss >= 0.0)
                    .ok_or_else(|| {
                        fail(format!(
                            "first_loss {v:?} in the checkpoint metadata is not a finite \
                             non-negative number"
                        ))
                    })?,
            ),
            None => None,
        };
        let threads = match meta.get("threads") {
            Some(_) => Some(number("threads")? as usize),
            None => None,
        };
        let group = |prefix: &str| -> Vec<(String, Tensor)> {
            tensors
                .iter()
                .filter_map(|(n, t)| n.strip_prefix(prefix).map(|n| (n.to_string(), t.clone())))
                .collect()
        };
        let unknown: Vec<&str> = tensors
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| {
                ![MODEL_PREFIX, OPTIMIZER_PREFIX, GENERATOR_PREFIX]
                    .iter()
                    .any(|p| n.starts_with(p))
            })
            .collect();
        if !unknown.is_empty() {
            return Err(fail(format!("unexpected tensors {unknown:?}")));
        }
        let generators = group(GENERATOR_PREFIX)
            .into_iter()
            .map(|(name, t)| {
                let words: Vec<i64> = if t.dtype() == DType::I64 && t.shape() == [4] {
                    t.to_vec::<i64>()
                } else {
                    return Err(fail(format!(
                        "generator {name:?} is not four I64 words (dtype {}, shape {:?})",
                        t.dtype(),
                        t.shape()
                    )));
                };
                let state = std::array::from_fn(|i| words[i] as u64);
                let generator = Generator::from_state(state)
                    .map_err(|e| fail(format!("generator {name:?}: {e}")))?;
                Ok((name, generator))
            })
            .collect::<CliResult<Vec<_>>>()?;
        net.load_state_dict(&group(MODEL_PREFIX))
            .map_err(|e| fail(e.to_string()))?;
        net.load_generators(&generators)
            .map_err(|e| fail(e.to_string()))?;
        optimizer
            .load_state_dict(&group(OPTIMIZER_PREFIX))
            .map_err(|e| fail(e.to_string()))?;
        self.export_model(net, epoch, model_meta, &AbortHook::none())?;
        Ok(Progress {
            epoch,
            first_loss,
            threads,
        })
    }
}

/// The test hook's name for a moment of writing `file` (`checkpoint-written`, `model-partial`).
fn stage_point(file: &str, stage: WriteStage) -> String {
    let stage = match stage {
        WriteStage::PartlyWritten => "partial",
        WriteStage::Written => "written",
        WriteStage::Renamed => "renamed",
    };
    format!("{file}-{stage}")
}

fn prefixed(prefix: &str, tensors: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    tensors
        .into_iter()
        .map(|(name, t)| (format!("{prefix}{name}"), t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_training_while_the_process_holding_its_lock_runs() {
        let dir = std::env::temp_dir().join(format!("nabla-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!is_training(&dir));
        let lock = RunFolder::named(&dir).lock(false).unwrap();
        assert!(is_training(&dir));
        drop(lock);
        assert!(!is_training(&dir));
        for recorded in ["4194305\n", "0\n", "not a pid\n"] {
            std::fs::write(dir.join(LOCK), recorded).unwrap();
            assert!(!is_training(&dir), "{recorded}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
