//! `nabla train`'s pictures and checks, end to end on synthetic MNIST-format folders:
//! `curves.svg` in every run folder, `--diagnose` (diagnostics.json, activation histograms,
//! gradient norms, vanishing-gradient warnings) and `--detect-anomaly`.

mod common;

use common::{Look, TempDir, edit_config, nabla, read_json, write_mnist, write_mnist_looking};
use std::path::Path;
use std::process::Output;

/// Runs `nabla train` on `data` into `out` with a small batch and `flags`.
fn train(dir: &TempDir, data: &Path, out: &str, flags: &[&str]) -> Output {
    let data = data.display().to_string();
    let mut args = vec!["train", "--data", &data, "--out", out, "--batch-size", "8"];
    args.extend(flags);
    nabla(dir, &args)
}

fn stdout_of_success(output: Output) -> (String, String) {
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "failed: {stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

/// A chart file: one SVG document with texts starting with each of `texts` (plotters writes
/// each text on its own line between the tags).
fn assert_chart(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(
        svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
        "{}",
        path.display()
    );
    assert_eq!(svg.matches("<svg").count(), 1);
    for text in texts {
        assert!(
            svg.contains(&format!(">\n{text}")),
            "{} lacks {text}",
            path.display()
        );
    }
}

#[test]
fn every_run_draws_its_loss_and_accuracy_curves() {
    let dir = TempDir::new("curves");
    let data = write_mnist(&dir, "mnist");
    let out = dir.arg("run");
    stdout_of_success(train(
        &dir,
        &data,
        &out,
        &["--hidden", "16", "--epochs", "2"],
    ));
    let curves = dir.path("run").join("curves.svg");
    assert_chart(
        &curves,
        &["cross-entropy loss", "accuracy", "train", "test", "epoch"],
    );
    let title = format!("{out} after 2 epochs");
    assert_chart(&curves, &[&title]);
    assert!(!dir.path("run").join("diagnostics.json").exists());
}

#[test]
fn diagnose_records_every_layer_and_shows_a_std_1_sigmoid_net_saturated() {
    let dir = TempDir::new("diagnose");
    // A bright background: every input pixel is large, so with N(0, 1) weights the first layer's
    // inputs to the sigmoid are spread over tens of units and nearly all land in its flat parts.
    let bright = Look {
        band: 0,
        background: 224,
    };
    let data = write_mnist_looking(&dir, "bright", bright);
    let out = dir.arg("run");
    let flags = [
        "--hidden",
        "32,32",
        "--activation",
        "sigmoid",
        "--init",
        "std1",
        "--epochs",
        "2",
        "--diagnose",
    ];
    let (stdout, _) = stdout_of_success(train(&dir, &data, &out, &flags));
    assert!(stdout.contains("epoch  2/2"), "{stdout}");
    let run = dir.path("run");
    let report = read_json(&run.join("diagnostics.json"));

    let names: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "0: Flatten(start_dim=1, end_dim=-1)",
            "1: Linear(784 -> 32)",
            "2: Sigmoid",
            "3: Linear(32 -> 32)",
            "4: Sigmoid",
            "5: Linear(32 -> 10)"
        ]
    );
    let kinds: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["other", "linear", "sigmoid", "linear", "sigmoid", "linear"]
    );
    assert_eq!(report["probe_samples"], 64);
    assert_eq!(report["bins"], 30);
    assert_eq!(report["gradient_layers"], serde_json::json!([1, 3, 5]));

    let epochs = report["epochs"].as_array().unwrap();
    let numbers: Vec<u64> = epochs
        .iter()
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [0, 1, 2]);
    for epoch in epochs {
        let layers = epoch["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 6);
        // Layer 0 flattens the images: no parameters, so no weight statistics.
        assert!(layers[0]["weight"].is_null() && layers[0]["saturated"].is_null());
        for (i, layer) in layers.iter().enumerate().skip(1) {
            let histogram = &layer["activation"]["histogram"];
            let counts = histogram["counts"].as_array().unwrap();
            assert_eq!(counts.len(), 30);
            let units = [784, 32, 32, 32, 32, 10][i];
            let total: u64 = counts.iter().map(|c| c.as_u64().unwrap()).sum::<u64>()
                + histogram["below"].as_u64().unwrap()
                + histogram["above"].as_u64().unwrap()
                + histogram["non_finite"].as_u64().unwrap();
            assert_eq!(total, 64 * units, "layer {i}");
            let sigmoid = i % 2 == 0;
            assert_eq!(layer["saturated"].is_number(), sigmoid, "layer {i}");
            assert!(layer["dead"].is_null());
            assert_eq!(layer["weight"].is_object(), !sigmoid);
            assert_eq!(layer["weight_grad"].is_object(), !sigmoid);
            assert_eq!(layer["grad_norm"].is_number(), !sigmoid);
            if sigmoid {
                assert_eq!(
                    (histogram["lo"].as_f64(), histogram["hi"].as_f64()),
                    (Some(0.0), Some(1.0))
                );
            }
        }
    }
    // Most units saturated (0.875 on these images standardised with their own statistics).
    let saturated = epochs[0]["layers"][2]["saturated"].as_f64().unwrap();
    assert!(saturated >= 0.8, "first sigmoid layer {saturated}");

    // 64 images in batches of 8: 8 steps per epoch, one norm per layer with parameters.
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 16);
    assert_eq!(
        (steps[8]["epoch"].as_u64(), steps[8]["step"].as_u64()),
        (Some(2), Some(1))
    );
    for step in steps {
        assert_eq!(step["norms"].as_array().unwrap().len(), 3);
    }

    for epoch in 0..=2 {
        let title =
            format!("outputs of each activation layer after epoch {epoch} (64 training images)");
        assert_chart(
            &run.join(format!("activations_epoch_{epoch}.svg")),
            &[&title, "layer 2 (Sigmoid): "],
        );
    }
    assert_chart(
        &run.join("gradient_norms.svg"),
        &[
            "gradient norms per layer",
            "layer 1 (Linear)",
            "training step",
        ],
    );
    assert_chart(
        &run.join("distributions.svg"),
        &[
            "distribution over epochs 0-2",
            "layer 2 (Sigmoid) outputs",
            "layer 3 (Linear) weights",
            "layer 5 (Linear) weight gradients",
        ],
    );
    assert_chart(
        &run.join("weight_histograms.svg"),
        &[
            "weights and weight gradients after epoch 2",
            "layer 1 (Linear) weights, std ",
            "layer 1 (Linear) gradients, std ",
        ],
    );
}

