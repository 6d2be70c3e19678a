//! [`Recorder`]: watches a `Sequential` network while it trains. Once per epoch (and once before
//! training) it runs a fixed probe batch forward and backward and keeps, per layer, histograms of
//! the outputs, weights and weight gradients with the saturated and dead fractions; after every
//! training step it keeps each layer's gradient norm and checks them for vanishing or exploding,
//! and, for a network with a recurrent layer, every few steps the gradient norm of that layer's
//! hidden state at each time step ([`TimeStepGradients`]).

use super::gradients::{AlarmKind, AlarmSummary, GradientAlarm, LayerNorm, check_gradients};
use super::histogram::{Histogram, TensorStats};
use super::layers::LayerKind;
use super::time_steps::TimeStepGradients;
use nabla_core::{DType, GradOptions, Tensor, enable_grad, try_grad_opts};
use nabla_nn::Result;
use nabla_nn::module::Sequential;
use serde::{Deserialize, Serialize};

/// Bins of every histogram (the textbook's figures use 30).
pub const BINS: usize = 30;

/// A layer of the watched network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub index: usize,
    /// `index: description`, as in warnings.
    pub name: String,
    /// PyTorch's class name ([`Module::type_name`](nabla_nn::module::Module::type_name)).
    pub type_name: String,
    /// `layer index (type)`, as the textbook names the layers of its pictures: `layer 1
    /// (Sigmoid)`.
    pub label: String,
    pub kind: LayerKind,
    pub has_parameters: bool,
}

/// One layer at one probe.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerSnapshot {
    pub layer: usize,
    /// The layer's outputs on the probe batch.
    pub activation: TensorStats,
    /// Sigmoid and tanh layers: the fraction of outputs in the flat parts.
    pub saturated: Option<f64>,
    /// ReLU layers: the fraction of units that are 0 for the whole probe batch.
    pub dead: Option<f64>,
    pub weight: Option<TensorStats>,
    /// The gradient of the probe batch's loss with respect to the weight.
    pub weight_grad: Option<TensorStats>,
    /// L2 norm of the gradient over all the layer's parameters, on the probe batch.
    pub grad_norm: Option<f64>,
}

impl LayerSnapshot {
    /// Layer `layer` (of kind `kind`) from its `output` on a probe batch, its weight with that
    /// batch's gradient, and the gradient norm over all its parameters. A unit is a feature of
    /// `[N, F]` or a channel (dim 1) of a convolution's `[N, C, ...]`, over every sample and
    /// position.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_inspect::diagnostics::{LayerKind, LayerSnapshot};
    /// let out = Tensor::from_vec(vec![0.0f32, 2.0, 0.0, 1.0], &[2, 2]);
    /// let s = LayerSnapshot::of(1, LayerKind::Relu, &out, None, None);
    /// assert_eq!(s.dead, Some(0.5));
    /// ```
    pub fn of(
        layer: usize,
        kind: LayerKind,
        output: &Tensor,
        weight: Option<(&Tensor, &Tensor)>,
        grad_norm: Option<f64>,
    ) -> LayerSnapshot {
        // Channels (dim 1 of a convolution's `[N, C, ...]` output) last, so a unit is a
        // channel over every sample and position, as features are for `[N, F]`.
        let values = match output.ndim() {
            0..=2 => output.to_f64_vec(),
            n => {
                let order: Vec<usize> = std::iter::once(0)
                    .chain(2..n)
                    .chain(std::iter::once(1))
                    .collect();
                output.permute(&order).to_f64_vec()
            }
        };
        let histogram = match kind.output_range() {
            Some((lo, hi)) => Histogram::new(&values, lo, hi, BINS),
            None => Histogram::spanning(&values, BINS),
        };
        let units = match output.shape() {
            [] => 1,
            [units] => *units,
            [_, units, ..] => *units,
        };
        let stats = |t: &Tensor| {
            let v = t.to_f64_vec();
            TensorStats::new(&v, Histogram::spanning(&v, BINS))
        };
        LayerSnapshot {
            layer,
            saturated: kind.saturated(&values),
            dead: kind.dead(&values, units),
            activation: TensorStats::new(&values, histogram),
            weight: weight.map(|(w, _)| stats(w)),
            weight_grad: weight.map(|(_, g)| stats(g)),
            grad_norm,
        }
    }
}

