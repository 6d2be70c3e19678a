//! The run folder's event log, `events.jsonl` ([`crate::run_events`] holds its events): the
//! `run` event when the run starts (then `resume` when it continues), each epoch's line (synced
//! before the checkpoint, as `metrics.jsonl`'s), the steps' losses and gradient norms at most
//! once a second and at the end of each epoch, and after the probe of epoch 0 and of every
//! epoch: the probe's histograms, one batch's graph with its chain rule, a 2-D classifier's
//! decision regions and a convolutional network's filters and feature maps; `end` when the run
//! stops. Every line is written with one `write` to a file opened for appending, so a reader
//! sees whole lines and at most one partial last line (a kill mid-write), which the next resume
//! cuts off before appending.

use super::config::TrainConfig;
use super::diagnose::Diagnosis;
use super::run_folder::{EpochMetrics, RunFolder};
use crate::CliResult;
use crate::run_events::{
    Boundary, EVENTS, End, FORMAT, FeatureMaps, Filters, GraphEvent, Plane, Points, Probe,
    RunEvent, RunStart, Status, Steps, current, read_events,
};
use nabla_core::{Tensor, enable_grad};
use nabla_inspect::classifier::DecisionMap;
use nabla_inspect::diagnostics::{EXPLODING_RATIO, LayerInfo, VANISHING_RATIO};
use nabla_inspect::{ExplainOptions, Graph, GraphOptions, Trace, explanation};
use nabla_nn::data::{Dataset, Schema, Splits};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::task::Task;
use nabla_nn::train::{StepEnd, task_loss};
use std::cell::Cell;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Training samples in the batch whose graph is drawn.
pub const GRAPH_SAMPLES: usize = 4;
/// Cells per side of the decision regions in a `boundary` event.
pub const BOUNDARY_SIDE: usize = 64;
/// The longest wait between two `steps` events while an epoch trains.
const STEPS_EVERY: Duration = Duration::from_secs(1);

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `events.jsonl`, open for appending.
pub struct EventLog {
    file: File,
    path: PathBuf,
    /// The last epoch completed, as the log says it.
    epoch: Cell<usize>,
}

/// The `run` event of a run of `config` on `data` in `folder`, whose layers are `layers`.
pub fn run_start(
    folder: &RunFolder,
    config: &TrainConfig,
    data: &Splits,
    layers: &[LayerInfo],
) -> CliResult<RunStart> {
    let (task, classes) = match &data.schema.task {
        Task::Classification { classes } => ("classification", Some(classes.clone())),
        Task::Regression { .. } => ("regression", None),
    };
    Ok(RunStart {
        format: FORMAT,
        name: folder
            .path()
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        started: unix_now(),
        task: task.to_string(),
        epochs: config.epochs,
        steps_per_epoch: data.train.len().div_ceil(config.batch_size.max(1)),
        batch_size: config.batch_size,
        layers: layers.to_vec(),
        classes,
        vanishing_below: VANISHING_RATIO,
        exploding_above: EXPLODING_RATIO,
        gradient_alarm: "first_over_last".to_string(),
        config: serde_json::to_value(config)?,
    })
}

impl EventLog {
    /// The log of a new run, started with `start`.
    pub fn create(folder: &RunFolder, start: RunStart) -> CliResult<EventLog> {
        let log = EventLog::open_file(folder)?;
        log.file.set_len(0).map_err(|e| log.failed(e))?;
        log.write(&RunEvent::Run(start))?;
        Ok(log)
    }

