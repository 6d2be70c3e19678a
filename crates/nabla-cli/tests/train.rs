//! `nabla train` end to end, on a tiny synthetic MNIST-format folder: the run folder it writes,
//! resuming, the one-line errors bad input gets, that a failed run keeps the last checkpoint,
//! and the warnings and errors of training that diverges.

mod common;

use common::{
    DARK, TempDir, edit_config, nabla, nabla_with_env, read_json, write_mnist, write_mnist_sized,
};
use nabla_nn::checkpoint::{load_safetensors, save_safetensors};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs `nabla train` with `args` in `dir`.
fn train(dir: &TempDir, args: &[&str]) -> Output {
    let mut all = vec!["train"];
    all.extend(args);
    nabla(dir, &all)
}

/// Stdout of a run that must succeed with nothing on stderr.
fn succeed(dir: &TempDir, args: &[&str]) -> String {
    let output = train(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "nabla train {args:?} failed: {stderr}"
    );
    assert_eq!(stderr, "");
    String::from_utf8(output.stdout).unwrap()
}

/// The single stderr line of a run that must fail with exit status 1.
fn fail(dir: &TempDir, args: &[&str]) -> String {
    let output = train(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "nabla train {args:?}: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.ends_with('\n'),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.trim_end().to_string()
}

/// Arguments of a run on `data` into `out`: a small net and a few steps, with `settings`
/// replacing or adding to those defaults.
fn small_run<'a>(data: &'a str, out: &'a str, settings: &[(&'a str, &'a str)]) -> Vec<&'a str> {
    let mut flags = vec![
        ("--hidden", "16"),
        ("--batch-size", "8"),
        ("--lr", "0.01"),
        ("--epochs", "1"),
    ];
    for &(flag, value) in settings {
        match flags.iter_mut().find(|(f, _)| *f == flag) {
            Some(default) => default.1 = value,
            None => flags.push((flag, value)),
        }
    }
    let mut args = vec!["--data", data, "--out", out];
    args.extend(flags.iter().flat_map(|&(flag, value)| [flag, value]));
    args
}

fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn read_config(run: &Path) -> serde_json::Value {
    read_json(&run.join("config.json"))
}

fn summary_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("epoch ")).collect()
}

#[test]
fn a_run_writes_config_metrics_checkpoint_and_model() {
    let dir = TempDir::new("run");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let stdout = succeed(&dir, &small_run(&data, &out, &[("--epochs", "2")]));

    let summaries = summary_lines(&stdout);
    assert_eq!(summaries.len(), 2, "{stdout}");
    assert!(summaries[0].starts_with("epoch  1/2  lr 1.00e-2  train loss "));
    assert!(summaries[1].starts_with("epoch  2/2  lr 5.00e-3  train loss "));
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("final test accuracy 100.00% after 2 epochs"),
        "{last}"
    );

    let run = dir.path("run");
    let config = read_config(&run);
    assert_eq!(config["layers"], "flatten, linear 16, relu, linear");
    assert_eq!(config["epochs"], 2);
    assert_eq!(config["optimizer"], "adam");
    assert_eq!(config["weight_decay"], 0.0);

    let records = metrics(&run);
    assert_eq!(records.len(), 2);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["epoch"], i + 1);
        for field in [
            "train_loss",
            "train_acc",
            "test_loss",
            "test_acc",
            "seconds",
        ] {
            let value = record[field].as_f64().unwrap();
            assert!(value.is_finite() && value >= 0.0, "{field} = {value}");
        }
    }
    assert_eq!(records[1]["test_acc"], 1.0);

    let (model, meta) = load_safetensors(run.join("model.safetensors")).unwrap();
    let shapes: Vec<(&str, &[usize])> =
        model.iter().map(|(n, t)| (n.as_str(), t.shape())).collect();
    assert_eq!(
        shapes,
        [
            ("1.bias", &[16][..]),
            ("1.weight", &[16, 784][..]),
            ("3.bias", &[10][..]),
            ("3.weight", &[10, 16][..]),
        ]
    );
    assert_eq!(meta["epoch"], "2");
    assert_eq!(meta["layers"], "flatten, linear 16, relu, linear");
    let schema: serde_json::Value = serde_json::from_str(&meta["schema"]).unwrap();
    assert_eq!(
        (&schema["input_shape"], &schema["task"]["classes"][9]),
        (&serde_json::json!([1, 28, 28]), &serde_json::json!("9"))
    );
    // The synthetic training pixels' own mean and std.
    let preprocess = &schema["preprocess"];
    assert_eq!(preprocess["kind"], "image");
    assert!((preprocess["mean"][0].as_f64().unwrap() - 0.116559).abs() < 1e-6);
    assert!((preprocess["std"][0].as_f64().unwrap() - 0.205320).abs() < 1e-6);
    let (checkpoint, meta) = load_safetensors(run.join("checkpoint.safetensors")).unwrap();
    assert_eq!(meta["epoch"], "2");
    assert_eq!(meta["layers"], "flatten, linear 16, relu, linear");
    assert_eq!(meta["data_epoch"], "2");
    assert_eq!(meta["data_seed"], "0");
    let step = checkpoint
        .iter()
        .find(|(n, _)| n == "optimizer.step")
        .unwrap();
    assert_eq!(step.1.to_vec::<i64>(), [16]);
    let saved_model: Vec<_> = checkpoint
        .iter()
        .filter_map(|(n, t)| Some((n.strip_prefix("model.")?, t.to_f64_vec())))
        .collect();
    let exported: Vec<_> = model
        .iter()
        .map(|(n, t)| (n.as_str(), t.to_f64_vec()))
        .collect();
    assert_eq!(saved_model, exported);
    assert!(!run.join("optimizer.safetensors").exists());
}

