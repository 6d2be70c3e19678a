//! `--diagnose` and `--detect-anomaly` in the run folder: a [`Recorder`] probed on the first
//! training images before training and after every epoch, its report as `diagnostics.json` with
//! `activations_epoch_N.svg` (each activation layer's outputs at that probe), `distributions.svg`
//! (each layer's outputs, weights and weight gradients over the epochs so far),
//! `weight_histograms.svg` (the latest probe's weights and weight gradients) and
//! `gradient_norms.svg`, warnings when gradients vanish or explode that name the picture to
//! open, and `anomaly.svg` with the graph around the operation that first made a NaN or
//! infinity, the magnitudes of its inputs, the epoch and the step. A
//! network with convolutions also gets, at each probe, `filters_epoch_N.svg` (its first
//! convolution's filters) and `feature_maps_epoch_N.svg` (the first test image through each
//! convolution). A network with a recurrent layer also gets `time_step_gradients.svg`: the
//! gradient norm of that layer's hidden state at each time step, every few training steps.
//!
//! Every run is probed this way (on fewer images without `--diagnose`), for its event log
//! ([`super::events`]); only `--diagnose` writes the files and prints the warnings.

use super::progress::Console;
use super::run_folder::RunFolder;
use crate::CliResult;
use nabla_core::{Anomaly, Tensor};
use nabla_inspect::diagnostics::{
    AlarmKind, AlarmSummary, Counts, Diagnostics, EpochSnapshot, GradientAlarm, LayerInfo,
    LayerKind, Recorder, activation_histograms_svg, anomaly_svg, distributions_svg,
    feature_maps_svg, filters_svg, gradient_norms_svg, time_step_gradients_svg,
    weight_histograms_svg,
};
use nabla_nn::data::Dataset;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::task::Task;
use nabla_nn::train::task_loss;

/// Training images in the probe batch of `--diagnose` (the textbook's histograms use 1000
/// samples).
const PROBE_SAMPLES: usize = 1000;
/// Training images in the probe batch of a run without `--diagnose`, kept small so that
/// probing costs little next to an epoch.
pub const EVENT_PROBE_SAMPLES: usize = 256;
/// Levels of inputs drawn above the anomaly's operation.
const ANOMALY_DEPTH: usize = 4;
/// The heatmap of a recurrent layer's gradient norm per time step over training.
pub const TIME_STEP_GRADIENTS: &str = "time_step_gradients.svg";
/// Each layer's outputs, weights and weight gradients over the epochs.
pub const DISTRIBUTIONS: &str = "distributions.svg";
/// The latest probe's weights and weight gradients.
pub const WEIGHT_HISTOGRAMS: &str = "weight_histograms.svg";
/// Gradient norms per layer and step.
pub const GRADIENT_NORMS: &str = "gradient_norms.svg";

pub struct Diagnosis {
    recorder: Recorder,
    probe: Dataset,
    /// The task whose loss the probe batch is differentiated through.
    task: Task,
    /// The image whose feature maps are drawn: the first test image (the first training image
    /// without a test set), `[1, C, H, W]`.
    image: Tensor,
    /// `--diagnose`: the files are written and the warnings printed.
    files: bool,
}

/// A convolutional network's first convolution and what one image becomes at each of them.
pub struct Convolutions {
    /// The first convolution and its weight.
    pub layer: LayerInfo,
    pub weight: Tensor,
    /// The image, `[C, H, W]`.
    pub image: Tensor,
    /// Each convolution and its output for the image, `[C, H, W]`.
    pub maps: Vec<(LayerInfo, Tensor)>,
}

impl Diagnosis {
    /// The diagnosis of `net` learning `task` over a run of `total_steps` training steps. With
    /// `files` (`--diagnose`), a recurrent network's time steps' gradients are recorded often
    /// enough to draw 100 to 200 rows.
    pub fn new(
        net: &Sequential,
        task: &Task,
        (train, test): (&Dataset, Option<&Dataset>),
        total_steps: usize,
        files: bool,
    ) -> Diagnosis {
        let mut recorder = Recorder::new(net);
        if files {
            recorder.watch_time_steps(net, total_steps);
        }
        let samples = if files {
            PROBE_SAMPLES
        } else {
            EVENT_PROBE_SAMPLES
        };
        Diagnosis {
            recorder,
            probe: train.take(samples),
            task: task.clone(),
            image: test.unwrap_or(train).take(1).features,
            files,
        }
    }

