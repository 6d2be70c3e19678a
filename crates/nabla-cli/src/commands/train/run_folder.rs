//! The run folder: `config.json`, `metrics.jsonl` (one JSON object per epoch), and the model
//! and optimiser checkpoints, written atomically so a failure never destroys the previous one.

use super::config::TrainConfig;
use crate::CliResult;
use nabla_core::Tensor;
use nabla_nn::checkpoint::{Metadata, load_safetensors, save_safetensors};
use nabla_nn::module::Module;
use nabla_nn::optim::Optimizer;
use serde::{Deserialize, Serialize};
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

const CONFIG: &str = "config.json";
const METRICS: &str = "metrics.jsonl";
const MODEL: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";

impl RunFolder {
    /// The folder of a new run: `dir`, or the first free `runs/train-N`. Nothing is created
    /// until the configuration is written, so a run that fails to start leaves no folder.
    pub fn new_run(dir: Option<&Path>) -> CliResult<RunFolder> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => (1..)
                .map(|n| PathBuf::from(format!("runs/train-{n}")))
                .find(|p| !p.exists())
                .expect("an unused run number"),
        };
        if dir.join(CONFIG).exists() {
            return Err(format!(
                "{}: already holds a run; continue it with --resume or choose another --out",
                dir.display()
            )
            .into());
        }
        Ok(RunFolder { dir })
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

    /// Writes `contents` to the file `name` of the folder (charts and reports).
    pub fn write(&self, name: &str, contents: &str) -> CliResult {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }

    /// Writes `config.json`, creating the folder if needed.
    pub fn write_config(&self, config: &TrainConfig) -> CliResult {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("{}: cannot create the run folder: {e}", self.dir.display()))?;
        self.write(CONFIG, &(serde_json::to_string_pretty(config)? + "\n"))
    }

    pub fn read_config(&self) -> CliResult<TrainConfig> {
        let path = self.dir.join(CONFIG);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let config: TrainConfig = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid run configuration: {e}", path.display()))?;
        config
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Epoch records written so far.
    pub fn read_metrics(&self) -> CliResult<Vec<EpochMetrics>> {
        let path = self.dir.join(METRICS);
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
        let path = self.dir.join(METRICS);
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
        let meta = Metadata::from([
            ("epoch".to_string(), epoch.to_string()),
            ("format".to_string(), "pt".to_string()),
        ]);
        save_safetensors(self.dir.join(MODEL), model, &meta)?;
        save_safetensors(self.dir.join(OPTIMIZER), optimizer, &meta)?;
        Ok(())
    }

    /// Restores the last checkpoint into `net` and `optimizer` and returns the epoch it was saved
    /// after: 0 when the run stopped before its first epoch completed. The model and optimiser
    /// files must come from the same epoch.
    pub fn restore(&self, net: &dyn Module, optimizer: &mut dyn Optimizer) -> CliResult<usize> {
        let (model_path, optimizer_path) = (self.dir.join(MODEL), self.dir.join(OPTIMIZER));
        if !model_path.exists() && !optimizer_path.exists() {
            return Ok(0);
        }
        let (model, model_meta) = load_safetensors(&model_path)?;
        let (state, optimizer_meta) = load_safetensors(&optimizer_path)?;
        let epoch_of = |meta: &Metadata, path: &Path| -> CliResult<usize> {
            meta.get("epoch")
                .and_then(|e| e.parse().ok())
                .ok_or_else(|| {
                    format!("{}: no epoch in the checkpoint metadata", path.display()).into()
                })
        };
        let epoch = epoch_of(&model_meta, &model_path)?;
        let optimizer_epoch = epoch_of(&optimizer_meta, &optimizer_path)?;
        if epoch != optimizer_epoch {
            return Err(format!(
                "{}: saved after epoch {epoch}, but {OPTIMIZER} after epoch {optimizer_epoch}",
                model_path.display()
            )
            .into());
        }
        net.load_state_dict(&model)
            .map_err(|e| format!("{}: {e}", model_path.display()))?;
        optimizer
            .load_state_dict(&state)
            .map_err(|e| format!("{}: {e}", optimizer_path.display()))?;
        Ok(epoch)
    }
}
