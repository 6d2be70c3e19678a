//! Diagnostics: histogram binning at the edges, saturated and dead fractions, the
//! vanishing/exploding detector at its thresholds, the recorder on a small network with known
//! weights, and charts that parse as XML.

use nabla_core::{DType, Generator, Tensor};
use nabla_inspect::diagnostics::{
    AlarmKind, Counts, GradientAlarm, Histogram, LayerKind, LayerNorm, Panel, Recorder, Series,
    activation_histograms_svg, check_gradients, distributions_svg, gradient_norms_svg,
    line_chart_svg, weight_histograms_svg,
};
use nabla_nn::layers::{Linear, Lstm, ReLU, RecurrentOptions, Sigmoid};
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::Sequential;

#[test]
fn values_fall_in_half_open_bins_and_the_top_edge_in_the_last() {
    let h = Histogram::new(&[-1.0, -0.5, -0.25, 0.0, 0.49, 0.5, 1.0], -1.0, 1.0, 4);
    assert_eq!(h.counts, [1, 2, 2, 2]);
    assert_eq!(h.edges(), [-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert_eq!(h.total(), 7);
}

#[test]
fn values_outside_the_range_and_non_finite_ones_are_counted_apart() {
    let values = [-2.0, 3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5];
    let h = Histogram::new(&values, 0.0, 1.0, 2);
    assert_eq!(h.counts, [0, 1]);
    assert_eq!((h.below, h.above, h.non_finite), (1, 1, 3));
    assert_eq!(h.total(), 6);
}

#[test]
fn a_spanning_histogram_covers_its_finite_values() {
    let h = Histogram::spanning(&[f64::NAN, 4.0, 1.0, 2.5], 3);
    assert_eq!((h.lo, h.hi), (1.0, 4.0));
    assert_eq!(h.counts, [1, 1, 1]);
    assert_eq!(h.non_finite, 1);
    let empty = Histogram::spanning(&[], 2);
    assert_eq!((empty.lo, empty.hi, empty.total()), (-0.5, 0.5, 0));
}

#[test]
fn histograms_serialise_with_every_field() {
    let h = Histogram::new(&[0.25], 0.0, 1.0, 2);
    assert_eq!(
        serde_json::to_string(&h).unwrap(),
        r#"{"lo":0.0,"hi":1.0,"counts":[1,0],"below":0,"above":0,"non_finite":0}"#
    );
}

#[test]
fn saturation_thresholds_are_strict() {
    // 0.01 and 0.99 themselves are not saturated; just past them is.
    let sigmoid = [0.01, 0.99, 0.009, 0.991];
    assert_eq!(LayerKind::Sigmoid.saturated(&sigmoid), Some(0.5));
    assert_eq!(
        LayerKind::Tanh.saturated(&[0.99, -0.99, 0.995, -1.0]),
        Some(0.5)
    );
    assert_eq!(LayerKind::Linear.saturated(&[5.0]), None);
    assert_eq!(LayerKind::Sigmoid.dead(&[0.0], 1), None);
    // One sample of 1e-30 keeps a unit alive.
    assert_eq!(LayerKind::Relu.dead(&[0.0, 0.0, 0.0, 1e-30], 2), Some(0.5));
}

fn norms(values: &[f64]) -> Vec<LayerNorm> {
    values
        .iter()
        .enumerate()
        .map(|(i, &norm)| LayerNorm {
            layer: format!("{i}: Linear"),
            norm,
        })
        .collect()
}

#[test]
fn the_detector_fires_outside_a_thousandfold_ratio_either_way() {
    assert_eq!(check_gradients(&norms(&[1e-3, 0.5, 1.0])), None);
    assert_eq!(check_gradients(&norms(&[1e3, 1.0])), None);
    let vanishing = check_gradients(&norms(&[0.999e-3, 7.0, 1.0])).unwrap();
    assert_eq!(vanishing.kind(), AlarmKind::Vanishing);
    let exploding = check_gradients(&norms(&[1.001e3, 1.0])).unwrap();
    assert_eq!(
        exploding.to_string(),
        "gradients explode: norm 1.00e3 at the first layer 0: Linear, 1.00e0 at the last layer 1: Linear (ratio 1.00e3, above 1e3)"
    );
    // A zero last norm under a nonzero first one is an infinite ratio; zero over zero is no signal.
    assert_eq!(
        check_gradients(&norms(&[1.0, 0.0])).map(|a| a.kind()),
        Some(AlarmKind::Exploding)
    );
    assert_eq!(check_gradients(&norms(&[0.0, 0.0])), None);
    assert_eq!(check_gradients(&norms(&[1e-9])), None);
}

#[test]
fn a_non_finite_norm_is_reported_with_every_layer_affected() {
    let alarm = check_gradients(&norms(&[f64::NAN, 1.0, f64::INFINITY])).unwrap();
    let GradientAlarm::NonFinite { layers } = &alarm else {
        panic!("{alarm:?}");
    };
    assert_eq!(layers.len(), 2);
    assert_eq!(
        alarm.to_string(),
        "gradient norm not finite in layer 0: Linear (NaN), layer 2: Linear (inf)"
    );
}

/// Linear(2 -> 2) with weight [[1, 0], [0, -1]] and zero bias, then ReLU: on inputs with a
/// positive first and second feature, unit 1 is always 0 (dead) and unit 0 never.
fn relu_net() -> Sequential {
    let mut net = Sequential::new();
    let linear = Linear::new(2, 2, DType::F64, &mut Generator::new(0));
    net.push(Box::new(linear));
    net.push(Box::new(ReLU));
    net.push(Box::new(Sigmoid));
    let params = nabla_nn::module::Module::named_parameters(&net);
    for (name, p) in &params {
        let values = match name.as_str() {
            "0.weight" => vec![1.0, 0.0, 0.0, -1.0],
            _ => vec![0.0, 0.0],
        };
        nabla_core::no_grad(|| p.copy_(&Tensor::from_vec(values, &[p.numel()]).reshape(p.shape())));
    }
    net
}

#[test]
fn the_recorder_measures_known_activations_weights_and_gradients() {
    let net = relu_net();
    let mut recorder = Recorder::new(&net);
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]);
    // loss = sum of the sigmoid outputs.
    recorder.snapshot(0, &net, &x, |y| Ok(y.sum())).unwrap();
    let report = recorder.report();
    let kinds: Vec<LayerKind> = report.layers.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [LayerKind::Linear, LayerKind::Relu, LayerKind::Sigmoid]
    );
    assert_eq!(report.gradient_layers, [0]);
    assert_eq!(report.probe_samples, 2);
    let snapshot = &report.epochs[0];
    let relu = &snapshot.layers[1];
    assert_eq!(relu.dead, Some(0.5));
    assert_eq!(relu.saturated, None);
    assert_eq!((relu.activation.min, relu.activation.max), (0.0, 3.0));
    assert_eq!(relu.activation.mean, 1.0);
    let linear = &snapshot.layers[0];
    let weight = linear.weight.as_ref().unwrap();
    assert_eq!((weight.min, weight.max, weight.mean), (-1.0, 1.0, 0.0));
    // d loss / d W[0, j] = Σ_rows σ'(x_r0) x_rj; row 2 of W gets nothing through the dead unit.
    let s = |v: f64| {
        let y = 1.0 / (1.0 + (-v).exp());
        y * (1.0 - y)
    };
    let g = [s(1.0) * 1.0 + s(3.0) * 3.0, s(1.0) * 2.0 + s(3.0) * 4.0];
    let bias = s(1.0) + s(3.0);
    let expected = (g[0] * g[0] + g[1] * g[1] + bias * bias).sqrt();
    assert!((linear.grad_norm.unwrap() - expected).abs() < 1e-12);
    let grad = linear.weight_grad.as_ref().unwrap();
    assert!((grad.max - g[1]).abs() < 1e-12 && grad.min == 0.0);
    assert!(snapshot.loss > 0.0);
    // The functional backward leaves .grad alone.
    let params = nabla_nn::module::Module::parameters(&net);
    assert!(params.iter().all(|p| p.grad().is_none()));
}