#[test]
fn adamw_defaults_to_pytorchs_weight_decay() {
    let dir = TempDir::new("adamw");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let (default, given) = (dir.arg("default"), dir.arg("given"));
    succeed(
        &dir,
        &small_run(&data, &default, &[("--optimizer", "adamw")]),
    );
    let settings = [("--optimizer", "adamw"), ("--weight-decay", "0")];
    succeed(&dir, &small_run(&data, &given, &settings));
    assert_eq!(read_config(&dir.path("default"))["weight_decay"], 0.01);
    assert_eq!(read_config(&dir.path("given"))["weight_decay"], 0.0);
}

/// `--optimizer sgd --momentum` is PyTorch's SGD: its buffer is saved in the optimiser
/// checkpoint under PyTorch's name, the settings in `config.json`, and a resumed run goes on
/// from them; the options are refused with other optimisers and outside PyTorch's ranges.
#[test]
fn sgd_with_momentum_saves_its_buffer_and_checks_its_options() {
    let dir = TempDir::new("sgd-momentum");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let run = dir.arg("run");
    let settings = [
        ("--optimizer", "sgd"),
        ("--momentum", "0.9"),
        ("--nesterov", ""),
    ];
    let args: Vec<&str> = small_run(&data, &run, &settings)
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    succeed(&dir, &args);
    let config = read_config(&dir.path("run"));
    assert_eq!(
        (
            &config["momentum"],
            &config["dampening"],
            &config["nesterov"]
        ),
        (&0.9.into(), &0.0.into(), &true.into())
    );
    let (state, _) = load_safetensors(dir.path("run").join("checkpoint.safetensors")).unwrap();
    let names: Vec<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("optimizer.") && n.ends_with(".momentum_buffer")),
        "{names:?}"
    );
    let resume = dir.path("run").display().to_string();
    succeed(&dir, &["--resume", &resume, "--epochs", "2"]);
    let out = dir.arg("refused");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("--momentum", "0.9")],
            "--momentum applies to --optimizer sgd (PyTorch's SGD), not to --optimizer adam",
        ),
        (
            &[("--optimizer", "sgd"), ("--momentum", "1")],
            "--momentum must be in [0, 1), got 1",
        ),
        (
            &[("--optimizer", "sgd"), ("--dampening", "2")],
            "--dampening must be in [0, 1], got 2",
        ),
        (
            &[
                ("--optimizer", "sgd"),
                ("--momentum", "0.9"),
                ("--dampening", "0.5"),
                ("--nesterov", ""),
            ],
            "--nesterov needs --momentum above 0 and no --dampening",
        ),
    ];
    for (settings, message) in cases {
        let args: Vec<&str> = small_run(&data, &out, settings)
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        assert_eq!(fail(&dir, &args), format!("error: {message}"));
    }
}

/// Dropout's generator was not saved: a resumed run drew other masks and ended with other
/// weights.
#[test]
fn an_interrupted_run_with_dropout_resumes_to_the_bytes_of_an_uninterrupted_one() {
    let dir = TempDir::new("interrupted");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let (straight, interrupted) = (dir.arg("straight"), dir.arg("interrupted"));
    let dropout = ("--dropout", "0.5");
    succeed(
        &dir,
        &small_run(&data, &straight, &[("--epochs", "3"), dropout]),
    );
    // A 3-epoch run stopped after its first epoch: what a one-epoch run leaves, planned for three.
    succeed(&dir, &small_run(&data, &interrupted, &[dropout]));
    edit_config(&dir.path("interrupted"), "\"epochs\": 1,", "\"epochs\": 3,");

    let stdout = succeed(&dir, &["--resume", &interrupted, "--quiet"]);
    assert_eq!(summary_lines(&stdout).len(), 2, "{stdout}");

    let (straight, interrupted) = (dir.path("straight"), dir.path("interrupted"));
    for file in ["checkpoint.safetensors", "model.safetensors"] {
        assert!(
            std::fs::read(straight.join(file)).unwrap()
                == std::fs::read(interrupted.join(file)).unwrap(),
            "{file} differs"
        );
    }
    let (a, b) = (metrics(&straight), metrics(&interrupted));
    assert_eq!(b.len(), 3);
    for (a, b) in a.iter().zip(&b) {
        for field in [
            "epoch",
            "lr",
            "train_loss",
            "train_acc",
            "test_loss",
            "test_acc",
        ] {
            assert_eq!(a[field], b[field], "{field}");
        }
    }
}