#[test]
fn diagnose_counts_dead_relu_units_and_warns_when_gradients_vanish() {
    let dir = TempDir::new("vanish");
    let data = write_mnist(&dir, "mnist");
    let out = dir.arg("run");
    let flags = [
        "--hidden",
        "16,16,16,16",
        "--activation",
        "sigmoid",
        "--init",
        "std001",
        "--epochs",
        "1",
        "--optimizer",
        "sgd",
        "--diagnose",
    ];
    let (_, stderr) = stdout_of_success(train(&dir, &data, &out, &flags));
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with(
            "warning: epoch 1: in 8 of 8 steps, first at step 1: gradients vanish: norm "
        ),
        "{stderr}"
    );
    assert!(
        warnings[0].contains(" at the first layer 1: Linear(784 -> 16), ")
            && warnings[0].contains(" at the last layer 9: Linear(16 -> 10) (ratio ")
            && warnings[0].contains(", below 1e-3); open "),
        "{stderr}"
    );
    // The warning names the picture to open and the lines to look at in it.
    let run = dir.path("run");
    assert!(
        warnings[0].ends_with(&format!(
            "; open {} (the lines of layer 1 (Linear) and layer 9 (Linear)) and {} (the \
             weight-gradient row)",
            run.join("gradient_norms.svg").display(),
            run.join("distributions.svg").display()
        )),
        "{stderr}"
    );
    let report = read_json(&dir.path("run").join("diagnostics.json"));
    let alarm = &report["alarms"][0];
    assert_eq!(
        (alarm["kind"].as_str(), alarm["steps"].as_u64()),
        (Some("vanishing"), Some(8))
    );
    assert!(alarm["first"]["ratio"].as_f64().unwrap() < 1e-3);

    let relu = dir.arg("relu");
    let flags = ["--hidden", "16", "--epochs", "1", "--diagnose"];
    let (_, stderr) = stdout_of_success(train(&dir, &data, &relu, &flags));
    assert_eq!(stderr, "");
    let report = read_json(&dir.path("relu").join("diagnostics.json"));
    let layer = &report["epochs"][0]["layers"][2];
    assert_eq!(report["layers"][2]["kind"], "relu");
    let dead = layer["dead"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&dead) && (dead * 16.0).fract() == 0.0,
        "{dead}"
    );
    assert!(layer["saturated"].is_null());
}

