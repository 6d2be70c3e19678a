//! The runs a server shows: each one's folder, the format of its log, and its status, as
//! `GET /api/runs` lists them.

use super::tail::{Log, count_lines};
use crate::commands::train::run_folder;
use crate::run_events::{End, FORMAT, MAX_LINE, RunEvent};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How much of the end of `events.jsonl` is read to find its last line, an `end` event.
const TAIL_BYTES: u64 = 64 << 10;

/// One run folder being served.
#[derive(Clone, Debug)]
pub struct Run {
    pub id: usize,
    /// The folder as it was given.
    pub path: PathBuf,
    /// Whether the folder was a run folder when serving began (`nabla view`), rather than one
    /// a run is about to write (`nabla train --view`): only then is its absence a problem.
    pub existed: bool,
}

/// A run as `GET /api/runs` lists it.
#[derive(Serialize, Debug, PartialEq)]
pub struct Listing {
    pub id: usize,
    pub name: String,
    pub path: String,
    pub format: &'static str,
    pub status: String,
    pub problem: Option<String>,
}

/// Whether `dir` holds a run: `events.jsonl` or (an older run) `metrics.jsonl`.
pub fn check_run_folder(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Err(format!("{}: no such folder", dir.display()));
    }
    if !dir.is_dir() {
        return Err(format!("{} is a file, not a run folder", dir.display()));
    }
    if log(dir).is_none() {
        return Err(format!(
            "{} is not a run folder (it has neither events.jsonl nor metrics.jsonl)",
            dir.display()
        ));
    }
    Ok(())
}

/// The log a run folder holds: `events.jsonl`, else `metrics.jsonl` (an older run), else none.
pub fn log(dir: &Path) -> Option<Log> {
    [Log::Events, Log::Metrics]
        .into_iter()
        .find(|l| dir.join(l.file_name()).is_file())
}

impl Run {
    /// The folder's own name (`train-3`), or the path when it has none.
    pub fn name(&self) -> String {
        let absolute = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        absolute.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into(),
        )
    }

    /// The run's entry in `GET /api/runs`.
    pub fn listing(&self) -> Listing {
        let folder = &self.path;
        let log = log(folder);
        let (status, problem) = if !folder.is_dir() {
            match self.existed {
                true => (
                    "missing".to_string(),
                    Some(format!(
                        "the run folder {} no longer exists",
                        folder.display()
                    )),
                ),
                false => ("unknown".to_string(), None),
            }
        } else if log.is_none() && self.existed {
            (
                "missing".to_string(),
                Some(format!(
                    "{} no longer holds events.jsonl or metrics.jsonl",
                    folder.display()
                )),
            )
        } else {
            (status(folder, log), None)
        };
        Listing {
            id: self.id,
            name: self.name(),
            path: folder.display().to_string(),
            format: match log {
                Some(Log::Metrics) => "metrics-only",
                _ => "events",
            },
            status,
            problem,
        }
    }
}

/// `finished`, `failed` or `interrupted` from the run's last `end` event; else `training`
/// while the process that locked the run is running; else, for an older run, `finished` when
/// it has the records of every epoch its configuration asks; else `unknown`.
fn status(folder: &Path, log: Option<Log>) -> String {
    let end = (log == Some(Log::Events))
        .then(|| ended(&folder.join(Log::Events.file_name())))
        .flatten();
    if let Some(status) = end {
        return status;
    }
    if run_folder::is_training(folder) {
        return "training".to_string();
    }
    if log == Some(Log::Metrics) && all_epochs_recorded(folder) {
        return "finished".to_string();
    }
    "unknown".to_string()
}

/// The status of the `end` event that is the last complete line of `path`, if it is one.
fn ended(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    let start = length.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let complete = &bytes[..bytes.iter().rposition(|&b| b == b'\n')?];
    let last = complete.rsplit(|&b| b == b'\n').next()?;
    match serde_json::from_slice(last).ok()? {
        RunEvent::End(End { status, .. }) => Some(status.name().to_string()),
        _ => None,
    }
}

/// Whether `metrics.jsonl` holds as many lines as `config.json`'s `epochs`.
fn all_epochs_recorded(folder: &Path) -> bool {
    let epochs = std::fs::read_to_string(folder.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| config.get("epochs")?.as_u64());
    let lines = count_lines(&folder.join(Log::Metrics.file_name()), u64::MAX);
    matches!((epochs, lines), (Some(e), Ok(l)) if e > 0 && l as u64 >= e)
}

/// The `run` event of an older run (no `events.jsonl`): what `config.json` gives, the task as
/// its first epoch's record shows it, no layers.
pub fn synthesised_run_event(run: &Run) -> String {
    let folder = &run.path;
    let config = std::fs::read_to_string(folder.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let first = std::fs::File::open(folder.join(Log::Metrics.file_name()))
        .ok()
        .and_then(|file| {
            let mut line = Vec::new();
            BufReader::new(file.take(MAX_LINE as u64))
                .read_until(b'\n', &mut line)
                .ok()?;
            serde_json::from_slice::<serde_json::Value>(&line).ok()
        });
    let regression = first
        .as_ref()
        .is_some_and(|m| m.get("train_mae").is_some() && m.get("train_acc").is_none());
    let field = |name: &str| config.as_ref().and_then(|c| c.get(name)).cloned();
    serde_json::json!({
        "type": "run",
        "format": FORMAT,
        "name": run.name(),
        "task": if regression { "regression" } else { "classification" },
        "epochs": field("epochs"),
        "batch_size": field("batch_size"),
        "layers": [],
        "classes": null,
        "config": config,
        "synthesised_from": Log::Metrics.file_name(),
    })
    .to_string()
}