    /// The log of a run resumed after the epochs of `history`, to `epochs`: a partial last line
    /// (a kill mid-write) is cut off, the `epoch` events of `history` the log lacks are added
    /// (all of them for a run written before the log existed, which starts it with `start`),
    /// and a `resume` event appended. A complete line that is not an event is an error naming
    /// it.
    pub fn resume(
        folder: &RunFolder,
        start: RunStart,
        history: &[EpochMetrics],
        epochs: usize,
    ) -> CliResult<EventLog> {
        let log = EventLog::open_file(folder)?;
        let length = (&log.file)
            .seek(SeekFrom::Start(0))
            .and_then(|_| log.file.metadata())
            .map_err(|e| log.failed(e))?
            .len();
        let (events, complete) =
            read_events(&log.file)
                .map_err(|e| log.failed(e))?
                .map_err(|bad| {
                    format!(
                        "{} {bad}; move the file aside to resume the run with a new log",
                        log.path.display()
                    )
                })?;
        if complete < length {
            log.file.set_len(complete).map_err(|e| log.failed(e))?;
        }
        if !events.iter().any(|e| matches!(e, RunEvent::Run(_))) {
            log.write(&RunEvent::Run(start))?;
        }
        let logged: Vec<usize> = current(events)
            .iter()
            .filter(|e| matches!(e, RunEvent::Epoch(_)))
            .filter_map(RunEvent::epoch)
            .collect();
        for metrics in history.iter().filter(|m| !logged.contains(&m.epoch)) {
            log.write(&RunEvent::Epoch(metrics.clone()))?;
        }
        let epoch = history.len();
        log.epoch.set(epoch);
        log.write(&RunEvent::Resume(crate::run_events::Resume {
            epoch,
            started: unix_now(),
            epochs: Some(epochs),
        }))?;
        Ok(log)
    }

    fn open_file(folder: &RunFolder) -> CliResult<EventLog> {
        let path = folder.path().join(EVENTS);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(EventLog {
            file,
            path,
            epoch: Cell::new(0),
        })
    }

    fn failed(&self, e: std::io::Error) -> Box<dyn std::error::Error + Send + Sync> {
        format!("{}: {e}", self.path.display()).into()
    }

    /// Appends `event` as one line, in one write.
    pub fn write(&self, event: &RunEvent) -> CliResult {
        let line = event.to_line()?;
        (&self.file).write_all(&line).map_err(|e| self.failed(e))?;
        if let RunEvent::Epoch(m) = event {
            self.epoch.set(m.epoch);
        }
        Ok(())
    }

    /// Appends `event` and syncs it to disk.
    pub fn write_synced(&self, event: &RunEvent) -> CliResult {
        self.write(event)?;
        self.file.sync_data().map_err(|e| self.failed(e))
    }

    /// The `end` event, after the last epoch written.
    pub fn end(&self, status: Status, message: &str) -> CliResult {
        self.write_synced(&RunEvent::End(End {
            status,
            message: message.to_string(),
            epoch: self.epoch.get(),
        }))
    }
}

/// What a run writes to its log besides the epoch lines: the steps, and what follows each
/// probe.
pub struct Events<'a> {
    pub log: &'a EventLog,
    /// The steps not yet written, and when steps were last written.
    pending: Option<Steps>,
    written: Instant,
    /// The batch whose graph is drawn, with its loss's task.
    graph_batch: Dataset,
    schema: &'a Schema,
    /// The training points of a 2-D classifier's decision regions.
    boundary: Option<&'a Dataset>,
}

