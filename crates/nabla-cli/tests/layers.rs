//! Networks from `--layers`, and `nabla summary`: a run made from a spec saves it, resumes and
//! is summarised without model flags, and every bad spec is one line naming the layer.

mod common;

use common::{TempDir, nabla, read_json, write_mnist};
use std::process::Output;

/// Stdout of a command that must succeed with nothing on stderr.
fn succeed(dir: &TempDir, args: &[&str]) -> String {
    let output = nabla(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "nabla {args:?} failed: {stderr}");
    assert_eq!(stderr, "");
    String::from_utf8(output.stdout).unwrap()
}

/// The single stderr line of a command that must fail with exit status 1.
fn fail(dir: &TempDir, args: &[&str]) -> String {
    let output: Output = nabla(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "nabla {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_string()
}

/// `nabla train` of one epoch on 48 synthetic images into `out`, with `model` flags.
fn tiny_run(dir: &TempDir, out: &str, model: &[&str]) -> String {
    let data = write_mnist(dir, "mnist").display().to_string();
    let mut args = vec![
        "train",
        "--data",
        &data,
        "--out",
        out,
        "--epochs",
        "1",
        "--train-subset",
        "48",
        "--batch-size",
        "8",
        "--quiet",
    ];
    args.extend(model);
    succeed(dir, &args)
}

#[test]
fn summary_of_a_spec_prints_keras_table() {
    let dir = TempDir::new("summary-spec");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let spec = "Flatten, Linear 256, ReLU, Dropout 0.2, BN, Linear";
    assert_eq!(
        succeed(&dir, &["summary", "--layers", spec, "--data", &data]),
        "\
Input shape: [-1, 1, 28, 28]
Layer                                           Output shape  Param #
=====================================================================
0  Flatten(start_dim=1, end_dim=-1)             [-1, 784]           0
1  Linear(784 -> 256)                           [-1, 256]     200,960
2  ReLU                                         [-1, 256]           0
3  Dropout(p=0.2)                               [-1, 256]           0
4  BatchNorm1d(256, eps=0.00001, momentum=0.1)  [-1, 256]       1,024
5  Linear(256 -> 10)                            [-1, 10]        2,570
=====================================================================
Total params: 204,554
Trainable params: 204,042
Non-trainable params: 512
"
    );
    let table = succeed(
        &dir,
        &[
            "summary",
            "--layers",
            "linear 4, residual(linear 4, tanh), linear",
            "--input-shape",
            "2",
            "--outputs",
            "3",
        ],
    );
    assert!(table.starts_with("Input shape: [-1, 2]\n"), "{table}");
    assert!(table.contains("\n1  Residual "), "{table}");
    assert!(table.contains("\n  1.inner.0  Linear(4 -> 4) "), "{table}");
    assert!(table.contains("Total params: 47\n"), "{table}");
}

#[test]
fn a_run_is_summarised_and_resumed_without_model_flags() {
    let dir = TempDir::new("summary-run");
    let out = dir.arg("run");
    tiny_run(&dir, &out, &["--hidden", "8"]);
    let table = succeed(&dir, &["summary", &out]);
    assert!(
        table.starts_with(&format!(
            "{out}: flatten, linear 8, relu, linear\nInput shape: [-1, 1, 28, 28]\n"
        )),
        "{table}"
    );
    assert!(table.contains("\n1  Linear(784 -> 8) "), "{table}");
    assert!(table.contains("Total params: 6,370\n"), "{table}");
    let model = dir.path("run").join("model.safetensors");
    assert_eq!(
        succeed(&dir, &["summary", &model.display().to_string()]),
        table.replacen(&out, &model.display().to_string(), 1)
    );

    // A run of --layers resumes from its folder alone; model flags that differ are refused.
    let spec = "flatten, linear 8, layernorm, gelu, dropout 0.1, linear";
    let layers = dir.arg("layers");
    tiny_run(
        &dir,
        &layers,
        &[
            "--layers",
            "Flatten, Linear 8, LN, GELU, Dropout 0.1, Linear",
        ],
    );
    let config = read_json(&dir.path("layers").join("config.json"));
    assert_eq!(config["layers"], spec);
    succeed(
        &dir,
        &["train", "--resume", &layers, "--epochs", "2", "--quiet"],
    );
    let records = std::fs::read_to_string(dir.path("layers").join("metrics.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 2);
    assert_eq!(
        fail(
            &dir,
            &[
                "train", "--resume", &layers, "--hidden", "8", "--epochs", "3"
            ]
        ),
        format!(
            "error: {layers}: --hidden 8 (the run has --layers \"{spec}\") conflicts with the \
             run's config.json; --resume continues a run as it was configured, changing only \
             --epochs (start a new run with --out to change the rest)"
        )
    );
    assert_eq!(
        fail(
            &dir,
            &[
                "train",
                "--resume",
                &layers,
                "--layers",
                "flatten, linear 9, relu, linear"
            ]
        ),
        format!(
            "error: {layers}: --layers \"flatten, linear 9, relu, linear\" (the run has \
             \"{spec}\") conflicts with the run's config.json; --resume continues a run as it was \
             configured, changing only --epochs (start a new run with --out to change the rest)"
        )
    );
    // A run of an earlier version, which saved the --hidden flags instead of layers.
    let old = dir.path("run").join("config.json");
    let text = std::fs::read_to_string(&old).unwrap().replace(
        "\"layers\": \"flatten, linear 8, relu, linear\"",
        "\"hidden\": [8],\n  \"activation\": \"relu\"",
    );
    std::fs::write(&old, text).unwrap();
    assert_eq!(
        fail(&dir, &["train", "--resume", &out]),
        format!(
            "error: {}: written by an earlier version of nabla, whose models have no layer spec; \
             this version cannot resume it (start a new run)",
            old.display()
        )
    );
    // The same spec in other words is no conflict.
    succeed(
        &dir,
        &[
            "train",
            "--resume",
            &layers,
            "--layers",
            "flatten,linear 8,layer_norm,gelu,drop 0.1,fc",
            "--epochs",
            "2",
            "--quiet",
        ],
    );
}

#[test]
fn bad_specs_are_one_line_naming_the_layer() {
    let dir = TempDir::new("bad-specs");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("run");
    let known = "known layers: flatten, linear, relu, leakyrelu, sigmoid, tanh, gelu, softmax, \
                 dropout, batchnorm, layernorm, conv2d, conv1d, convtranspose2d, maxpool2d, \
                 avgpool2d, adaptiveavgpool2d, gap, batchnorm2d, dropout2d, groupnorm, rows, lstm, \
                 gru, rnn, embedding, residual";
    for (spec, message) in [
        (
            "flatten, lstmm 3, linear",
            format!("layer spec: layer 1 `lstmm 3`: unknown layer \"lstmm\"; {known}"),
        ),
        (
            "flatten, lstm 3, linear",
            "layer spec: layer 1 `lstm 3 layers=1 bidirectional=false dropout=0 sequence=false`: \
             needs sequences [-1, T, I] (batch first), but its input is [-1, 784]; its input has \
             no time dim"
                .into(),
        ),
        (
            "flatten, linear 64, dropout 1.5, linear",
            "layer spec: layer 2 `dropout 1.5`: the probability must be in [0, 1), got 1.5".into(),
        ),
        (
            "flatten, linear 64, batchnorm 32, linear",
            "layer spec: layer 2 `batchnorm 32`: expects 32 features, but its input is [-1, 64]"
                .into(),
        ),
        (
            "linear 64, relu, linear",
            "layer spec: layer 0 `linear 64`: needs flat features [-1, D], but its input is \
             [-1, 1, 28, 28]; put `flatten` before it"
                .into(),
        ),
        (
            "flatten, linear 64, relu, linear 5",
            "layer spec: layer 3 `linear 5`: the model's output is [-1, 5], but the task has 10 \
             outputs; end with `linear`, whose size is then taken from the task"
                .into(),
        ),
        (
            "",
            "layer spec: the spec is empty; give layers such as \"flatten, linear 256, relu, \
             linear\""
                .into(),
        ),
        (
            "conv2d 8 3, relu, maxpool2d 27, flatten, linear",
            "layer spec: layer 2 `maxpool2d 27 stride=27 padding=0`: the 27x27 window (padding \
             0x0) does not fit its input [-1, 8, 26, 26]"
                .into(),
        ),
        (
            "flatten, conv2d 8 3, linear",
            "layer spec: layer 1 `conv2d 8 3 stride=1 padding=0 dilation=1 groups=1 bias=true`: \
             needs images [-1, C, H, W], but its input is [-1, 784]"
                .into(),
        ),
    ] {
        let expected = format!("error: {message}");
        assert_eq!(
            fail(
                &dir,
                &["train", "--data", &data, "--out", &out, "--layers", spec]
            ),
            expected
        );
        assert_eq!(
            fail(&dir, &["summary", "--layers", spec, "--data", &data]),
            expected
        );
    }
    assert!(!dir.path("run").exists());

    // --layers replaces the --hidden flags: giving both is a usage error.
    let output = nabla(
        &dir,
        &["train", "--layers", "flatten, linear", "--hidden", "8"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error: the argument '--layers <LAYERS>' cannot be used with '--hidden <HIDDEN>'"
        ),
        "{stderr}"
    );
}

#[test]
fn summary_of_a_folder_or_file_without_a_saved_model_is_one_line() {
    let dir = TempDir::new("summary-errors");
    std::fs::create_dir_all(dir.path("empty")).unwrap();
    assert!(
        fail(
            &dir,
            &[
                "summary",
                "--layers",
                "flatten, linear",
                "--data",
                &dir.arg("empty")
            ]
        )
        .ends_with(
            "no training images file here: an IDX folder holds files named like \
             train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (and optionally \
             t10k-... or test-... for a test set)"
        )
    );
    assert_eq!(
        fail(&dir, &["summary", &dir.arg("empty")]),
        format!(
            "error: {}: holds no model.safetensors or checkpoint.safetensors (not a run folder, \
             or its first epoch never finished)",
            dir.arg("empty")
        )
    );
    let old = dir.path("old.safetensors");
    nabla_nn::checkpoint::save_safetensors(
        &old,
        &[(
            "0.weight".into(),
            nabla_core::Tensor::zeros(&[2, 2], nabla_core::DType::F32),
        )],
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        fail(&dir, &["summary", &old.display().to_string()]),
        format!(
            "error: {}: no \"layers\" in the file's metadata, so the model cannot be rebuilt from \
             it (it was not saved by a training run of this version of nabla)",
            old.display()
        )
    );
}

#[test]
fn compare_trains_every_run_with_the_spec() {
    let dir = TempDir::new("compare-layers");
    let data = write_mnist(&dir, "mnist").display().to_string();
    let out = dir.arg("cmp");
    let spec = "flatten, linear 8, tanh, linear";
    let args = |vary: &'static str, values: &'static str| {
        vec![
            "compare",
            "--data",
            &data,
            "--out",
            &out,
            "--layers",
            spec,
            "--vary",
            vary,
            "--values",
            values,
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--quiet",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let refused = args("activation", "relu,tanh");
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    assert_eq!(
        fail(&dir, &refused),
        "error: --vary activation changes the --hidden network, which --layers replaces; vary \
         the activations or batch norm by writing them in --layers of separate runs"
    );
    let ok = args("optimizer", "sgd,adam");
    let ok: Vec<&str> = ok.iter().map(String::as_str).collect();
    succeed(&dir, &ok);
    let report = read_json(&dir.path("cmp").join("compare.json"));
    for run in report["runs"].as_array().unwrap() {
        assert_eq!(run["config"]["layers"], spec);
    }
}