#[test]
fn resume_with_more_epochs_trains_on_and_appends_metrics() {
    let dir = TempDir::new("resume");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    succeed(&dir, &small_run(&data, &out, &[]));

    let stdout = succeed(&dir, &["--resume", &out, "--epochs", "3", "--quiet"]);
    let summaries = summary_lines(&stdout);
    assert_eq!(summaries.len(), 2, "{stdout}");
    assert!(
        summaries[0].starts_with("epoch  2/3  lr 7.50e-3  "),
        "{stdout}"
    );
    assert!(
        summaries[1].starts_with("epoch  3/3  lr 2.50e-3  "),
        "{stdout}"
    );

    let run = dir.path("run");
    let epochs: Vec<_> = metrics(&run).iter().map(|m| m["epoch"].clone()).collect();
    assert_eq!(epochs, [1, 2, 3]);
    assert_eq!(read_config(&run)["epochs"], 3);
    let (checkpoint, meta) = load_safetensors(run.join("checkpoint.safetensors")).unwrap();
    assert_eq!(meta["epoch"], "3");
    let step = checkpoint
        .iter()
        .find(|(n, _)| n == "optimizer.step")
        .unwrap();
    assert_eq!(step.1.to_vec::<i64>(), [24]);
    let resumes = std::fs::read_to_string(run.join("resumes.jsonl")).unwrap();
    let threads = nabla_core::num_threads();
    assert_eq!(
        resumes,
        format!("{{\"after_epoch\":1,\"changed\":{{\"epochs\":[1,3]}},\"threads\":{threads}}}\n")
    );

    let stdout = succeed(&dir, &["--resume", &out, "--quiet"]);
    assert_eq!(
        stdout,
        format!(
            "{out}: the run already has 3 epochs; pass --epochs with more than 3 to train \
             longer\n"
        )
    );
}

/// The error line of a run on `data`, which must fail before creating its run folder.
fn fail_to_start(dir: &TempDir, data: &Path) -> String {
    let out = dir.arg("run");
    let error = fail(dir, &small_run(&data.display().to_string(), &out, &[]));
    assert!(!dir.path("run").exists());
    error
}

#[test]
fn a_missing_data_folder_is_one_error_line() {
    let dir = TempDir::new("missing");
    let missing = dir.path("nowhere");
    assert_eq!(
        fail_to_start(&dir, &missing),
        format!(
            "error: {}: no such folder: an IDX data set is a folder holding train-images and \
             train-labels files (MNIST's train-images-idx3-ubyte.gz, ...; the repository ships \
             MNIST in data/mnist)",
            missing.display()
        )
    );
}

#[test]
fn a_truncated_image_file_is_one_error_line() {
    let dir = TempDir::new("truncated");
    let data = write_mnist(&dir, "mnist");
    let images = data.join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..16 + 100]).unwrap();
    assert_eq!(
        fail_to_start(&dir, &data),
        format!(
            "error: {}: truncated data: expected 50176 bytes of data after the header (dimensions \
             [64, 28, 28]), found 100",
            images.display()
        )
    );
}

#[test]
fn a_corrupt_gzip_file_is_one_error_line() {
    let dir = TempDir::new("corrupt-gzip");
    let data = write_mnist(&dir, "mnist");
    std::fs::remove_file(data.join("train-images-idx3-ubyte")).unwrap();
    let gz = data.join("train-images-idx3-ubyte.gz");
    // A valid gzip header followed by a deflate block of a reserved type.
    let bytes = [
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x07,
    ];
    std::fs::write(&gz, bytes).unwrap();
    assert_eq!(
        fail_to_start(&dir, &data),
        format!(
            "error: {}: cannot decompress the gzip data: corrupt deflate stream",
            gz.display()
        )
    );
}

