//! `nabla train --model cnn`: the convolutional network trains on images of any size that fits
//! it, saves its choice and spec in the run folder and checkpoint, so `--resume`, `summary`,
//! `predict` and `evaluate` work on the run, and `--diagnose` draws its filters and feature maps;
//! images too small for it and the MLP's flags are one line each.

mod common;

use common::{DARK, TempDir, nabla, read_json, write_mnist_side};

/// Stdout of a command that must succeed.
fn succeed(dir: &TempDir, args: &[&str]) -> String {
    let output = nabla(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "nabla {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// The single stderr line of a command that must fail with exit status 1.
fn fail(dir: &TempDir, args: &[&str]) -> String {
    let output = nabla(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "nabla {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_string()
}

/// 32 training and 16 test `side`×`side` images in `dir/name`.
fn images(dir: &TempDir, name: &str, side: usize) -> String {
    write_mnist_side(dir, name, DARK, side, (32, 16))
        .display()
        .to_string()
}

#[test]
fn a_cnn_run_on_small_images_saves_its_model_and_resumes_summarises_predicts_and_evaluates() {
    let dir = TempDir::new("cnn-run");
    let data = images(&dir, "digits", 14);
    let run = dir.arg("run");
    let flags = ["--data", &data, "--batch-size", "16", "--quiet"];
    let mut train = vec![
        "train",
        "--model",
        "cnn",
        "--out",
        &run,
        "--epochs",
        "1",
        "--diagnose",
    ];
    train.extend(flags);
    succeed(&dir, &train);
    // The first convolution's 32 filters and the feature maps of both convolutions.
    let filters = std::fs::read_to_string(dir.path("run/filters_epoch_1.svg")).unwrap();
    assert_eq!(filters.matches("data:image/png;base64,").count(), 32);
    let maps = std::fs::read_to_string(dir.path("run/feature_maps_epoch_1.svg")).unwrap();
    assert_eq!(maps.matches("data:image/png;base64,").count(), 1 + 32 + 64);
    assert!(maps.contains("32 channels of 12×12") && maps.contains("64 channels of 4×4"));
    let config = read_json(&dir.path("run/config.json"));
    assert_eq!(config["model"], "cnn");
    assert_eq!(config["epochs"], 1);
    let spec = config["layers"].as_str().unwrap().to_string();
    assert!(spec.starts_with("conv2d 32 3"), "{spec}");

    let mut resume = vec!["train", "--resume", &run, "--epochs", "2"];
    resume.extend(flags);
    succeed(&dir, &resume);
    let metrics = std::fs::read_to_string(dir.path("run/metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2);

    // A second model flag on resume names the run's model.
    let mut changed = vec!["train", "--resume", &run, "--hidden", "64"];
    changed.extend(flags);
    let error = fail(&dir, &changed);
    assert!(
        error.contains("--hidden 64 (the run has --model cnn)"),
        "{error}"
    );

    let summary = succeed(&dir, &["summary", &run]);
    assert!(summary.contains(&spec), "{summary}");
    assert!(summary.contains("[-1, 32, 12, 12]"), "{summary}");
    let report = succeed(&dir, &["evaluate", &run, "--json"]);
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["samples"], 16);
    let test_images = format!("{data}/t10k-images-idx3-ubyte");
    let predicted = succeed(&dir, &["predict", &run, &test_images, "--json"]);
    assert_eq!(predicted.lines().count(), 16);
}

#[test]
fn images_too_small_for_the_cnn_are_one_line_naming_the_layer() {
    let dir = TempDir::new("cnn-small");
    let data = images(&dir, "tiny", 8);
    let error = fail(
        &dir,
        &[
            "train", "--model", "cnn", "--data", &data, "--out", "run", "--quiet",
        ],
    );
    assert_eq!(
        error,
        "error: layer spec: layer 5 `maxpool2d 2 stride=2 padding=0`: the 2x2 window (padding \
         0x0) does not fit its input [-1, 64, 1, 1]"
    );
    assert!(!dir.path("run/config.json").exists());
}

#[test]
fn the_mlp_flags_do_not_shape_a_convolutional_model() {
    let dir = TempDir::new("cnn-flags");
    let data = images(&dir, "digits", 14);
    assert_eq!(
        fail(
            &dir,
            &[
                "train",
                "--model",
                "simpleconvnet",
                "--data",
                &data,
                "--hidden",
                "64",
                "--dropout",
                "0.5",
            ],
        ),
        "error: --hidden, --dropout shape --model mlp, not --model simpleconvnet (give the whole \
         network with --layers to change it)"
    );
}