impl<'a> Events<'a> {
    pub fn new(log: &'a EventLog, train: &'a Dataset, schema: &'a Schema) -> Events<'a> {
        let planar = schema.input_shape == [2] && schema.task.is_classification();
        Events {
            log,
            pending: None,
            written: Instant::now(),
            graph_batch: train.take(GRAPH_SAMPLES),
            schema,
            boundary: planar.then_some(train),
        }
    }

    /// Keeps a step's loss and gradient norms; writes the steps kept when a second has passed
    /// since the last write, or at the epoch's last step.
    pub fn step(&mut self, step: &StepEnd, norms: &[f64]) -> CliResult {
        let pending = self.pending.get_or_insert_with(|| Steps {
            epoch: step.epoch,
            first_step: step.step,
            loss: Vec::new(),
            grad_norms: Vec::new(),
        });
        pending.loss.push(step.loss);
        pending.grad_norms.push(norms.to_vec());
        if step.step == step.steps || self.written.elapsed() >= STEPS_EVERY {
            self.flush_steps()?;
        }
        Ok(())
    }

    /// Writes the steps kept, if any.
    pub fn flush_steps(&mut self) -> CliResult {
        self.written = Instant::now();
        match self.pending.take() {
            Some(steps) => self.log.write(&RunEvent::Steps(steps)),
            None => Ok(()),
        }
    }

    /// After the probe of `epoch` (0: before training): its snapshot, the graph of one batch,
    /// and the decision regions or the convolutions when the network has them. `net` is in
    /// evaluation mode and its gradients are left as they were.
    pub fn probed(
        &mut self,
        epoch: usize,
        net: &mut Sequential,
        diagnosis: &Diagnosis,
    ) -> CliResult {
        self.flush_steps()?;
        if let Some(snapshot) = diagnosis.report().epochs.last() {
            self.log.write(&RunEvent::Probe(Probe {
                epoch,
                snapshot: serde_json::to_value(snapshot)?,
            }))?;
        }
        self.log.write(&self.graph(epoch, net)?)?;
        if let Some(train) = self.boundary {
            let map = DecisionMap::with_side(net, train, self.schema, BOUNDARY_SIDE)?;
            self.log.write(&RunEvent::Boundary(boundary(epoch, map)))?;
        }
        if let Some(conv) = diagnosis.convolutions(net)? {
            self.log.write(&RunEvent::Filters(Filters {
                epoch,
                layer: conv.layer.label,
                shape: conv.weight.shape().to_vec(),
                values: floats(&conv.weight),
            }))?;
            self.log.write(&RunEvent::FeatureMaps(FeatureMaps {
                epoch,
                input: plane(None, &conv.image),
                layers: conv
                    .maps
                    .iter()
                    .map(|(layer, map)| plane(Some(layer.label.clone()), map))
                    .collect(),
            }))?;
        }
        Ok(())
    }

    /// The `graph` event: the graph batch's loss traced forward and backward, its parameters
    /// named as in PyTorch, drawn left to right and explained.
    fn graph(&self, epoch: usize, net: &Sequential) -> CliResult<RunEvent> {
        let (x, t) = (&self.graph_batch.features, &self.graph_batch.targets);
        let params = net.named_parameters();
        let mut trace = Trace::new().with_name(x, "x").with_name(t, "t");
        for (name, p) in &params {
            trace.name(p, name.as_str());
        }
        // Backward accumulates into `.grad`: the training step's gradients are set aside and
        // put back.
        let kept: Vec<Option<Tensor>> = params.iter().map(|(_, p)| p.grad()).collect();
        for (_, p) in &params {
            p.set_grad(None);
        }
        let (loss, trace) = trace.record(|| {
            enable_grad(|| -> nabla_nn::Result<Tensor> {
                let loss = task_loss(&self.schema.task, &net.try_forward(x)?, t)?;
                loss.try_backward()?;
                Ok(loss)
            })
        });
        for ((_, p), grad) in params.iter().zip(kept) {
            p.set_grad(grad);
        }
        let loss = loss?;
        let options = GraphOptions {
            rankdir: nabla_inspect::RankDir::LeftRight,
            ..GraphOptions::default()
        };
        let explained = explanation(&trace, ExplainOptions::default())?;
        Ok(RunEvent::Graph(GraphEvent {
            epoch,
            svg: Graph::of(&loss, &trace, options).to_svg(),
            explanation: serde_json::to_value(&explained)?,
        }))
    }
}

/// A tensor as a `feature_maps` plane.
fn plane(label: Option<String>, t: &Tensor) -> Plane {
    Plane {
        label,
        shape: t.shape().to_vec(),
        values: floats(t),
    }
}

/// A tensor's values at single precision, which the page draws (and half the text of double).
fn floats(t: &Tensor) -> Vec<f32> {
    t.to_f64_vec().into_iter().map(|v| v as f32).collect()
}

/// The `boundary` event of a decision map.
fn boundary(epoch: usize, map: DecisionMap) -> Boundary {
    let (mut x, mut y, mut label) = (Vec::new(), Vec::new(), Vec::new());
    for ([px, py], class) in map.points {
        x.push(px);
        y.push(py);
        label.push(class);
    }
    Boundary {
        epoch,
        x: map.x,
        y: map.y,
        side: map.side,
        classes: map.regions,
        confidence: map.confidence.iter().map(|&p| p as f32).collect(),
        points: Points { x, y, label },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::train::config::{OptimizerKind, test_config};
    use crate::commands::train::progress::Console;
    use crate::commands::train::trainer::{Changes, RunOptions, train};
    use nabla_nn::data::{DataSpec, Source, ToySet};
    use nabla_nn::spec::ModelSpec;
    use std::path::Path;
    use std::rc::Rc;

    /// A run folder under the temp dir, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir =
                std::env::temp_dir().join(format!("nabla-events-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn spiral() -> (TrainConfig, Splits) {
        let spec = DataSpec {
            source: Source::Toy {
                set: ToySet::Spiral,
                samples: 60,
                noise: 0.05,
            },
            val_split: None,
            train_subset: None,
        };
        let config = TrainConfig {
            data: spec.clone(),
            layers: ModelSpec::parse("linear 8, relu, linear").unwrap(),
            model: None,
            lr: 0.01,
            batch_size: 16,
            epochs: 2,
            ..test_config(&[8], OptimizerKind::Adam)
        };
        (config, spec.load(0).unwrap())
    }

    /// Trains `config` on `data` into `dir` (resuming when `resume`), quietly.
    fn run(config: &TrainConfig, data: &Splits, dir: &Path, resume: bool) -> CliResult {
        let folder = match resume {
            true => RunFolder::open(dir)?,
            false => RunFolder::new_run(Some(dir))?,
        };
        let options = RunOptions {
            diagnose: false,
            detect_anomaly: false,
            comm: Rc::new(nabla_nn::train::SingleProcess),
        };
        let mut changes = Changes::new();
        changes.insert("epochs".into(), serde_json::json!([1, config.epochs]));
        let resume = resume.then_some(&changes);
        let mut console = Console::new(true, None);
        train(config, data, &folder, &options, resume, &mut console).map(|_| ())
    }

    fn events(dir: &Path) -> Vec<RunEvent> {
        let bytes = std::fs::read(dir.join(EVENTS)).unwrap();
        let (events, complete) = read_events(&bytes[..]).unwrap().unwrap();
        assert_eq!(complete, bytes.len() as u64);
        events
    }

    fn kinds(events: &[RunEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let value = serde_json::to_value(e).unwrap();
                format!("{}{}", value["type"].as_str().unwrap(), value["epoch"])
            })
            .collect()
    }

    #[test]
    fn a_toy_run_logs_every_event_in_order_and_its_graph_nodes_carry_their_steps() {
        let dir = Dir::new("toy");
        let (config, data) = spiral();
        run(&config, &data, &dir.0, false).unwrap();
        let events = events(&dir.0);
        // 60 training points in batches of 16: 4 steps an epoch, written at the epoch's end
        // (or sooner when a second has passed).
        let order: Vec<String> = kinds(&events)
            .into_iter()
            .filter(|k| !k.starts_with("steps"))
            .collect();
        assert_eq!(
            order,
            [
                "runnull",
                "probe0",
                "graph0",
                "boundary0",
                "epoch1",
                "probe1",
                "graph1",
                "boundary1",
                "epoch2",
                "probe2",
                "graph2",
                "boundary2",
                "end2"
            ]
        );
        let RunEvent::Run(start) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(
            (start.steps_per_epoch, start.batch_size, start.epochs),
            (4, 16, 2)
        );
        assert_eq!(start.classes.as_ref().map(Vec::len), Some(2));
        assert_eq!(start.layers.len(), 3);
        for epoch in 1..=2 {
            let steps: Vec<&Steps> = events
                .iter()
                .filter_map(|e| match e {
                    RunEvent::Steps(s) if s.epoch == epoch => Some(s),
                    _ => None,
                })
                .collect();
            let numbers: Vec<usize> = steps
                .iter()
                .flat_map(|s| s.first_step..s.first_step + s.loss.len())
                .collect();
            assert_eq!(numbers, [1, 2, 3, 4]);
            assert!(
                steps
                    .iter()
                    .all(|s| s.grad_norms.iter().all(|n| n.len() == 2))
            );
        }
        let metrics = std::fs::read_to_string(dir.0.join("metrics.jsonl")).unwrap();
        let logged: Vec<&EpochMetrics> = events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Epoch(m) => Some(m),
                _ => None,
            })
            .collect();
        let written: Vec<EpochMetrics> = metrics
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(logged, written.iter().collect::<Vec<_>>());
        for event in &events {
            match event {
                RunEvent::Graph(graph) => {
                    let steps = graph.explanation["steps"].as_array().unwrap();
                    assert!(steps.len() > 5, "{steps:?}");
                    for step in steps {
                        let attribute = format!("data-step=\"{}\"", step["number"]);
                        assert!(graph.svg.contains(&attribute), "{attribute}");
                    }
                    assert!(graph.svg.contains("[1] softmax + CE loss"));
                }
                RunEvent::Boundary(b) => {
                    assert_eq!(b.classes.len(), BOUNDARY_SIDE * BOUNDARY_SIDE);
                    assert_eq!(b.confidence.len(), b.classes.len());
                    assert_eq!(b.points.label.len(), 60);
                }
                RunEvent::Probe(p) => {
                    assert_eq!(p.snapshot["layers"].as_array().unwrap().len(), 3);
                }
                RunEvent::End(end) => {
                    assert_eq!((end.status, end.epoch), (Status::Finished, 2));
                    assert!(end.message.starts_with("final test accuracy"), "{end:?}");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_resume_after_a_kill_appends_and_the_reader_gets_the_epochs_of_the_metrics() {
        let dir = Dir::new("resume");
        let (mut config, data) = spiral();
        config.epochs = 1;
        run(&config, &data, &dir.0, false).unwrap();
        // A kill in the middle of a line of epoch 2: the line is cut short.
        let path = dir.0.join(EVENTS);
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(b"{\"type\":\"epoch\",\"epoch\":2,\"lr\":0.0");
        std::fs::write(&path, &bytes).unwrap();
        config.epochs = 2;
        run(&config, &data, &dir.0, true).unwrap();
        let events = events(&dir.0);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[whole], b'{');
        assert!(bytes[whole..].starts_with(b"{\"type\":\"resume\",\"epoch\":1,"));
        let order = kinds(&events);
        assert_eq!(order.iter().filter(|k| *k == "runnull").count(), 1);
        assert_eq!(order.iter().filter(|k| *k == "resume1").count(), 1);
        let epochs: Vec<usize> = current(events)
            .iter()
            .filter_map(|e| match e {
                RunEvent::Epoch(m) => Some(m.epoch),
                _ => None,
            })
            .collect();
        let metrics = std::fs::read_to_string(dir.0.join("metrics.jsonl")).unwrap();
        assert_eq!(epochs.len(), metrics.lines().count());
        assert_eq!(epochs, [1, 2]);
    }

    #[test]
    fn a_log_with_a_line_that_is_not_an_event_stops_the_resume_naming_it() {
        let dir = Dir::new("bad-line");
        let (mut config, data) = spiral();
        config.epochs = 1;
        run(&config, &data, &dir.0, false).unwrap();
        let path = dir.0.join(EVENTS);
        let mut log = std::fs::read_to_string(&path).unwrap();
        let lines = log.lines().count();
        log.push_str("{\"type\":\"epoch\"}\n");
        std::fs::write(&path, &log).unwrap();
        config.epochs = 2;
        let error = run(&config, &data, &dir.0, true).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{} line {}: missing field `epoch`; move the file aside to resume the run with a \
                 new log",
                path.display(),
                lines + 1
            )
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), log);
        // Nothing of the run changed: no resume was recorded, the configuration is the same.
        assert!(!dir.0.join("resumes.jsonl").exists());
        assert_eq!(
            RunFolder::open(&dir.0)
                .unwrap()
                .read_config()
                .unwrap()
                .epochs,
            1
        );
    }