    /// Whether this is `--diagnose`'s diagnosis, which writes files.
    pub fn writes_files(&self) -> bool {
        self.files
    }

    /// What has been recorded.
    pub fn report(&self) -> &Diagnostics {
        self.recorder.report()
    }

    /// Probes the network after `epoch` (0: before training) in evaluation mode, and with
    /// `--diagnose` writes the report and that epoch's histograms.
    pub fn probe(&mut self, epoch: usize, net: &mut Sequential, folder: &RunFolder) -> CliResult {
        net.set_training(false);
        let (targets, task) = (&self.probe.targets, &self.task);
        self.recorder
            .snapshot(epoch, net, &self.probe.features, |outputs| {
                task_loss(task, outputs, targets)
            })?;
        if !self.files {
            return Ok(());
        }
        let report = self.recorder.report();
        let snapshot = report.epochs.last().expect("the snapshot just recorded");
        let counts = counts_for(&report.layers, snapshot);
        let title = format!(
            "outputs of each activation layer after epoch {epoch} ({} training images{})",
            self.probe.len(),
            if counts == Counts::Log {
                "; counts on a log scale"
            } else {
                ""
            }
        );
        let svg = activation_histograms_svg(&report.layers, snapshot, &title, counts)?;
        folder.write(&format!("activations_epoch_{epoch}.svg"), &svg)?;
        let title = format!(
            "weights and weight gradients after epoch {epoch} ({} training images)",
            self.probe.len()
        );
        folder.write(
            WEIGHT_HISTOGRAMS,
            &weight_histograms_svg(&report.layers, snapshot, &title)?,
        )?;
        let title = format!(
            "distribution over epochs 0-{epoch} (median line; bands hold 38%, 68%, 87% and all \
             of the values)"
        );
        folder.write(DISTRIBUTIONS, &distributions_svg(report, &title)?)?;
        self.draw_convolutions(epoch, net, folder)?;
        self.write(folder)
    }

    /// For a network with 2-D convolutions, the first one's weight and the feature maps of the
    /// drawn image at each of them; `None` without one.
    pub fn convolutions(&self, net: &Sequential) -> CliResult<Option<Convolutions>> {
        let layers = &self.recorder.report().layers;
        let convs: Vec<usize> = layers
            .iter()
            .filter(|l| l.kind == LayerKind::Conv)
            .map(|l| l.index)
            .filter(|&i| net.layers()[i].type_name() == "Conv2d")
            .collect();
        let Some(&first) = convs.first() else {
            return Ok(None);
        };
        let weight = net.layers()[first]
            .named_parameters()
            .into_iter()
            .find(|(name, _)| name == "weight")
            .map(|(_, w)| w.detach())
            .expect("the layer's weight, found above");
        let outputs = nabla_core::no_grad(|| net.forward_trace(&self.image))?;
        let maps = convs
            .iter()
            .map(|&i| {
                let output = &outputs[i];
                (layers[i].clone(), output.reshape(&output.shape()[1..]))
            })
            .collect();
        Ok(Some(Convolutions {
            layer: layers[first].clone(),
            weight,
            image: self.image.reshape(&self.image.shape()[1..]),
            maps,
        }))
    }

    /// For a network with 2-D convolutions, the first one's filters and the feature maps of the
    /// drawn image at each of them, after `epoch`.
    fn draw_convolutions(&self, epoch: usize, net: &Sequential, folder: &RunFolder) -> CliResult {
        let Some(conv) = self.convolutions(net)? else {
            return Ok(());
        };
        let title = format!("filters of layer {} after epoch {epoch}", conv.layer.name);
        folder.write(
            &format!("filters_epoch_{epoch}.svg"),
            &filters_svg(&conv.weight, &title)?,
        )?;
        let named: Vec<(String, Tensor)> = conv
            .maps
            .into_iter()
            .map(|(layer, map)| (layer.name, map))
            .collect();
        let title = format!("feature maps of one image at each convolution after epoch {epoch}");
        folder.write(
            &format!("feature_maps_epoch_{epoch}.svg"),
            &feature_maps_svg(&conv.image, &named, &title)?,
        )
    }