/// The network at the end of an epoch (epoch 0: before training).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochSnapshot {
    pub epoch: usize,
    /// The probe batch's loss.
    pub loss: f64,
    pub layers: Vec<LayerSnapshot>,
}

/// Gradient norms of one training step, in the order of [`Diagnostics::gradient_layers`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepNorms {
    pub epoch: usize,
    /// 1-based within the epoch.
    pub step: usize,
    pub norms: Vec<f64>,
}

/// Everything recorded: what `diagnostics.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostics {
    pub layers: Vec<LayerInfo>,
    pub probe_samples: usize,
    pub bins: usize,
    pub epochs: Vec<EpochSnapshot>,
    /// Indices of the layers with parameters, first to last.
    pub gradient_layers: Vec<usize>,
    pub steps: Vec<StepNorms>,
    pub alarms: Vec<AlarmSummary>,
    /// The first recurrent layer's ‖∂L/∂h_t‖ per time step over training, once
    /// [`Recorder::watch_time_steps`] found one.
    pub time_steps: Option<TimeStepGradients>,
}

/// Collects [`Diagnostics`] for one network.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_inspect::diagnostics::Recorder;
/// use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
/// let config = MlpConfig { input: 4, hidden: vec![8], outputs: 2, activation: Hidden::Sigmoid,
///     init: WeightInit::Std(1.0), batch_norm: false, dropout: 0.0 };
/// let net = config.build(DType::F64, &mut Generator::new(0)).unwrap();
/// let mut recorder = Recorder::new(&net);
/// let x = Tensor::full(&[16, 4], 10.0, DType::F64);
/// recorder.snapshot(0, &net, &x, |logits| Ok(logits.sum())).unwrap();
/// let sigmoid = &recorder.report().epochs[0].layers[1];
/// assert_eq!(sigmoid.saturated, Some(1.0)); // inputs of 10 push every unit to 0 or 1
/// assert_eq!(recorder.report().gradient_layers, [0, 2]);
/// ```
pub struct Recorder {
    report: Diagnostics,
    /// Alarms of the epoch in progress, with their step.
    pending: Vec<(usize, GradientAlarm)>,
    steps_in_epoch: usize,
}

/// The parameters of layer `layer` with their names within it.
fn layer_parameters(net: &Sequential, layer: usize) -> Vec<(String, Tensor)> {
    net.layers()[layer].named_parameters()
}

/// The L2 norm of `values`.
pub(crate) fn l2(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The L2 norm of a tensor's elements, summed in `f64` without copying them (a training step's
/// gradients are read in place), in eight running sums that the compiler vectorises: a single
/// sum waits on each addition and made this a tenth of an MLP's training step.
fn norm_of(t: &Tensor) -> f64 {
    fn squares<T: Copy + Into<f64>>(s: &[T]) -> f64 {
        let square = |v: T| {
            let v: f64 = v.into();
            v * v
        };
        let mut lanes = [0.0f64; 8];
        let chunks = s.chunks_exact(8);
        let rest: f64 = chunks.remainder().iter().map(|&v| square(v)).sum();
        for chunk in chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane += square(v);
            }
        }
        (lanes.iter().sum::<f64>() + rest).sqrt()
    }
    match t.dtype() {
        DType::F32 => t.try_with_slice(squares::<f32>),
        DType::F64 => t.try_with_slice(squares::<f64>),
        DType::I64 => Ok(l2(&t.to_f64_vec())),
    }
    .unwrap_or(f64::NAN)
}