#[test]
fn steps_and_epochs_are_summarised_into_alarms() {
    let config = MlpConfig {
        input: 4,
        hidden: vec![4, 4],
        outputs: 2,
        activation: Hidden::Sigmoid,
        init: WeightInit::Std(1e-4),
        batch_norm: false,
        dropout: 0.0,
    };
    let net = config.build(DType::F64, &mut Generator::new(0)).unwrap();
    let mut recorder = Recorder::new(&net);
    let x = Tensor::full(&[3, 4], 1.0, DType::F64);
    for step in 1..=3 {
        nabla_nn::module::Module::forward(&net, &x).sum().backward();
        let alarm = recorder.record_step(1, step, &net).unwrap();
        assert_eq!(alarm.kind(), AlarmKind::Vanishing);
    }
    let summaries = recorder.finish_epoch(1);
    assert_eq!(summaries.len(), 1);
    assert_eq!((summaries[0].steps, summaries[0].of_steps), (3, 3));
    assert!(
        summaries[0]
            .to_string()
            .starts_with("epoch 1: in 3 of 3 steps, first at step 1: gradients vanish: ")
    );
    assert_eq!(recorder.finish_epoch(2), []);
    assert_eq!(recorder.report().steps.len(), 3);
    assert_eq!(recorder.report().alarms.len(), 1);
}

fn parses(svg: &str) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
}

