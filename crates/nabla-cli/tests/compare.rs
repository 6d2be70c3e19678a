//! `nabla compare` end to end on a synthetic MNIST-format folder: one run per value in its own
//! folder, `compare.json`, `compare.svg`, the results table, and one-line errors for bad values.

mod common;

use common::{TempDir, nabla, read_json, write_mnist};
use std::process::Output;

fn compare(dir: &TempDir, out: &str, flags: &[&str]) -> Output {
    let data = write_mnist(dir, "mnist").display().to_string();
    let mut args = vec![
        "compare",
        "--data",
        &data,
        "--out",
        out,
        "--hidden",
        "16",
        "--batch-size",
        "8",
        "--epochs",
        "2",
    ];
    args.extend(flags);
    nabla(dir, &args)
}

#[test]
fn one_run_per_optimizer_with_a_chart_a_report_and_a_table() {
    let dir = TempDir::new("optimizers");
    let out = dir.arg("cmp");
    let output = compare(&dir, &out, &["--vary", "optimizer", "--values", "sgd,adam"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr, "");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let epoch_lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" epoch ")).collect();
    assert_eq!(epoch_lines.len(), 4, "{stdout}");
    assert!(epoch_lines[0].starts_with("[1/2 optimizer=sgd] epoch  1/2  lr 1.00e-1 "));
    assert!(epoch_lines[3].starts_with("[2/2 optimizer=adam] epoch  2/2  lr 5.00e-4 "));
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("ranked by "))
        .collect();
    assert_eq!(table.len(), 5, "{stdout}");
    assert_eq!(
        table[0],
        "ranked by test accuracy (the runs have no validation split)"
    );
    assert_eq!(
        table[1],
        "rank  optimizer  epochs  train loss  train acc  test loss  test acc    time"
    );
    assert!(table[2].starts_with("   1  "), "{}", table[2]);
    assert!(table[3].starts_with("   2  "), "{}", table[3]);
    let mut names: Vec<&str> = table[2..4].iter().map(|l| &l[6..16]).collect();
    names.sort();
    assert_eq!(names, ["adam      ", "sgd       "]);
    assert_eq!(
        table[4],
        format!("wrote compare.json and compare.svg in {out}")
    );

    let cmp = dir.path("cmp");
    let report = read_json(&cmp.join("compare.json"));
    assert_eq!(report["vary"], "optimizer");
    assert_eq!(report["values"], serde_json::json!(["sgd", "adam"]));
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, (value, lr)) in runs.iter().zip([("sgd", 0.1), ("adam", 0.001)]) {
        assert_eq!(run["value"], value);
        assert_eq!(run["config"]["optimizer"], value);
        assert_eq!(run["config"]["lr"], lr);
        assert_eq!(run["config"]["layers"], "flatten, linear 16, relu, linear");
        assert!(run["error"].is_null());
        assert!(run["activations"].is_null());
        let folder = cmp.join(format!("optimizer-{value}"));
        assert_eq!(run["folder"], folder.display().to_string());
        assert!(folder.join("curves.svg").is_file() && folder.join("model.safetensors").is_file());
        let epochs: Vec<u64> = run["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(epochs, [1, 2]);
    }
    let svg = std::fs::read_to_string(cmp.join("compare.svg")).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    for text in [
        "2 runs varying optimizer",
        "train loss",
        "test accuracy",
        "sgd",
        "adam",
    ] {
        assert!(svg.contains(&format!(">\n{text}\n</text>")), "no {text}");
    }

    let again = compare(&dir, &out, &["--vary", "optimizer", "--values", "sgd"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(again.stderr).unwrap(),
        format!("error: {out}: already holds a comparison; choose another --out\n")
    );
}

#[test]
fn diagnosed_runs_report_saturation_per_layer() {
    let dir = TempDir::new("inits");
    let out = dir.arg("cmp");
    let flags = [
        "--vary",
        "init",
        "--values",
        "std1,std001",
        "--activation",
        "sigmoid",
        "--diagnose",
        "--quiet",
    ];
    let output = compare(&dir, &out, &flags);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("  test acc    time  saturated (start -> end)\n"),
        "{stdout}"
    );
    let report = read_json(&dir.path("cmp").join("compare.json"));
    for (run, init) in report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["std1", "std001"])
    {
        assert_eq!(run["config"]["init"], init);
        let epochs = run["activations"].as_array().unwrap();
        assert_eq!(epochs.len(), 3);
        let layer = &epochs[0]["layers"][0];
        assert_eq!(
            (layer["layer"].as_u64(), layer["name"].as_str()),
            (Some(2), Some("2: Sigmoid"))
        );
        let saturated = layer["saturated"].as_f64().unwrap();
        // N(0, 0.01²) weights keep every pre-activation near 0, so no output is saturated.
        match init {
            "std1" => assert!(saturated > 0.5, "{saturated}"),
            _ => assert_eq!(saturated, 0.0),
        }
        assert!(
            dir.path("cmp")
                .join(format!("init-{init}/activations_epoch_0.svg"))
                .is_file()
        );
    }
}

fn error_line(output: Output) -> String {
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim_end().to_string()
}

#[test]
fn bad_values_are_one_error_line_and_start_nothing() {
    let dir = TempDir::new("bad");
    let out = dir.arg("cmp");
    let cases = [
        (
            vec!["--vary", "optimizer", "--values", "sgd,lbfgs"],
            "error: --values: `lbfgs` is not a valid optimizer (expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)",
        ),
        (
            vec!["--vary", "batch-norm", "--values", "on,maybe"],
            "error: --values: `maybe` is not a valid batch-norm (expected on or off)",
        ),
        (
            vec!["--vary", "lr", "--values", "0.1,fast"],
            "error: --values: `fast` is not a valid lr (expected a number)",
        ),
        (
            vec!["--vary", "lr", "--values", "0.1,-1"],
            "error: lr -1: --lr must be a positive number, got -1",
        ),
        (
            vec!["--vary", "init", "--values", "he,xavier,he"],
            "error: --values: `he` is given twice (value 3)",
        ),
    ];
    for (flags, expected) in cases {
        assert_eq!(error_line(compare(&dir, &out, &flags)), expected);
    }
    assert!(!dir.path("cmp").exists());
}

#[test]
fn a_run_that_fails_is_drawn_up_to_its_failure_with_its_note() {
    let dir = TempDir::new("failed-run");
    let out = dir.arg("cmp");
    let output = compare(
        &dir,
        &out,
        &["--vary", "lr", "--values", "0.1,1e30", "--optimizer", "sgd"],
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("[2/2 lr=1e30] failed: the loss became "),
        "{stderr}"
    );
    let svg = std::fs::read_to_string(dir.path("cmp").join("compare.svg")).unwrap();
    // The failed run keeps its legend entry, with the reason under it in place of an empty line.
    assert!(svg.contains(">\n1e30\n</text>"), "{svg}");
    assert!(svg.contains(">\nfailed: the loss became "), "{svg}");
}