    /// Records a training step's gradient norms (after backward).
    pub fn step(&mut self, epoch: usize, step: usize, net: &Sequential) {
        self.recorder.record_step(epoch, step, net);
    }

    /// The gradient norms of the latest step recorded, in the order of the layers with
    /// parameters.
    pub fn last_step_norms(&self) -> &[f64] {
        self.recorder
            .report()
            .steps
            .last()
            .map_or(&[], |s| s.norms.as_slice())
    }

    /// Ends the epoch's gradient checks; with `--diagnose`, prints its gradient warnings and
    /// writes the gradient-norm chart.
    pub fn finish_epoch(
        &mut self,
        epoch: usize,
        console: &Console,
        folder: &RunFolder,
    ) -> CliResult {
        let alarms = self.recorder.finish_epoch(epoch);
        if !self.files {
            return Ok(());
        }
        for alarm in alarms {
            console.warning(&alarm_message(
                &alarm,
                &self.recorder.report().layers,
                folder,
            ));
        }
        let report = self.recorder.report();
        folder.write(
            GRADIENT_NORMS,
            &gradient_norms_svg(report, "gradient norms per layer")?,
        )?;
        match &report.time_steps {
            Some(grads) if !grads.rows.is_empty() => {
                let title = format!(
                    "gradient through time of {} up to epoch {epoch}",
                    grads.layer
                );
                folder.write(
                    TIME_STEP_GRADIENTS,
                    &time_step_gradients_svg(grads, &title, None)?,
                )
            }
            _ => Ok(()),
        }
    }

    /// The console's line naming the pictures of the gradient through time, for a recurrent
    /// network.
    pub fn summary(&self, folder: &RunFolder) -> Option<String> {
        let grads = self.recorder.report().time_steps.as_ref()?;
        let (first, last) = (grads.rows.first()?, grads.rows.last()?);
        let share = |norms: &[f64]| {
            let top = norms.iter().copied().fold(0.0, f64::max);
            let bottom = norms.first().copied().unwrap_or(0.0);
            (top > 0.0).then(|| bottom / top)
        };
        let ratio = |row: &[f64]| match share(row) {
            Some(r) => format!("{r:.1e}"),
            None => "no gradient".to_string(),
        };
        Some(format!(
            "gradient through time of {}: {} (first time step's ‖∂L/∂h_t‖ over the largest: {} \
             at step {}, {} at step {})",
            grads.layer,
            folder.path().join(TIME_STEP_GRADIENTS).display(),
            ratio(&first.norms),
            first.training_step,
            ratio(&last.norms),
            last.training_step
        ))
    }

    fn write(&self, folder: &RunFolder) -> CliResult {
        folder.write(
            "diagnostics.json",
            &(serde_json::to_string(self.recorder.report())? + "\n"),
        )
    }

    /// The diagnostics recorded over the run.
    pub fn into_report(self) -> Diagnostics {
        self.recorder.into_report()
    }
}

/// Counts on a log scale when one bin of a shown histogram holds more than half of its values
/// (ReLU's zeros), which would flatten every other bar; linear otherwise.
fn counts_for(layers: &[LayerInfo], snapshot: &EpochSnapshot) -> Counts {
    let spiked = snapshot
        .layers
        .iter()
        .filter(|l| layers[l.layer].kind == LayerKind::Relu)
        .any(|l| {
            let h = &l.activation.histogram;
            let total: u64 = h.counts.iter().sum();
            h.counts.iter().any(|&c| 2 * c > total)
        });
    if spiked { Counts::Log } else { Counts::Linear }
}

/// A gradient warning with where to look: the file of the gradient norms and the names of the
/// layers' lines in it (and, for a vanishing or exploding gradient, the distributions picture
/// whose weight-gradient row shows the same).
fn alarm_message(alarm: &AlarmSummary, layers: &[LayerInfo], folder: &RunFolder) -> String {
    let label = |name: &str| {
        layers
            .iter()
            .find(|l| l.name == name)
            .map_or(name.to_string(), |l| l.label.clone())
    };
    let names: Vec<String> = match &alarm.first {
        GradientAlarm::NonFinite { layers } => layers.iter().map(|l| label(&l.layer)).collect(),
        GradientAlarm::Vanishing { first, last, .. }
        | GradientAlarm::Exploding { first, last, .. } => {
            vec![label(&first.layer), label(&last.layer)]
        }
    };
    let lines = match names.as_slice() {
        [one] => format!("the line of {one}"),
        _ => format!("the lines of {}", names.join(" and ")),
    };
    let mut message = format!(
        "{alarm}; open {} ({lines})",
        folder.path().join(GRADIENT_NORMS).display()
    );
    if alarm.kind != AlarmKind::NonFinite {
        message.push_str(&format!(
            " and {} (the weight-gradient row)",
            folder.path().join(DISTRIBUTIONS).display()
        ));
    }
    message
}