    #[test]
    fn a_folder_holding_only_a_log_is_refused_for_a_new_run() {
        let dir = Dir::new("only-log");
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(dir.0.join(EVENTS), "").unwrap();
        let error = RunFolder::new_run(Some(&dir.0)).err().unwrap().to_string();
        assert_eq!(
            error,
            format!(
                "{}: holds events.jsonl of an earlier run but no config.json; choose another \
                 --out or remove it",
                dir.0.display()
            )
        );
    }

    #[test]
    fn a_run_of_an_older_nabla_starts_its_log_when_resumed() {
        let dir = Dir::new("older");
        let (mut config, data) = spiral();
        config.epochs = 1;
        run(&config, &data, &dir.0, false).unwrap();
        std::fs::remove_file(dir.0.join(EVENTS)).unwrap();
        config.epochs = 2;
        run(&config, &data, &dir.0, true).unwrap();
        let order = kinds(&events(&dir.0));
        assert_eq!(order[..4], ["runnull", "epoch1", "resume1", "probe1"]);
        assert_eq!(order.last().unwrap(), "end2");
    }

    #[test]
    fn a_convolutional_run_logs_its_filters_and_feature_maps() {
        let dir = Dir::new("cnn");
        let n = 16;
        let pixels: Vec<f32> = (0..n * 36).map(|i| ((i * 7) % 11) as f32 / 11.0).collect();
        let labels: Vec<i64> = (0..n as i64).map(|i| i % 2).collect();
        let train_set = Dataset::new(
            Tensor::from_vec(pixels, &[n, 1, 6, 6]),
            Tensor::from_vec(labels, &[n]),
        )
        .unwrap();
        let data = Splits {
            train: train_set,
            val: None,
            test: None,
            schema: Schema {
                input_shape: vec![1, 6, 6],
                task: Task::classes(2),
                preprocess: nabla_nn::data::Preprocess::Image {
                    mean: vec![0.0],
                    std: vec![1.0],
                    resize: None,
                },
            },
        };
        let config = TrainConfig {
            layers: ModelSpec::parse("conv2d 3 3, relu, conv2d 2 3, flatten, linear").unwrap(),
            model: None,
            batch_size: 8,
            epochs: 1,
            ..test_config(&[8], OptimizerKind::Adam)
        };
        run(&config, &data, &dir.0, false).unwrap();
        let events = events(&dir.0);
        let order: Vec<String> = kinds(&events)
            .into_iter()
            .filter(|k| k.starts_with("filters") || k.starts_with("feature_maps"))
            .collect();
        assert_eq!(
            order,
            ["filters0", "feature_maps0", "filters1", "feature_maps1"]
        );
        for event in &events {
            match event {
                RunEvent::Filters(f) => {
                    assert_eq!(f.layer, "layer 0 (Conv2d)");
                    assert_eq!(
                        (f.shape.as_slice(), f.values.len()),
                        (&[3, 1, 3, 3][..], 27)
                    );
                }
                RunEvent::FeatureMaps(m) => {
                    assert_eq!(m.input.shape, [1, 6, 6]);
                    let shapes: Vec<&[usize]> =
                        m.layers.iter().map(|l| l.shape.as_slice()).collect();
                    assert_eq!(shapes, [&[3, 4, 4][..], &[2, 2, 2][..]]);
                    assert_eq!(m.layers[1].label.as_deref(), Some("layer 2 (Conv2d)"));
                    assert!(
                        m.layers
                            .iter()
                            .all(|l| l.values.len() == l.shape.iter().product::<usize>())
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_diverging_run_ends_its_log_with_the_error() {
        let dir = Dir::new("diverging");
        let (mut config, data) = spiral();
        config.lr = 1e30;
        let error = run(&config, &data, &dir.0, false).unwrap_err().to_string();
        let events = events(&dir.0);
        let Some(RunEvent::End(end)) = events.last() else {
            panic!("{events:?}")
        };
        assert_eq!(end.status, Status::Failed);
        assert_eq!(end.message, error);
        assert!(error.contains("lower the learning rate"), "{error}");
    }
}