/// The bytes of the checkpoint and records of a run folder.
fn snapshot(run: &Path) -> Vec<Vec<u8>> {
    [
        "metrics.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
        "curves.svg",
    ]
    .iter()
    .map(|name| std::fs::read(run.join(name)).unwrap())
    .collect()
}

#[test]
fn detect_anomaly_stops_at_the_operation_that_made_a_nan_and_keeps_the_checkpoint() {
    let dir = TempDir::new("anomaly");
    let data = write_mnist(&dir, "mnist");
    let out = dir.arg("run");
    let flags = [
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--optimizer",
        "sgd",
        "--lr",
        "0.01",
    ];
    stdout_of_success(train(&dir, &data, &out, &flags));
    let run = dir.path("run");
    edit_config(&run, "\"lr\": 0.01,", "\"lr\": 1e30,");
    let before = snapshot(&run);

    let output = nabla(
        &dir,
        &[
            "train",
            "--resume",
            &out,
            "--epochs",
            "2",
            "--detect-anomaly",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let error = stderr.trim_end();
    let (operation, rest) = error
        .strip_prefix("error: ")
        .unwrap()
        .split_once(' ')
        .unwrap();
    assert!(operation.ends_with("Backward"), "{error}");
    assert!(rest.starts_with("(operation #"), "{error}");
    assert!(
        rest.contains(" of the forward pass) produced ")
            && rest.contains(" in the forward pass, in its output of shape ")
            && rest.contains("from finite inputs (input 0 [")
            && rest.contains(", |max| "),
        "{error}"
    );
    let picture = run.join("anomaly.svg");
    assert!(
        rest.contains(" at epoch 2, step ")
            && rest.ends_with(&format!(
                "; the graph around it is in {}",
                picture.display()
            )),
        "{error}"
    );
    let svg = std::fs::read_to_string(&picture).unwrap();
    let op = operation.strip_suffix("Backward").unwrap().to_lowercase();
    assert!(svg.contains(&format!("⚠ {op}: ")), "{svg}");
    assert!(svg.contains(">1.weight<"), "{svg}");
    assert!(
        svg.contains(" made in the forward pass by ")
            && svg.contains(" at epoch 2, step ")
            && svg.contains(": min "),
        "{svg}"
    );
    assert!(snapshot(&run) == before);
}

#[test]
fn diagnose_draws_a_recurrent_layers_gradient_through_time() {
    let dir = TempDir::new("diagnose-lstm");
    let data = write_mnist(&dir, "mnist");
    let out = dir.arg("run");
    let flags = [
        "--layers",
        "rows, lstm 8, linear",
        "--epochs",
        "1",
        "--diagnose",
    ];
    let (stdout, _) = stdout_of_success(train(&dir, &data, &out, &flags));
    let run = dir.path("run");
    let report = read_json(&run.join("diagnostics.json"));
    let grads = &report["time_steps"];
    let layer = grads["layer"].as_str().unwrap();
    assert!(layer.starts_with("1: LSTM(28 -> 8"), "{layer}");
    // 64 images in batches of 8: 8 steps, under 200, so every step is recorded.
    assert_eq!(grads["every"], 1);
    let rows = grads["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["training_step"], i + 1);
        let norms = row["norms"].as_array().unwrap();
        // One norm per image row (time step), each finite and positive.
        assert_eq!(norms.len(), 28);
        assert!(norms.iter().all(|n| n.as_f64().is_some_and(|v| v > 0.0)));
    }
    let svg = std::fs::read_to_string(run.join("time_step_gradients.svg")).unwrap();
    assert!(svg.contains(&format!(
        "gradient through time of {}",
        layer.replace('>', "&gt;")
    )));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("gradient through time of 1: LSTM(28 -> 8"))
        .unwrap_or_else(|| panic!("no summary line in {stdout}"));
    assert!(
        line.contains(&format!("{out}/time_step_gradients.svg")) && line.ends_with(" at step 8)"),
        "{line}"
    );
}