/// The error of a step stopped by `--detect-anomaly`: the anomaly, where in training it
/// happened, and `anomaly.svg` (written when the anomaly has a node to draw).
pub fn anomaly_error(
    anomaly: &Anomaly,
    params: &[(String, Tensor)],
    folder: &RunFolder,
    epoch: usize,
    step: usize,
) -> Box<dyn std::error::Error + Send + Sync> {
    let place = format!("at epoch {epoch}, step {step}");
    let picture = anomaly_svg(anomaly, params, ANOMALY_DEPTH, &place).map(|svg| {
        folder
            .write("anomaly.svg", &svg)
            .map(|()| folder.path().join("anomaly.svg"))
    });
    match picture {
        Some(Ok(path)) => format!(
            "{anomaly} {place}; the graph around it is in {}",
            path.display()
        )
        .into(),
        Some(Err(e)) => format!("{anomaly} {place} (and drawing its graph failed: {e})").into(),
        None => format!("{anomaly} {place}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nabla_core::{DType, Generator};
    use nabla_nn::layers::{Linear, Lstm, RecurrentOptions};

    #[test]
    fn a_recurrent_network_gets_its_gradient_through_time_drawn_and_named() {
        let dir = std::env::temp_dir().join(format!("nabla-diagnose-rnn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let folder = RunFolder::new_run(Some(&dir)).unwrap();
        let mut rng = Generator::new(0);
        let options = RecurrentOptions {
            batch_first: true,
            ..Default::default()
        };
        let mut net = Sequential::new();
        net.push(Box::new(
            Lstm::new(3, 4, options, DType::F32, &mut rng).unwrap(),
        ));
        net.push(Box::new(Linear::new(4, 2, DType::F32, &mut rng)));
        // 8 sequences of 6 steps of 3 features; 450 steps planned, so every 3rd is recorded.
        let x = Tensor::from_vec(
            (0..8 * 6 * 3).map(|v| (v % 7) as f32 * 0.3).collect(),
            &[8, 6, 3],
        );
        let y = Tensor::from_vec((0..8).map(|i| i % 2).collect::<Vec<i64>>(), &[8]);
        let train = Dataset::new(x.clone(), y.clone()).unwrap();
        let task = nabla_nn::task::Task::classes(2);
        let mut diagnosis = Diagnosis::new(&net, &task, (&train, None), 450, true);
        assert!(diagnosis.summary(&folder).is_none(), "nothing recorded yet");
        for step in 1..=4 {
            nabla_nn::loss::try_cross_entropy(&net.forward(&x), &y)
                .unwrap()
                .backward();
            diagnosis.step(1, step, &net);
        }
        let console = Console::new(true, None);
        diagnosis.finish_epoch(1, &console, &folder).unwrap();
        let svg = std::fs::read_to_string(dir.join(TIME_STEP_GRADIENTS)).unwrap();
        assert!(
            svg.contains("gradient through time of 0: LSTM(3 -&gt; 4, batch_first) up to epoch 1")
        );
        assert!(svg.contains("every 3 training steps"));
        let summary = diagnosis.summary(&folder).unwrap();
        assert!(
            summary.starts_with("gradient through time of 0: LSTM(3 -> 4, batch_first): ")
                && summary.contains(TIME_STEP_GRADIENTS)
                && summary.contains("at step 1, ")
                && summary.ends_with(" at step 4)"),
            "{summary}"
        );
        let report = diagnosis.into_report();
        let rows = &report.time_steps.as_ref().unwrap().rows;
        assert_eq!(
            rows.iter().map(|r| r.training_step).collect::<Vec<_>>(),
            [1, 4]
        );
        assert!(
            rows.iter()
                .all(|r| r.norms.len() == 6 && r.norms[5] > r.norms[0])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
