//! Why gates matter: the adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton
//! 2015) at sequence length 60, learned by a vanilla RNN (tanh), an LSTM and a GRU of the same
//! size with the same optimiser and steps.
//!
//! Each sequence has 60 time steps of two features: a random value in [0, 1) and a marker that
//! is 1 at two time steps (one in each half) and 0 elsewhere; the target is the sum of the two
//! marked values. Always predicting 1 (the mean) scores an MSE of 1/6 ≈ 0.167: a model has
//! learned something only below that. The first marked value must be carried for 30 or more
//! time steps, and the gradient that teaches it must travel as far back.
//!
//! While training, the example records ‖∂L/∂h_t‖, the gradient norm of the recurrent layer's
//! hidden state at every time step, and draws it per model as a heatmap (time step across,
//! training step down, one colour scale for the three), with the loss curves on one chart.
//!
//! Run with `cargo run --release -p nabla-inspect --example why_gates [-- OUT_DIR [STEPS]]`
//! (pictures into OUT_DIR, `why_gates` by default; 1,500 training steps by default).

use nabla_core::{DType, Generator, Tensor, no_grad};
use nabla_inspect::diagnostics::{
    Panel, Series, TimeStepGradients, line_chart_svg, time_step_gradients_svg,
};
use nabla_nn::clip::clip_grad_norm;
use nabla_nn::layers::{Gru, Linear, Lstm, Nonlinearity, RecurrentOptions, Rnn};
use nabla_nn::loss::try_mse_loss;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Optimizer};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Time steps of a sequence.
const T: usize = 50;
const HIDDEN: usize = 32;
const BATCH: usize = 64;
const LEARNING_RATE: f64 = 1e-2;
const MAX_NORM: f64 = 1.0;
/// Training steps between two evaluations on the held-out batch.
const EVAL_EVERY: usize = 100;
/// Training losses averaged into one point of the loss chart.
const SMOOTHING: usize = 25;

/// A batch of adding-problem sequences `[N, T, 2]` (batch-first) and their targets `[N, 1]`.
fn batch(n: usize, rng: &mut Generator) -> (Tensor, Tensor) {
    let mut x = vec![0.0f32; n * T * 2];
    let mut y = vec![0.0f32; n];
    for s in 0..n {
        let marks = [rng.below(T / 2), T / 2 + rng.below(T / 2)];
        for t in 0..T {
            let value = rng.uniform(0.0, 1.0) as f32;
            x[(s * T + t) * 2] = value;
            if marks.contains(&t) {
                x[(s * T + t) * 2 + 1] = 1.0;
                y[s] += value;
            }
        }
    }
    (
        Tensor::from_vec(x, &[n, T, 2]),
        Tensor::from_vec(y, &[n, 1]),
    )
}

/// The recurrent layer (`kind`: "RNN", "LSTM" or "GRU"), its last hidden state into
/// Linear(H -> 1).
fn model(kind: &str, rng: &mut Generator) -> nabla_nn::Result<Sequential> {
    let options = RecurrentOptions {
        batch_first: true,
        ..Default::default()
    };
    let recurrent: Box<dyn Module> = match kind {
        "RNN" => Box::new(Rnn::new(
            2,
            HIDDEN,
            Nonlinearity::Tanh,
            options,
            DType::F32,
            rng,
        )?),
        "LSTM" => Box::new(Lstm::new(2, HIDDEN, options, DType::F32, rng)?),
        _ => Box::new(Gru::new(2, HIDDEN, options, DType::F32, rng)?),
    };
    let mut net = Sequential::new();
    net.push(recurrent);
    net.push(Box::new(Linear::new(HIDDEN, 1, DType::F32, rng)));
    Ok(net)
}

/// One model's run: its training losses, held-out MSE every [`EVAL_EVERY`] steps, and
/// gradient norms through time.
struct Run {
    kind: &'static str,
    losses: Vec<f64>,
    evaluations: Vec<(usize, f64)>,
    grads: TimeStepGradients,
    seconds: f64,
}

fn mse(net: &Sequential, x: &Tensor, y: &Tensor) -> nabla_nn::Result<f64> {
    Ok(try_mse_loss(&net.try_forward(x)?, y)?.to_f64_vec()[0])
}

