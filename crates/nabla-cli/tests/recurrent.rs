//! `nabla train --model lstm|gru|rnn` and recurrent `--layers`: the networks read images row by
//! row, save their choice and spec in the run folder, so `summary`, `evaluate` and `--resume`
//! work on the run; the MLP's flags and recurrent layers without a time dim are one line each.

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

#[test]
fn each_recurrent_model_trains_on_rows_and_is_summarised_and_evaluated() {
    let dir = TempDir::new("recurrent-models");
    // 32 training and 16 test 8x8 images: sequences of 8 rows of 8 features.
    let data = write_mnist_side(&dir, "digits", DARK, 8, (32, 16))
        .display()
        .to_string();
    for (model, layer, parameters) in [
        ("lstm", "LSTM(8 -> 128, batch_first)", "70,656"),
        ("gru", "GRU(8 -> 128, batch_first)", "52,992"),
        ("rnn", "RNN(8 -> 128, batch_first)", "17,664"),
    ] {
        let run = dir.arg(model);
        succeed(
            &dir,
            &[
                "train",
                "--model",
                model,
                "--data",
                &data,
                "--out",
                &run,
                "--epochs",
                "1",
                "--batch-size",
                "16",
                "--quiet",
            ],
        );
        let config = read_json(&dir.path(&format!("{model}/config.json")));
        assert_eq!(config["model"], model);
        assert_eq!(config["batch_size"], 16);
        let spec = config["layers"].as_str().unwrap().to_string();
        assert!(spec.starts_with(&format!("rows, {model} 128 ")), "{spec}");
        let summary = succeed(&dir, &["summary", &run]);
        assert!(summary.contains(layer), "{summary}");
        let row = summary.lines().find(|l| l.contains(layer)).unwrap();
        assert!(
            row.contains("[-1, 128]") && row.ends_with(parameters),
            "{summary}"
        );
        let report = succeed(&dir, &["evaluate", &run, "--json"]);
        let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
        assert_eq!(report["samples"], 16);
    }
    // The run resumes with its model, and another model flag names the run's.
    let lstm = dir.arg("lstm");
    let flags = ["--data", &data, "--batch-size", "16", "--quiet"];
    let mut resume = vec!["train", "--resume", &lstm, "--epochs", "2"];
    resume.extend(flags);
    succeed(&dir, &resume);
    let metrics = std::fs::read_to_string(dir.path("lstm/metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2);
    let mut changed = vec!["train", "--resume", &lstm, "--hidden", "64"];
    changed.extend(flags);
    let error = fail(&dir, &changed);
    assert!(error.contains("(the run has --model lstm)"), "{error}");
}

#[test]
fn a_stacked_bidirectional_lstm_spec_trains() {
    let dir = TempDir::new("recurrent-spec");
    let data = write_mnist_side(&dir, "digits", DARK, 6, (16, 8))
        .display()
        .to_string();
    let spec = "rows, lstm 8 layers=2 bidirectional=true sequence=true, gru 4, linear";
    let summary = succeed(&dir, &["summary", "--layers", spec, "--data", &data]);
    // 2·(4·8·(6 + 8) + 64) + 2·(4·8·(16 + 8) + 64) for the LSTM, 3·4·(16 + 4) + 24 for the GRU.
    let row = summary
        .lines()
        .find(|l| l.contains("LSTM(6 -> 8, layers=2, bidirectional, batch_first, sequence)"))
        .unwrap();
    assert!(
        row.contains("[-1, 6, 16]") && row.ends_with("2,688"),
        "{summary}"
    );
    assert!(summary.contains("GRU(16 -> 4, batch_first)"), "{summary}");
    assert!(summary.contains("Total params: 3,002"), "{summary}");
    let run = dir.arg("run");
    succeed(
        &dir,
        &[
            "train",
            "--layers",
            spec,
            "--data",
            &data,
            "--out",
            &run,
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--clip-norm",
            "1",
            "--quiet",
        ],
    );
    let config = read_json(&dir.path("run/config.json"));
    assert_eq!(
        config["layers"],
        "rows, lstm 8 layers=2 bidirectional=true dropout=0 sequence=true, gru 4 layers=1 \
         bidirectional=false dropout=0 sequence=false, linear"
    );
}

#[test]
fn the_mlp_flags_do_not_shape_a_recurrent_model() {
    let dir = TempDir::new("recurrent-flags");
    let data = write_mnist_side(&dir, "digits", DARK, 6, (16, 8))
        .display()
        .to_string();
    assert_eq!(
        fail(
            &dir,
            &["train", "--model", "gru", "--data", &data, "--batch-norm"],
        ),
        "error: --batch-norm shapes --model mlp, not --model gru (give the whole network with \
         --layers to change it)"
    );
    assert_eq!(
        fail(
            &dir,
            &[
                "summary",
                "--layers",
                "rows, rnn 8 nonlinearity=gelu, linear",
                "--data",
                &data
            ],
        ),
        "error: layer spec: layer 1 `rnn 8 nonlinearity=gelu`: the nonlinearity must be tanh or \
         relu, got \"gelu\""
    );
}