impl Recorder {
    pub fn new(net: &Sequential) -> Recorder {
        let layers: Vec<LayerInfo> = net
            .layers()
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let type_name = layer.type_name();
                LayerInfo {
                    index,
                    kind: LayerKind::of(type_name),
                    name: format!("{index}: {}", layer.describe()),
                    type_name: type_name.to_string(),
                    label: format!("layer {index} ({type_name})"),
                    has_parameters: !layer.named_parameters().is_empty(),
                }
            })
            .collect();
        Recorder::with_layers(layers)
    }

    /// A recorder for layers described by hand, for networks that are not a `Sequential`
    /// (the Python package's modules): feed it with [`Recorder::record_norms`] and
    /// [`Recorder::push_snapshot`].
    ///
    /// ```
    /// use nabla_inspect::diagnostics::{LayerInfo, LayerKind, Recorder};
    /// let layer = |index: usize, type_name: &str, has_parameters| LayerInfo {
    ///     index, name: format!("{index}"), type_name: type_name.into(),
    ///     label: format!("{index} ({type_name})"), kind: LayerKind::of(type_name), has_parameters };
    /// let mut recorder = Recorder::with_layers(vec![layer(0, "Linear", true), layer(1, "ReLU", false),
    ///     layer(2, "Linear", true)]);
    /// assert!(recorder.record_norms(1, 1, &[1e-9, 1.0]).is_some()); // vanishing
    /// assert_eq!(recorder.finish_epoch(1).len(), 1);
    /// ```
    pub fn with_layers(layers: Vec<LayerInfo>) -> Recorder {
        Recorder {
            report: Diagnostics {
                gradient_layers: layers
                    .iter()
                    .filter(|l| l.has_parameters)
                    .map(|l| l.index)
                    .collect(),
                layers,
                probe_samples: 0,
                bins: BINS,
                epochs: Vec::new(),
                steps: Vec::new(),
                alarms: Vec::new(),
                time_steps: None,
            },
            pending: Vec::new(),
            steps_in_epoch: 0,
        }
    }

    /// For a network with a recurrent layer, switches on the first one's recording of its
    /// hidden states ([`Module::record_time_steps`](nabla_nn::module::Module::record_time_steps))
    /// so that [`Recorder::record_step`] keeps their gradient norms, every so many steps that a
    /// run of `total_steps` gives at most [`MAX_ROWS`](super::MAX_ROWS) rows. Returns whether
    /// the network has one.
    ///
    /// ```
    /// use nabla_core::{DType, Generator};
    /// use nabla_inspect::diagnostics::Recorder;
    /// use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
    /// let config = MlpConfig { input: 4, hidden: vec![8], outputs: 2, activation: Hidden::Relu,
    ///     init: WeightInit::Std(1.0), batch_norm: false, dropout: 0.0 };
    /// let net = config.build(DType::F64, &mut Generator::new(0)).unwrap();
    /// let mut recorder = Recorder::new(&net);
    /// assert!(!recorder.watch_time_steps(&net, 1000)); // no recurrent layer
    /// assert!(recorder.report().time_steps.is_none());
    /// ```
    pub fn watch_time_steps(&mut self, net: &Sequential, total_steps: usize) -> bool {
        let Some(layer) = self
            .report
            .layers
            .iter()
            .find(|l| l.kind == LayerKind::Recurrent)
        else {
            return false;
        };
        net.layers()[layer.index].record_time_steps(true);
        self.report.time_steps = Some(TimeStepGradients::new(
            layer.name.clone(),
            TimeStepGradients::every_for(total_steps),
        ));
        true
    }

    pub fn report(&self) -> &Diagnostics {
        &self.report
    }

    /// The report, ending the recording.
    pub fn into_report(self) -> Diagnostics {
        self.report
    }

    /// Runs the probe batch `x` through `net` (put it in evaluation mode first so the probe
    /// neither moves batch-norm statistics nor draws dropout masks) and `loss`, and records every
    /// layer after `epoch`. Gradients come from a functional backward, so the parameters'
    /// `.grad` are left as they were.
    pub fn snapshot(
        &mut self,
        epoch: usize,
        net: &Sequential,
        x: &Tensor,
        loss: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<&EpochSnapshot> {
        let (outputs, loss, params, grads) = enable_grad(|| -> Result<_> {
            let outputs = net.forward_trace(x)?;
            let loss = loss(outputs.last().unwrap_or(x))?;
            let params: Vec<(usize, String, Tensor)> = (0..net.len())
                .flat_map(|i| {
                    layer_parameters(net, i)
                        .into_iter()
                        .map(move |(name, p)| (i, name, p))
                })
                .collect();
            let refs: Vec<&Tensor> = params.iter().map(|(_, _, p)| p).collect();
            // A parameter the loss does not reach (a layer after the output) has zero gradient.
            let options = GradOptions {
                materialize_grads: true,
                ..GradOptions::default()
            };
            let grads: Vec<Tensor> = try_grad_opts(&[&loss], None, &refs, options)?
                .into_iter()
                .flatten()
                .collect();
            Ok((outputs, loss, params, grads))
        })?;
        let layers = outputs
            .iter()
            .enumerate()
            .map(|(i, output)| {
                let mine = || {
                    params
                        .iter()
                        .zip(&grads)
                        .filter(move |((layer, _, _), _)| *layer == i)
                };
                let weight = mine()
                    .find(|((_, name, _), _)| name == "weight")
                    .map(|((_, _, w), g)| (w, g));
                let squares: Vec<f64> = mine().map(|(_, g)| l2(&g.to_f64_vec())).collect();
                let grad_norm = (!squares.is_empty()).then(|| l2(&squares));
                LayerSnapshot::of(i, self.report.layers[i].kind, output, weight, grad_norm)
            })
            .collect();
        let snapshot = EpochSnapshot {
            epoch,
            loss: loss.to_f64_vec()[0],
            layers,
        };
        Ok(self.push_snapshot(snapshot, x.shape().first().copied().unwrap_or(1)))
    }

    /// Keeps `snapshot`, taken on a probe batch of `probe_samples` samples.
    pub fn push_snapshot(
        &mut self,
        snapshot: EpochSnapshot,
        probe_samples: usize,
    ) -> &EpochSnapshot {
        self.report.probe_samples = probe_samples;
        self.report.epochs.push(snapshot);
        self.report.epochs.last().expect("just pushed")
    }

    /// Records the gradient norm of each layer with parameters after a training step's backward
    /// (from the parameters' `.grad`; a parameter without one counts as 0) and checks them; on a
    /// step the watched recurrent layer is due, its ‖∂L/∂h_t‖ too. Returns the step's alarm, if
    /// any; [`Recorder::finish_epoch`] summarises them.
    pub fn record_step(
        &mut self,
        epoch: usize,
        step: usize,
        net: &Sequential,
    ) -> Option<GradientAlarm> {
        let norms: Vec<f64> = self
            .report
            .gradient_layers
            .iter()
            .map(|&i| {
                let squares: Vec<f64> = layer_parameters(net, i)
                    .iter()
                    .map(|(_, p)| p.grad().map_or(0.0, |g| norm_of(&g)))
                    .collect();
                l2(&squares)
            })
            .collect();
        let alarm = self.record_norms(epoch, step, &norms);
        let training_step = self.report.steps.len();
        if let Some(grads) = &mut self.report.time_steps {
            let layer = self.report.layers.iter().find(|l| l.name == grads.layer);
            if let Some(layer) = layer {
                let states = net.layers()[layer.index].time_steps();
                grads.record(training_step, epoch, step, &states);
            }
        }
        alarm
    }

    /// Records one training step's gradient norms, one per layer of
    /// [`Diagnostics::gradient_layers`], and checks them; returns the step's alarm, if any.
    pub fn record_norms(
        &mut self,
        epoch: usize,
        step: usize,
        norms: &[f64],
    ) -> Option<GradientAlarm> {
        let named: Vec<LayerNorm> = self
            .report
            .gradient_layers
            .iter()
            .zip(norms)
            .map(|(&i, &norm)| LayerNorm {
                layer: self.report.layers[i].name.clone(),
                norm,
            })
            .collect();
        let alarm = check_gradients(&named);
        self.report.steps.push(StepNorms {
            epoch,
            step,
            norms: norms.to_vec(),
        });
        self.steps_in_epoch += 1;
        if let Some(a) = &alarm {
            self.pending.push((step, a.clone()));
        }
        alarm
    }

    /// Closes `epoch`: one summary per kind of alarm that went off during its steps, kept in
    /// the report and returned for printing.
    pub fn finish_epoch(&mut self, epoch: usize) -> Vec<AlarmSummary> {
        let pending = std::mem::take(&mut self.pending);
        let of_steps = std::mem::take(&mut self.steps_in_epoch);
        let summaries: Vec<AlarmSummary> = [
            AlarmKind::NonFinite,
            AlarmKind::Exploding,
            AlarmKind::Vanishing,
        ]
        .into_iter()
        .filter_map(|kind| {
            let mut of_kind = pending.iter().filter(|(_, a)| a.kind() == kind);
            let (first_step, first) = of_kind.next()?;
            Some(AlarmSummary {
                epoch,
                kind,
                steps: 1 + of_kind.count(),
                of_steps,
                first_step: *first_step,
                first: first.clone(),
            })
        })
        .collect();
        self.report.alarms.extend(summaries.iter().cloned());
        summaries
    }
}