fn train(kind: &'static str, steps: usize, held_out: &(Tensor, Tensor)) -> nabla_nn::Result<Run> {
    let started = Instant::now();
    // The same initial draws, data and order for every model.
    let mut rng = Generator::new(17);
    let net = model(kind, &mut rng)?;
    let params = net.named_parameters();
    let mut optimizer = Optim::new(params.clone(), Adam::new(), LEARNING_RATE)?;
    let recurrent = &net.layers()[0];
    let mut data = Generator::new(1);
    let mut run = Run {
        kind,
        losses: Vec::with_capacity(steps),
        evaluations: vec![(0, no_grad(|| mse(&net, &held_out.0, &held_out.1))?)],
        grads: TimeStepGradients::new(
            format!("0: {}", recurrent.describe()),
            TimeStepGradients::every_for(steps),
        ),
        seconds: 0.0,
    };
    for step in 1..=steps {
        let (x, y) = batch(BATCH, &mut data);
        recurrent.record_time_steps(run.grads.wants(step));
        optimizer.zero_grad();
        let loss = try_mse_loss(&net.try_forward(&x)?, &y)?;
        loss.backward();
        run.grads.record(step, 1, step, &recurrent.time_steps());
        recurrent.record_time_steps(false);
        clip_grad_norm(&params, MAX_NORM)?;
        optimizer.step()?;
        run.losses.push(loss.to_f64_vec()[0]);
        if step % EVAL_EVERY == 0 {
            let held_out_mse = no_grad(|| mse(&net, &held_out.0, &held_out.1))?;
            run.evaluations.push((step, held_out_mse));
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// Means of `SMOOTHING` consecutive losses, at the step ending each.
fn smoothed(losses: &[f64]) -> Vec<(f64, f64)> {
    losses
        .chunks(SMOOTHING)
        .enumerate()
        .map(|(i, c)| {
            let step = i * SMOOTHING + c.len();
            (step as f64, c.iter().sum::<f64>() / c.len() as f64)
        })
        .collect()
}

fn write(dir: &Path, name: &str, svg: &str) -> std::io::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, svg)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "why_gates".to_string()));
    let steps: usize = match args.next() {
        Some(s) => s
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("STEPS must be a whole number of at least 1, got {s:?}"))?,
        None => 1500,
    };
    std::fs::create_dir_all(&dir)?;
    let held_out = batch(1000, &mut Generator::new(99));
    let baseline =
        try_mse_loss(&Tensor::ones(&[1000, 1], DType::F32), &held_out.1)?.to_f64_vec()[0];
    println!(
        "adding problem, T = {T}: always predicting 1 scores MSE {baseline:.4} on the 1000 \
         held-out sequences (1/6 = 0.1667 in expectation)"
    );
    println!(
        "each model: hidden size {HIDDEN}, batch {BATCH}, Adam lr {LEARNING_RATE}, gradients \
         clipped to global norm {MAX_NORM}, {steps} steps"
    );
    let mut runs = Vec::new();
    for kind in ["RNN", "LSTM", "GRU"] {
        let run = train(kind, steps, &held_out)?;
        println!(
            "{kind}: held-out MSE {:.4} after {steps} steps ({:.1} s)",
            run.evaluations.last().map_or(f64::NAN, |e| e.1),
            run.seconds
        );
        runs.push(run);
    }

    println!("\nheld-out MSE (baseline {baseline:.4})");
    println!("{:>6} {:>8} {:>8} {:>8}", "step", "RNN", "LSTM", "GRU");
    for (i, (step, _)) in runs[0].evaluations.iter().enumerate() {
        if i % 2 == 1 && i + 1 != runs[0].evaluations.len() {
            continue;
        }
        print!("{step:>6}");
        for run in &runs {
            print!(" {:>8.4}", run.evaluations[i].1);
        }
        println!();
    }

    // How much of the gradient reaches back to the first time step, before and after training.
    println!("\nfirst time step's ‖∂L/∂h_t‖ over the last time step's");
    println!("{:>5} {:>14} {:>14}", "", "first step", "last recorded");
    for run in &runs {
        let ratio = |norms: &[f64]| norms[0] / norms[T - 1];
        let (first, last) = (
            &run.grads.rows[0],
            &run.grads.rows[run.grads.rows.len() - 1],
        );
        println!(
            "{:>5} {:>14.2e} {:>14.2e}",
            run.kind,
            ratio(&first.norms),
            ratio(&last.norms)
        );
    }

    // One colour scale for the three heatmaps, so that their colours compare.
    let range = runs
        .iter()
        .filter_map(|r| r.grads.range())
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    for run in &runs {
        let title = format!(
            "adding problem, T = {T}: gradient through time of the {}",
            match run.kind {
                "RNN" => "vanilla RNN (tanh)",
                kind => kind,
            }
        );
        let svg = time_step_gradients_svg(&run.grads, &title, range)?;
        write(
            &dir,
            &format!("why_gates_{}.svg", run.kind.to_lowercase()),
            &svg,
        )?;
    }
    let baseline_line = Series {
        name: "always 1 (baseline)".to_string(),
        points: vec![(0.0, baseline), (steps as f64, baseline)],
        dashed: true,
        failure: None,
        smoothing: 0.0,
    };
    let mut training: Vec<Series> = runs
        .iter()
        .map(|run| Series {
            name: run.kind.to_string(),
            points: smoothed(&run.losses),
            dashed: false,
            failure: None,
            smoothing: 0.0,
        })
        .collect();
    training.push(baseline_line.clone());
    let mut evaluated: Vec<Series> = runs
        .iter()
        .map(|run| Series {
            name: run.kind.to_string(),
            points: run
                .evaluations
                .iter()
                .map(|&(s, m)| (s as f64, m))
                .collect(),
            dashed: false,
            failure: None,
            smoothing: 0.0,
        })
        .collect();
    evaluated.push(baseline_line);
    let panels = [
        Panel {
            title: format!("training MSE (mean of {SMOOTHING} steps)"),
            x_label: "training step".to_string(),
            y_label: "MSE".to_string(),
            log_y: true,
            series: training,
            ..Panel::default()
        },
        Panel {
            title: "held-out MSE (1000 sequences)".to_string(),
            x_label: "training step".to_string(),
            y_label: "MSE".to_string(),
            log_y: true,
            series: evaluated,
            ..Panel::default()
        },
    ];
    let title = format!("adding problem, T = {T}: RNN vs LSTM vs GRU (hidden {HIDDEN})");
    write(
        &dir,
        "why_gates_loss.svg",
        &line_chart_svg(&title, &panels)?,
    )?;
    Ok(())
}
