//! The run folder: `config.json`, `metrics.jsonl` (one JSON object per epoch), and the model
//! and optimiser checkpoints, written atomically so a failure never destroys the previous one.

use super::config::TrainConfig;
use crate::CliResult;
use nabla_core::Tensor;
use nabla_nn::checkpoint::{load_safetensors, save_safetensors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    pub seconds: f64,
    pub samples_per_second: f64,
}

pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// Creates `dir`, or the first free `runs/train-N`.
    pub fn create(dir: Option<&Path>) -> CliResult<RunFolder> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => (1..)
                .map(|n| PathBuf::from(format!("runs/train-{n}")))
                .find(|p| !p.exists())
                .expect("an unused run number"),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("{}: cannot create the run folder: {e}", dir.display()))?;
        Ok(RunFolder { dir })
    }

    /// An existing run folder, to resume.
    pub fn open(dir: &Path) -> CliResult<RunFolder> {
        if !dir.join("config.json").is_file() {
            return Err(format!("{}: not a run folder (no config.json)", dir.display()).into());
        }
        Ok(RunFolder {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn write_config(&self, config: &TrainConfig) -> CliResult {
        let path = self.dir.join("config.json");
        std::fs::write(&path, serde_json::to_string_pretty(config)? + "\n")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }

    pub fn read_config(&self) -> CliResult<TrainConfig> {
        let path = self.dir.join("config.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid run configuration: {e}", path.display()))?)
    }

    /// Epoch records written so far.
    pub fn read_metrics(&self) -> CliResult<Vec<EpochMetrics>> {
        let path = self.dir.join("metrics.jsonl");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(Vec::new());
        };
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1).into())
            })
            .collect()
    }

    /// Appends one epoch's record.
    pub fn append_metrics(&self, metrics: &EpochMetrics) -> CliResult {
        let path = self.dir.join("metrics.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(file, "{}", serde_json::to_string(metrics)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }

    /// Saves the model and the optimiser state after `epoch` (1-based) completed.
    pub fn save_checkpoint(
        &self,
        model: &[(String, Tensor)],
        optimizer: &[(String, Tensor)],
        epoch: usize,
    ) -> CliResult {
        let meta = BTreeMap::from([
            ("epoch".to_string(), epoch.to_string()),
            ("format".to_string(), "pt".to_string()),
        ]);
        save_safetensors(self.dir.join("model.safetensors"), model, &meta)?;
        save_safetensors(self.dir.join("optimizer.safetensors"), optimizer, &meta)?;
        Ok(())
    }

    /// The saved model and optimiser state and the epoch they were saved after.
    pub fn load_checkpoint(
        &self,
    ) -> CliResult<(Vec<(String, Tensor)>, Vec<(String, Tensor)>, usize)> {
        let (model, meta) = load_safetensors(self.dir.join("model.safetensors"))?;
        let (optimizer, _) = load_safetensors(self.dir.join("optimizer.safetensors"))?;
        let epoch = meta
            .get("epoch")
            .and_then(|e| e.parse().ok())
            .ok_or_else(|| {
                format!(
                    "{}: no epoch in the checkpoint metadata",
                    self.dir.join("model.safetensors").display()
                )
            })?;
        Ok((model, optimizer, epoch))
    }
}