#[test]
fn bad_arguments_are_one_error_line_naming_the_flag() {
    let dir = TempDir::new("bad-args");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let cases = [
        ("--dropout", "1.5", "--dropout must be in [0, 1), got 1.5"),
        (
            "--batch-size",
            "0",
            "--batch-size must be at least 1, got 0",
        ),
        ("--epochs", "0", "--epochs must be at least 1, got 0"),
        ("--lr", "0", "--lr must be a positive number, got 0"),
        (
            "--hidden",
            "16,0",
            "--hidden sizes must be at least 1, got 0",
        ),
        (
            "--clip-norm",
            "0",
            "--clip-norm must be a positive number, got 0",
        ),
        (
            "--weight-decay",
            "NaN",
            "--weight-decay must be zero or a positive number, got NaN",
        ),
    ];
    for (flag, value, message) in cases {
        assert_eq!(
            fail(&dir, &small_run(&data, &out, &[(flag, value)])),
            format!("error: {message}")
        );
    }
    assert!(!dir.path("run").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn a_model_too_large_for_the_machine_is_refused_before_anything_is_built() {
    let dir = TempDir::new("huge-model");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let error = fail(&dir, &small_run(&data, &out, &[("--hidden", "1000000000")]));
    assert!(
        error.starts_with(
            "error: the model \"flatten, linear 1000000000, relu, linear\" (795000000010 \
             parameters with their gradients and Adam's moments, and the activations of a batch \
             of 8) would need 12.8 TB; this machine has "
        ) && error.ends_with(" available"),
        "{error}"
    );
    assert!(!dir.path("run").exists());
    // The same size in the config.json of a run is refused on --resume.
    let resumed = TempDir::new("huge-model-resume");
    let (run, out) = one_epoch_run(&resumed);
    let mut config = read_config(&run);
    config["layers"] = serde_json::json!("flatten, linear 1000000000, relu, linear");
    std::fs::write(run.join("config.json"), config.to_string()).unwrap();
    let error = fail(&resumed, &["--resume", &out]);
    assert!(
        error.starts_with(&format!(
            "error: {}: the model \"flatten, linear 1000000000, relu, linear\" (",
            run.join("config.json").display()
        )),
        "{error}"
    );
}

#[test]
fn a_warmup_as_long_as_the_run_is_refused() {
    let dir = TempDir::new("warmup");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    assert_eq!(
        fail(
            &dir,
            &small_run(&data, &out, &[("--warmup", "3"), ("--epochs", "2")])
        ),
        "error: --warmup must be shorter than the run, got --warmup 3 with --epochs 2"
    );
}

#[test]
fn resuming_a_folder_that_is_not_a_run_is_one_error_line() {
    let dir = TempDir::new("not-a-run");
    let not_a_run = write_mnist(&dir, "mnist").display().to_string();
    assert_eq!(
        fail(&dir, &["--resume", &not_a_run]),
        format!("error: {not_a_run}: not a run folder (no config.json)")
    );
}

/// The bytes of every file of a run folder, to check that a failed run changed nothing.
fn snapshot(run: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "config.json",
        "metrics.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
    ]
    .iter()
    .map(|name| (name.to_string(), std::fs::read(run.join(name)).unwrap()))
    .collect()
}

/// A finished one-epoch run `run` on a synthetic folder: (its path, its `--out` argument).
fn one_epoch_run(dir: &TempDir) -> (PathBuf, String) {
    let data = write_mnist(dir, "mnist").display().to_string();
    let out = dir.arg("run");
    succeed(dir, &small_run(&data, &out, &[]));
    (dir.path("run"), out)
}

#[test]
fn a_new_run_into_an_existing_run_folder_is_refused() {
    let dir = TempDir::new("existing");
    let (run, out) = one_epoch_run(&dir);
    let before = snapshot(&run);
    let data = dir.arg("mnist");
    assert_eq!(
        fail(&dir, &small_run(&data, &out, &[("--epochs", "2")])),
        format!(
            "error: {out}: already holds a run; continue it with --resume or choose another --out"
        )
    );
    assert!(snapshot(&run) == before);
}

#[test]
fn a_resumed_run_whose_loss_explodes_keeps_the_previous_checkpoint() {
    let dir = TempDir::new("explodes");
    let (run, out) = one_epoch_run(&dir);
    edit_config(&run, "\"lr\": 0.01,", "\"lr\": 1e30,");
    let before = snapshot(&run);

    let error = fail(&dir, &["--resume", &out, "--epochs", "2"]);
    assert!(
        error.starts_with("error: the loss became NaN at epoch 2, step "),
        "{error}"
    );
    assert!(error.contains(", first in the "), "{error}");
    assert!(snapshot(&run)[1..] == before[1..]);
}

#[test]
fn resuming_with_a_corrupt_checkpoint_changes_nothing() {
    let dir = TempDir::new("corrupt-checkpoint");
    let (run, out) = one_epoch_run(&dir);
    let checkpoint = run.join("checkpoint.safetensors");
    std::fs::write(&checkpoint, b"not a checkpoint").unwrap();
    let before = snapshot(&run);

    let error = fail(&dir, &["--resume", &out, "--epochs", "2"]);
    assert!(
        error.starts_with(&format!(
            "error: {}: not a valid safetensors file: ",
            checkpoint.display()
        )),
        "{error}"
    );
    assert!(snapshot(&run) == before);
}

#[test]
fn a_run_that_explodes_in_its_first_epoch_saves_nothing_and_resumes_from_scratch() {
    let dir = TempDir::new("explodes-new");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let error = fail(&dir, &small_run(&data, &out, &[("--lr", "1e30")]));
    assert_eq!(
        error,
        "error: the loss became NaN at epoch 1, step 2, first in the output of layer 3 \
         (Linear(16 -> 10)): lower the learning rate (now 1.00e30), use a smaller initialisation \
         (--init) or normalise (--batch-norm), or clip gradients with --clip-norm"
    );
    let run = dir.path("run");
    assert!(!run.join("model.safetensors").exists());

    edit_config(&run, "\"lr\": 1e+30,", "\"lr\": 0.01,");
    let stdout = succeed(&dir, &["--resume", &out, "--quiet"]);
    assert_eq!(summary_lines(&stdout).len(), 1, "{stdout}");
    assert_eq!(metrics(&run).len(), 1);
}

#[test]
fn a_test_loss_that_explodes_after_the_last_step_saves_nothing() {
    let dir = TempDir::new("explodes-test");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    // One step per epoch: its loss is finite, the weights it leaves are not.
    let settings = [("--lr", "1e30"), ("--batch-size", "64")];
    assert_eq!(
        fail(&dir, &small_run(&data, &out, &settings)),
        "error: the test loss became NaN after epoch 1, first in the output of layer 3 \
         (Linear(16 -> 10)): lower the learning rate (now 1.00e30), use a smaller initialisation \
         (--init) or normalise (--batch-norm), or clip gradients with --clip-norm"
    );
    assert!(!dir.path("run").join("model.safetensors").exists());
}

/// A NaN weight used to train on with exit status 0, saving a model whose logits were all NaN.
#[test]
fn a_checkpoint_holding_nan_is_refused_naming_the_tensor() {
    let dir = TempDir::new("nan-checkpoint");
    let (run, out) = one_epoch_run(&dir);
    let path = run.join("checkpoint.safetensors");
    let (mut tensors, meta) = load_safetensors(&path).unwrap();
    let weight = tensors
        .iter_mut()
        .find(|(n, _)| n == "model.1.weight")
        .unwrap();
    let mut values = weight.1.to_vec::<f32>();
    values[5] = f32::NAN;
    weight.1 = nabla_core::Tensor::from_vec(values, weight.1.shape());
    save_safetensors(&path, &tensors, &meta).unwrap();
    let before = snapshot(&run);

    assert_eq!(
        fail(&dir, &["--resume", &out, "--epochs", "2"]),
        format!(
            "error: {}: tensor \"model.1.weight\" holds NaN at element 5; the checkpoint cannot \
             be resumed",
            path.display()
        )
    );
    assert!(snapshot(&run) == before);
}

/// `--resume` used to ignore every setting but `--epochs` without a word.
#[test]
fn resume_refuses_settings_that_conflict_with_the_run_naming_them() {
    let dir = TempDir::new("conflicts");
    let (run, out) = one_epoch_run(&dir);
    let before = snapshot(&run);
    let args = [
        "--resume",
        &out,
        "--hidden",
        "64",
        "--lr",
        "5",
        "--optimizer",
        "sgd",
        "--epochs",
        "2",
    ];
    assert_eq!(
        fail(&dir, &args),
        format!(
            "error: {out}: --hidden 64 (the run has 16), --lr 5 (the run has 0.01), --optimizer sgd \
             (the run has adam) conflict with the run's config.json; --resume continues a run as \
             it was configured, changing only --epochs (start a new run with --out to change the \
             rest)"
        )
    );
    assert!(snapshot(&run) == before);
    assert!(!run.join("resumes.jsonl").exists());

    // Settings equal to the run's are no conflict.
    let stdout = succeed(
        &dir,
        &[
            "--resume", &out, "--hidden", "16", "--epochs", "2", "--quiet",
        ],
    );
    assert_eq!(summary_lines(&stdout).len(), 1, "{stdout}");
}

/// `--out` used to train over a folder holding a model but no `config.json`.
#[test]
fn out_refuses_a_folder_holding_a_checkpoint_without_a_config() {
    let dir = TempDir::new("out-checkpoint");
    let (run, out) = one_epoch_run(&dir);
    std::fs::remove_file(run.join("config.json")).unwrap();
    let model = std::fs::read(run.join("model.safetensors")).unwrap();
    let data = dir.arg("mnist");
    assert_eq!(
        fail(&dir, &small_run(&data, &out, &[])),
        format!(
            "error: {out}: holds checkpoint.safetensors of an earlier run but no config.json; \
             choose another --out or remove it"
        )
    );
    assert!(std::fs::read(run.join("model.safetensors")).unwrap() == model);
}

/// The names of the files of `run`, sorted.
fn entries(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `args` with the test hook aborting at `point`; the process must die of the abort.
fn abort_at(dir: &TempDir, args: &[&str], point: &str) {
    let mut all = vec!["train"];
    all.extend(args);
    let output = nabla_with_env(dir, &all, &[("NABLA_TEST_ABORT_AT", point)]);
    assert_eq!(output.status.code(), None, "{point}: {output:?}");
}

/// A kill between the metrics line and the checkpoint used to lose the epoch's line for good, a
/// kill between the model and optimiser renames left a run that could not be resumed, and a
/// killed write left its temporary file forever.
#[test]
fn kills_inside_a_checkpoint_write_leave_a_resumable_consistent_run() {
    let dir = TempDir::new("killed-writes");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let (straight, killed) = (dir.arg("straight"), dir.arg("killed"));
    succeed(&dir, &small_run(&data, &straight, &[("--epochs", "2")]));

    let run = dir.path("killed");
    let args = small_run(&data, &killed, &[("--epochs", "2")]);
    abort_at(&dir, &args, "metrics@1");
    assert_eq!(metrics(&run).len(), 1);
    assert!(!run.join("checkpoint.safetensors").exists());
    let resume = ["--resume", killed.as_str(), "--quiet"];
    abort_at(&dir, &resume, "checkpoint-partial@1");
    assert_eq!(metrics(&run).len(), 1, "the extra line was cut back");
    let temporary = ".checkpoint.safetensors.tmp-";
    assert!(entries(&run).iter().any(|e| e.starts_with(temporary)));
    abort_at(&dir, &resume, "model-written@2");
    assert!(!entries(&run).iter().any(|e| e.starts_with(temporary)));
    let (_, meta) = load_safetensors(run.join("model.safetensors")).unwrap();
    assert_eq!(
        meta["epoch"], "1",
        "killed before the model of epoch 2 replaced it"
    );

    let stdout = succeed(&dir, &resume);
    assert_eq!(
        stdout,
        format!(
            "{killed}: the run already has 2 epochs; pass --epochs with more than 2 to train \
             longer\n"
        )
    );
    assert!(!entries(&run).iter().any(|e| e.contains(".tmp-")));
    let straight = dir.path("straight");
    for file in ["checkpoint.safetensors", "model.safetensors"] {
        assert!(
            std::fs::read(straight.join(file)).unwrap() == std::fs::read(run.join(file)).unwrap(),
            "{file} differs"
        );
    }
    let epochs: Vec<_> = metrics(&run).iter().map(|m| m["epoch"].clone()).collect();
    assert_eq!(epochs, [1, 2]);
}

/// An empty training set used to train with exit status 0, writing NaN metrics as `null` and a
/// folder that could never be resumed; an empty test set got a "lower the learning rate" hint.
#[test]
fn an_empty_training_or_test_set_is_an_error_before_training() {
    let dir = TempDir::new("empty");
    for (name, train, test, set, images) in [
        ("no-train", 0, 32, "training", "train"),
        ("no-test", 64, 0, "test", "t10k"),
    ] {
        let data = write_mnist_sized(&dir, name, DARK, train, test);
        assert_eq!(
            fail_to_start(&dir, &data),
            format!(
                "error: {}: holds no images: the {set} set needs at least one",
                data.join(format!("{images}-images-idx3-ubyte")).display()
            )
        );
    }
}

/// The stderr of a run that must succeed.
fn stderr_of_success(dir: &TempDir, args: &[&str]) -> String {
    let output = train(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    stderr
}

/// Adam at a learning rate of 1e6, or a sigmoid net under SGD at 1e4, used to end with exit
/// status 0 and a loss near 1e12 without a word.
#[test]
fn a_loss_that_blows_up_gets_a_warning_naming_the_step_and_the_layer() {
    let dir = TempDir::new("blow-up");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let (adam, sigmoid) = (dir.arg("adam"), dir.arg("sigmoid"));
    let stderr = stderr_of_success(&dir, &small_run(&data, &adam, &[("--lr", "1e6")]));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: the loss blew up to ")
            && stderr.contains(" at epoch 1, step 2, over 100 times its first value ")
            && stderr.contains(", first in the output of layer 1 (Linear(784 -> 16)) (up to ")
            && stderr.ends_with(
                "): lower the learning rate (now 1.00e6), use a smaller initialisation (--init) \
                 or normalise (--batch-norm), or clip gradients with --clip-norm\n"
            ),
        "{stderr}"
    );
    let settings = [
        ("--lr", "1e4"),
        ("--optimizer", "sgd"),
        ("--activation", "sigmoid"),
    ];
    let stderr = stderr_of_success(&dir, &small_run(&data, &sigmoid, &settings));
    assert!(
        stderr.starts_with("warning: the loss blew up to ") && stderr.contains(", first in "),
        "{stderr}"
    );
}

/// Each damage to a run folder is refused with the file and the fault, and changes nothing.
#[test]
fn damaged_run_folders_are_refused_naming_the_file_and_the_fault() {
    let dir = TempDir::new("damaged");
    let (run, out) = one_epoch_run(&dir);
    let resume = ["--resume", out.as_str(), "--epochs", "2"];
    let checkpoint = run.join("checkpoint.safetensors");

    let metrics_file = run.join("metrics.jsonl");
    let lines = std::fs::read(&metrics_file).unwrap();
    std::fs::write(&metrics_file, b"").unwrap();
    assert_eq!(
        fail(&dir, &resume),
        format!(
            "error: {}: holds the records of 0 epochs, but checkpoint.safetensors was saved \
             after epoch 1",
            metrics_file.display()
        )
    );
    std::fs::write(&metrics_file, lines).unwrap();

    edit_config(&run, "\"seed\": 0", "\"seed\": 7");
    assert_eq!(
        fail(&dir, &resume),
        format!(
            "error: {}: its data order (seed 0, epoch 1) is not the run's (seed 7, epoch 1)",
            checkpoint.display()
        )
    );
    edit_config(&run, "\"seed\": 7", "\"seed\": 0");

    let output = nabla_with_env(
        &dir,
        &["train", "--resume", &out, "--epochs", "2"],
        &[("NABLA_TEST_ABORT_AT", "checkpoint")],
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: NABLA_TEST_ABORT_AT=\"checkpoint\": expected POINT@EPOCH\n"
    );

    let saved = std::fs::read(&checkpoint).unwrap();
    std::fs::remove_file(&checkpoint).unwrap();
    let before = snapshot_without_checkpoint(&run);
    assert_eq!(
        fail(&dir, &resume),
        format!(
            "error: {out}: holds model.safetensors but no checkpoint.safetensors, which --resume \
             needs (earlier versions of nabla saved the optimiser apart); start a new run"
        )
    );
    assert!(snapshot_without_checkpoint(&run) == before);
    std::fs::write(&checkpoint, saved).unwrap();
    succeed(&dir, &["--resume", &out, "--epochs", "2", "--quiet"]);
}

/// The bytes of the files of a run folder that has lost its checkpoint.
fn snapshot_without_checkpoint(run: &Path) -> Vec<Vec<u8>> {
    ["config.json", "metrics.jsonl", "model.safetensors"]
        .iter()
        .map(|name| std::fs::read(run.join(name)).unwrap())
        .collect()
}

/// Rewrites the checkpoint of `run` through `edit` (its tensors and metadata).
fn edit_checkpoint(
    run: &Path,
    edit: impl FnOnce(&mut Vec<(String, nabla_core::Tensor)>, &mut nabla_nn::checkpoint::Metadata),
) {
    let path = run.join("checkpoint.safetensors");
    let (mut tensors, mut meta) = load_safetensors(&path).unwrap();
    edit(&mut tensors, &mut meta);
    save_safetensors(&path, &tensors, &meta).unwrap();
}

/// A resume under another thread count used to end like a faithful one, without a word, with
/// a model differing from the uninterrupted run's.
#[test]
fn resuming_with_another_thread_count_warns_and_records_it() {
    let dir = TempDir::new("threads-resume");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let mut args = vec!["--threads", "2", "train"];
    args.extend(small_run(&data, &out, &[("--epochs", "2")]));
    let output = nabla_with_env(&dir, &args, &[("NABLA_TEST_ABORT_AT", "epoch-end@1")]);
    assert_eq!(output.status.code(), None, "{output:?}");
    let output = nabla(
        &dir,
        &["--threads", "1", "train", "--resume", &out, "--quiet"],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "warning: the checkpoint was written with --threads 2 and this run uses --threads 1: \
         sums are split differently, so the results will not be bit-identical to an \
         uninterrupted run\n"
    );
    let resumes = std::fs::read_to_string(dir.path("run").join("resumes.jsonl")).unwrap();
    let record: serde_json::Value = serde_json::from_str(resumes.trim_end()).unwrap();
    assert_eq!(record["changed"]["threads"], serde_json::json!([2, 1]));
}

/// Adam at a rate of 10 on a sigmoid net kept its loss around 50 times its first value, never
/// 100 times, and ended with exit status 0 and chance accuracy without a word.
#[test]
fn an_epoch_whose_loss_stays_far_above_the_first_gets_a_warning() {
    let dir = TempDir::new("moderate-divergence");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let settings = [
        ("--lr", "10"),
        ("--activation", "sigmoid"),
        ("--weight-decay", "0.001"),
    ];
    let stderr = stderr_of_success(&dir, &small_run(&data, &dir.arg("diverged"), &settings));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: the mean training loss of epoch 1, ")
            && stderr.contains(", is over 10 times the run's first loss ")
            && stderr.contains(
                "the run diverged; lower the learning rate (now 1.00e1), lower \
                 --weight-decay (now 1.00e-3), use a smaller initialisation"
            ),
        "{stderr}"
    );
    // Healthy runs stay silent: the default, SGD on a sigmoid net, the momentum rule.
    for (name, settings) in [
        ("default", vec![]),
        (
            "sgd-sigmoid",
            vec![
                ("--optimizer", "sgd"),
                ("--lr", "0.1"),
                ("--activation", "sigmoid"),
            ],
        ),
        (
            "momentum",
            vec![("--optimizer", "momentum"), ("--lr", "0.1")],
        ),
    ] {
        let mut settings = settings;
        settings.push(("--epochs", "2"));
        succeed(&dir, &small_run(&data, &dir.arg(name), &settings));
    }
}

/// Counts at i64::MAX used to train on and save wrapped counts the next resume refused.
#[test]
fn step_counts_at_their_limit_are_refused_before_anything_is_saved() {
    let dir = TempDir::new("step-limit");
    let (run, out) = one_epoch_run(&dir);
    edit_checkpoint(&run, |tensors, _| {
        for (name, t) in tensors.iter_mut() {
            if name.starts_with("optimizer.") && name.ends_with("step") {
                *t = nabla_core::Tensor::scalar(i64::MAX);
            }
        }
    });
    let checkpoints = || {
        ["checkpoint.safetensors", "model.safetensors"].map(|f| std::fs::read(run.join(f)).unwrap())
    };
    let before = checkpoints();
    let message = fail(&dir, &["--resume", &out, "--epochs", "3"]);
    assert!(
        message.starts_with("error: Adam: step: the step count of ")
            && message.ends_with(
                ", 9223372036854775807, has reached i64::MAX, the largest a state dict can hold"
            ),
        "{message}"
    );
    assert!(checkpoints() == before, "the checkpoint is kept");
}

/// Metadata that is there but wrong, counts that contradict each other and unknown settings
/// used to be accepted or reported as missing.
#[test]
fn inconsistent_checkpoint_metadata_and_unknown_settings_are_refused() {
    let dir = TempDir::new("bad-metadata");
    let (run, out) = one_epoch_run(&dir);
    let resume = ["--resume", out.as_str(), "--epochs", "2"];
    let checkpoint = run.join("checkpoint.safetensors").display().to_string();
    let saved = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    let restore = || std::fs::write(run.join("checkpoint.safetensors"), &saved).unwrap();
    for bad in ["NaN", "inf", "-1"] {
        edit_checkpoint(&run, |_, meta| {
            meta.insert("first_loss".into(), bad.into());
        });
        assert_eq!(
            fail(&dir, &resume),
            format!(
                "error: {checkpoint}: first_loss \"{bad}\" in the checkpoint metadata is not a \
                 finite non-negative number"
            )
        );
    }
    edit_checkpoint(&run, |_, meta| {
        meta.insert("epoch".into(), "-1".into());
    });
    assert_eq!(
        fail(&dir, &resume),
        format!(
            "error: {checkpoint}: epoch \"-1\" in the checkpoint metadata is not a non-negative \
             integer"
        )
    );
    restore();
    edit_checkpoint(&run, |tensors, _| {
        let step = tensors
            .iter_mut()
            .find(|(n, _)| n == "optimizer.step")
            .unwrap();
        step.1 = nabla_core::Tensor::scalar(0i64);
    });
    let message = fail(&dir, &resume);
    assert!(
        message.contains(".step\" is ")
            && message.ends_with(
                "but \"step\" is 0: a parameter cannot have been updated in more steps than \
                 the optimiser took"
            ),
        "{message}"
    );
    restore();
    edit_config(&run, "\"seed\": 0", "\"seed\": 0,\n  \"sede\": 1");
    let message = fail(&dir, &resume);
    assert!(
        message.contains("config.json: not a valid run configuration: unknown field `sede`"),
        "{message}"
    );
    edit_config(&run, "\"seed\": 0,\n  \"sede\": 1", "\"seed\": 0");
    succeed(&dir, &["--resume", &out, "--epochs", "2", "--quiet"]);
}

/// The cleanup of killed writes used to delete every `.X.tmp-N` file, the user's too; two
/// processes could write one run folder at once.
#[cfg(unix)]
#[test]
fn only_the_runs_own_temporaries_are_removed_and_a_second_writer_is_refused() {
    let dir = TempDir::new("temporaries-lock");
    let (run, out) = one_epoch_run(&dir);
    std::fs::write(run.join(".notes.tmp-1"), "keep").unwrap();
    std::fs::write(run.join(".checkpoint.safetensors.tmp-99"), "half").unwrap();
    std::fs::write(run.join(".activations_epoch_3.svg.tmp-99"), "half").unwrap();

    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(run.join(".lock"))
        .unwrap();
    // The lock nabla takes: flock on `.lock`, held by this process until `lock` is closed.
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `lock`, open for the whole call.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(locked, 0);
    std::fs::write(run.join(".lock"), "4242\n").unwrap();
    let before = snapshot(&run);
    assert_eq!(
        fail(&dir, &["--resume", &out, "--epochs", "2"]),
        format!(
            "error: {out}: another nabla process (PID 4242) is writing this run folder; wait \
             for it to finish"
        )
    );
    assert!(snapshot(&run) == before);
    assert!(run.join(".checkpoint.safetensors.tmp-99").exists());
    // A lock its process no longer holds (as after a kill) stops nothing.
    drop(lock);
    succeed(&dir, &["--resume", &out, "--epochs", "2", "--quiet"]);
    assert_eq!(
        std::fs::read_to_string(run.join(".notes.tmp-1")).unwrap(),
        "keep"
    );
    let temporaries: Vec<String> = entries(&run)
        .into_iter()
        .filter(|e| e.contains(".tmp-"))
        .collect();
    assert_eq!(temporaries, [".notes.tmp-1"]);
}

/// A kill after the last checkpoint landed used to leave curves.svg of the epoch before for
/// good: the resume found the run finished and returned before drawing anything.
#[test]
fn a_resume_after_a_kill_at_the_last_epoch_redraws_the_charts() {
    let dir = TempDir::new("stale-charts");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let run = dir.path("run");
    let mut args = small_run(&data, &out, &[("--epochs", "2")]);
    args.push("--diagnose");
    abort_at(&dir, &args, "checkpoint-renamed@2");
    let curves = || std::fs::read_to_string(run.join("curves.svg")).unwrap();
    assert!(curves().contains("after 1 epoch") && !curves().contains("after 1 epochs"));
    assert!(!run.join("activations_epoch_2.svg").exists());
    let stdout = succeed(&dir, &["--resume", &out, "--quiet", "--diagnose"]);
    assert_eq!(
        stdout,
        format!(
            "{out}: the run already has 2 epochs; pass --epochs with more than 2 to train longer\n"
        )
    );
    assert!(curves().contains("after 2 epochs"), "{}", curves());
    assert!(run.join("activations_epoch_2.svg").exists());
}

/// `nabla train | head -1` used to panic (exit status 101, "failed printing to stdout: Broken
/// pipe" and a backtrace).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_run_quietly_and_it_resumes() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let dir = TempDir::new("broken-pipe");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let mut args = vec!["train"];
    args.extend(small_run(&data, &out, &[("--epochs", "2")]));
    let closed = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nabla"))
            .args(args)
            .current_dir(dir.path(""))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    };
    let output = closed(&args);
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{output:?}");
    assert_eq!(output.status.signal(), Some(libc_sigpipe()), "{output:?}");
    succeed(&dir, &["--resume", &out, "--quiet"]);
    for other in [
        vec!["grad", "x*x", "--at", "x=1"],
        vec!["compare", "--help"],
    ] {
        let output = closed(&other);
        assert!(
            output.status.success() || output.status.signal() == Some(libc_sigpipe()),
            "{other:?}: {output:?}"
        );
        assert!(output.stderr.is_empty(), "{other:?}: {output:?}");
    }
}

/// SIGPIPE's number (13 on every Unix nabla builds on).
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

/// Wording that misled: a file as --out, "pass --epochs" to one who did, switches printed as
/// `--batch-norm true`.
#[test]
fn messages_say_what_is_wrong_in_the_users_terms() {
    let dir = TempDir::new("wording");
    let data = write_mnist(&dir, "mnist").display().to_string();
    std::fs::write(dir.path("somefile"), "x").unwrap();
    let file = dir.arg("somefile");
    assert_eq!(
        fail(&dir, &small_run(&data, &file, &[])),
        format!("error: {file}: --out names a file, not a folder; choose another --out")
    );
    let (_, out) = one_epoch_run(&dir);
    assert_eq!(
        succeed(&dir, &["--resume", &out, "--epochs", "1"]),
        format!(
            "{out}: the run already has 1 epoch; pass --epochs with more than 1 to train longer\n"
        )
    );
    assert_eq!(
        fail(&dir, &["--resume", &out, "--batch-norm", "--epochs", "2"]),
        format!(
            "error: {out}: --batch-norm (the run has no --batch-norm) conflicts with the run's \
             config.json; --resume continues a run as it was configured, changing only \
             --epochs (start a new run with --out to change the rest)"
        )
    );
}