#[test]
fn charts_are_well_formed_svg() {
    let series = |name: &str, dashed| Series {
        name: name.into(),
        points: vec![(1.0, 2.0), (2.0, f64::NAN), (3.0, 0.5)],
        dashed,
        failure: None,
        smoothing: 0.0,
    };
    let panel = |log_y| Panel {
        title: "loss <&>".into(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        log_y,
        series: vec![series("train", false), series("test", true)],
        ..Panel::default()
    };
    parses(&line_chart_svg("two panels", &[panel(false), panel(true)]).unwrap());
    parses(&line_chart_svg("empty", &[]).unwrap());

    let net = relu_net();
    let mut recorder = Recorder::new(&net);
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]);
    recorder.snapshot(0, &net, &x, |y| Ok(y.sum())).unwrap();
    nabla_nn::module::Module::forward(&net, &x).sum().backward();
    recorder.record_step(1, 1, &net);
    let report = recorder.report();
    for counts in [Counts::Linear, Counts::Log] {
        let svg = activation_histograms_svg(&report.layers, &report.epochs[0], "epoch 0", counts)
            .unwrap();
        parses(&svg);
        // The ReLU and sigmoid panels, named as the textbook does, not the linear layer.
        assert!(
            svg.contains(">\nlayer 1 (ReLU): 50.0% dead\n<")
                && svg.contains(">\nlayer 2 (Sigmoid): 0.0% saturated\n<")
        );
        assert!(!svg.contains("layer 0 (Linear)"));
        // The log-count option labels its axis so, and ticks it at powers of ten.
        assert_eq!(svg.contains("count (log)"), counts == Counts::Log);
        assert_eq!(svg.contains(">\n10⁰\n<"), counts == Counts::Log);
    }
    parses(&gradient_norms_svg(report, "norms").unwrap());
    parses(&weight_histograms_svg(&report.layers, &report.epochs[0], "weights").unwrap());
    parses(&distributions_svg(report, "over epochs").unwrap());
}

/// LSTM(2 -> 4) over `[N, T, 2]` batch-first, its last hidden state into Linear(4 -> 1).
fn lstm_net() -> Sequential {
    let mut rng = Generator::new(3);
    let options = RecurrentOptions {
        batch_first: true,
        ..Default::default()
    };
    let mut net = Sequential::new();
    net.push(Box::new(Linear::new(2, 2, DType::F64, &mut rng)));
    net.push(Box::new(
        Lstm::new(2, 4, options, DType::F64, &mut rng).unwrap(),
    ));
    net.push(Box::new(Linear::new(4, 1, DType::F64, &mut rng)));
    net
}

#[test]
fn a_recurrent_network_gets_the_gradient_of_each_time_step_every_kth_step() {
    let net = lstm_net();
    let mut recorder = Recorder::new(&net);
    assert_eq!(recorder.report().layers[1].kind, LayerKind::Recurrent);
    assert!(recorder.watch_time_steps(&net, 500));
    // 500 steps in at most 200 rows: every 3rd step, from the first.
    assert_eq!(recorder.report().time_steps.as_ref().unwrap().every, 3);
    let x = Tensor::from_vec(
        (0..3 * 5 * 2).map(|v| (v as f64 * 0.37).sin()).collect(),
        &[3, 5, 2],
    );
    let mut last_output_grads = Vec::new();
    for step in 1..=7 {
        for p in nabla_nn::module::Module::parameters(&net) {
            p.zero_grad();
        }
        // The network by hand, so the gradient at the LSTM's output (its last h) is known.
        let layers = net.layers();
        let h_last = layers[1].forward(&layers[0].forward(&x));
        h_last.retain_grad();
        let y = layers[2].forward(&h_last);
        (&y * &y).mean().backward();
        let g = h_last.grad().unwrap().to_f64_vec();
        last_output_grads.push(g.iter().map(|v| v * v).sum::<f64>().sqrt());
        recorder.record_step(1, step, &net);
    }
    let grads = recorder.report().time_steps.clone().unwrap();
    assert_eq!(grads.layer, "1: LSTM(2 -> 4, batch_first)");
    let steps: Vec<usize> = grads.rows.iter().map(|r| r.training_step).collect();
    assert_eq!(steps, [1, 4, 7]);
    for row in &grads.rows {
        assert_eq!(row.norms.len(), 5);
        // The loss reads the last time step's h directly: its norm is the output's gradient's.
        let want = last_output_grads[row.training_step - 1];
        assert!((row.norms[4] - want).abs() < 1e-12, "{row:?} {want}");
        assert!(row.norms.iter().all(|&n| n > 0.0 && n.is_finite()));
    }
    let json = serde_json::to_value(recorder.report()).unwrap();
    assert_eq!(json["time_steps"]["every"], 3);
    assert_eq!(json["time_steps"]["rows"][2]["training_step"], 7);
}

#[test]
fn a_network_without_recurrent_layers_records_no_time_steps() {
    let net = relu_net();
    let mut recorder = Recorder::new(&net);
    assert!(!recorder.watch_time_steps(&net, 500));
    let json = serde_json::to_value(recorder.report()).unwrap();
    assert!(json["time_steps"].is_null());
}
