//! `nabla predict` and `nabla evaluate` on tiny trained runs, with no model flags: predict's
//! classes agree with the predictions evaluate counts, the pictures are written, regression
//! runs get values and errors, and bad inputs get one line each.

mod common;

use common::{Look, TempDir, nabla, png, write_mnist, write_mnist_sized};
use std::path::Path;

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The one line on stderr of a failed command.
fn error_line(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "the command succeeded");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_string()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Trains a tiny MLP on the synthetic 28x28 IDX set into `dir/run`.
fn mnist_run(dir: &TempDir) -> String {
    let data = write_mnist(dir, "mnist");
    let data = data.display().to_string();
    let run = dir.arg("run");
    let args = [
        "train", "--data", &data, "--hidden", "16", "--epochs", "2", "--out", &run, "--quiet",
    ];
    stdout(&nabla(dir, &args));
    run
}

fn svg_elements(path: &Path, tag: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants().filter(|n| n.has_tag_name(tag)).count()
}

#[test]
fn predict_agrees_with_evaluate_on_the_test_images() {
    let dir = TempDir::new("agree");
    let run = mnist_run(&dir);
    let report = stdout(&nabla(&dir, &["evaluate", &run, "--json"]));
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["samples"], 32);
    let evaluated: Vec<&str> = report["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let images = dir.path("mnist").join("t10k-images-idx3-ubyte");
    let predicted = stdout(&nabla(
        &dir,
        &[
            "predict",
            &run,
            &images.display().to_string(),
            "--json",
            "--top",
            "2",
        ],
    ));
    let lines = json_lines(&predicted);
    assert_eq!(lines.len(), 32);
    for (i, (line, evaluated)) in lines.iter().zip(&evaluated).enumerate() {
        assert_eq!(line["input"], format!("{}[{i}]", images.display()));
        assert_eq!(line["class"], *evaluated, "sample {i}");
        let probabilities = line["probabilities"].as_object().unwrap();
        assert_eq!(probabilities.len(), 2);
        assert!(
            probabilities
                .values()
                .all(|p| (0.0..=1.0).contains(&p.as_f64().unwrap()))
        );
    }
    // The confusion matrix's column sums are the counts of each predicted class.
    let confusion = report["confusion"].as_array().unwrap();
    for class in 0..10 {
        let column: u64 = confusion
            .iter()
            .map(|row| row[class].as_u64().unwrap())
            .sum();
        let name = class.to_string();
        let counted = lines.iter().filter(|l| l["class"] == name.as_str()).count() as u64;
        assert_eq!(column, counted, "class {class}");
    }
    // Pictures: one cell per class pair, one image per shown mistake.
    let run = Path::new(&run);
    // 100 counts and 20 class names, besides the titles.
    assert!(svg_elements(&run.join("confusion.svg"), "text") >= 120);
    let wrong = evaluated
        .iter()
        .enumerate()
        .filter(|(i, c)| **c != (i % 10).to_string())
        .count();
    assert_eq!(
        svg_elements(&run.join("mistakes.svg"), "image"),
        wrong.min(32)
    );
}

#[test]
fn evaluate_prints_the_report_and_predict_the_top_classes() {
    let dir = TempDir::new("text");
    let run = mnist_run(&dir);
    let out = dir.arg("pictures");
    let text = stdout(&nabla(&dir, &["evaluate", &run, "--out", &out]));
    for wanted in [
        "on its test set: 32 samples",
        "accuracy",
        "precision",
        "weighted avg",
        "confusion matrix",
        "true \\ predicted",
    ] {
        assert!(text.contains(wanted), "{wanted:?} in\n{text}");
    }
    assert!(
        dir.path("pictures/confusion.svg").is_file() && dir.path("pictures/mistakes.svg").is_file()
    );
    let images = dir
        .path("mnist")
        .join("t10k-images-idx3-ubyte")
        .display()
        .to_string();
    let text = stdout(&nabla(&dir, &["predict", &run, &images]));
    let first = text.lines().next().unwrap();
    // name, then three classes with percentages
    assert_eq!(first.matches('%').count(), 3, "{first}");
}

#[test]
fn toy_runs_draw_their_decision_boundary_and_predict_csv_rows() {
    let dir = TempDir::new("toy");
    let run = dir.arg("run");
    let args = [
        "train",
        "--data",
        "moons",
        "--samples",
        "60",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--out",
        &run,
        "--quiet",
    ];
    stdout(&nabla(&dir, &args));
    let boundary = dir.path("run/decision_boundary.svg");
    assert_eq!(svg_elements(&boundary, "circle"), 60);
    std::fs::write(dir.path("points.csv"), "x,y\n0.5,0.25\n-1,0.5\n").unwrap();
    let lines = json_lines(&stdout(&nabla(
        &dir,
        &["predict", &run, &dir.arg("points.csv"), "--json"],
    )));
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1]["input"]
            .as_str()
            .unwrap()
            .ends_with("points.csv:3")
    );
}

#[test]
fn regression_runs_predict_values_and_evaluate_errors() {
    let dir = TempDir::new("regression");
    let run = dir.arg("run");
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/diabetes/diabetes.csv");
    let csv = csv.display().to_string();
    let args = [
        "train",
        "--data",
        &csv,
        "--target",
        "progression",
        "--task",
        "regression",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--out",
        &run,
        "--quiet",
    ];
    stdout(&nabla(&dir, &args));
    let report = stdout(&nabla(&dir, &["evaluate", &run, "--data", &csv, "--json"]));
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["samples"], 442);
    assert!(report["r2"].as_f64().is_some() && report["mae"].as_f64().unwrap() > 0.0);
    let lines = json_lines(&stdout(&nabla(&dir, &["predict", &run, &csv, "--json"])));
    assert_eq!(lines.len(), 442);
    for (line, evaluated) in lines.iter().zip(report["predictions"].as_array().unwrap()) {
        assert_eq!(line["values"]["progression"], evaluated[0]);
    }
    let text = stdout(&nabla(&dir, &["evaluate", &run, "--data", &csv]));
    assert!(
        text.contains("R²") && text.contains("442 samples"),
        "{text}"
    );
}

#[test]
fn bad_inputs_get_one_line() {
    let dir = TempDir::new("bad");
    let run = mnist_run(&dir);
    // An IDX file of 8x8 images for a model of 28x28 ones.
    let mut small = vec![0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 8];
    small.extend([0u8; 128]);
    std::fs::write(dir.path("small.idx"), small).unwrap();
    let small = dir.arg("small.idx");
    assert_eq!(
        error_line(&nabla(&dir, &["predict", &run, &small])),
        format!(
            "error: predict: {small} holds 1x8x8 images but the model was trained on 1x28x28 images"
        )
    );
    std::fs::write(dir.path("rows.csv"), "a,b\n1,2\n").unwrap();
    let rows = dir.arg("rows.csv");
    assert_eq!(
        error_line(&nabla(&dir, &["predict", &run, &rows])),
        format!("error: predict: {rows} is a table but the model was trained on 1x28x28 images")
    );
    std::fs::write(dir.path("broken.png"), b"not a png at all").unwrap();
    let broken = dir.arg("broken.png");
    let line = error_line(&nabla(&dir, &["predict", &run, &broken]));
    assert!(
        line.starts_with(&format!("error: {broken}: cannot read this image")),
        "{line}"
    );

    let missing = dir.arg("no-such-run");
    assert_eq!(
        error_line(&nabla(&dir, &["predict", &missing, &small])),
        format!("error: {missing}: no such run folder or model file")
    );
    std::fs::create_dir(dir.path("empty-run")).unwrap();
    let empty = dir.arg("empty-run");
    let line = error_line(&nabla(&dir, &["evaluate", &empty]));
    assert!(
        line.starts_with(&format!("error: {empty}: holds no model.safetensors")),
        "{line}"
    );

    let line = error_line(&nabla(&dir, &["predict", &run, &small, "--top", "0"]));
    assert_eq!(line, "error: --top must be at least 1");
    // Images carry no answers for evaluate.
    let images = dir.path("mnist").join("t10k-images-idx3-ubyte");
    assert_eq!(
        error_line(&nabla(
            &dir,
            &["evaluate", &run, "--data", &images.display().to_string()]
        )),
        "error: evaluate: the inputs carry no answers to compare with; give CSV files with the target column, an IDX folder or an image folder (ROOT/CLASS_NAME/*.png)"
    );
}

#[test]
fn evaluate_without_a_test_set_asks_for_data() {
    let dir = TempDir::new("no-test");
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/iris/iris.csv");
    let run = dir.arg("run");
    let args = [
        "train",
        "--data",
        &csv.display().to_string(),
        "--target",
        "species",
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--out",
        &run,
        "--quiet",
    ];
    stdout(&nabla(&dir, &args));
    assert_eq!(
        error_line(&nabla(&dir, &["evaluate", &run])),
        format!("error: {run}: the run's data has no test set; give labelled data with --data")
    );
}

/// The `--json` report of `nabla evaluate RUN [extra...]`.
fn evaluate_json(dir: &TempDir, run: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["evaluate", run, "--json"];
    args.extend(extra);
    serde_json::from_str(stdout(&nabla(dir, &args)).trim()).unwrap()
}

#[test]
fn evaluate_reads_idx_folders_with_the_saved_preprocessing() {
    let dir = TempDir::new("idx-data");
    let run = mnist_run(&dir);
    // The run's own folder: its test pair, so the same figures as the run's test set (a
    // refit of the statistics on the test images, which differ from the training images',
    // would change the loss).
    let own = evaluate_json(&dir, &run, &[]);
    let again = evaluate_json(&dir, &run, &["--data", &dir.arg("mnist")]);
    for key in ["samples", "loss", "accuracy", "predictions", "confusion"] {
        assert_eq!(own[key], again[key], "{key}");
    }
    // Another folder with only a training pair: that pair is read.
    let look = Look {
        band: 120,
        background: 60,
    };
    let other = write_mnist_sized(&dir, "other", look, 40, 1);
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        std::fs::remove_file(other.join(name)).unwrap();
    }
    let report = evaluate_json(&dir, &run, &["--data", &dir.arg("other")]);
    assert_eq!(report["samples"], 40);
    assert!(dir.path("run/mistakes.svg").is_file());
}

#[test]
fn evaluate_reads_image_folders_by_class_name() {
    let dir = TempDir::new("folder-data");
    for (class, value) in [("dark", 10), ("light", 200)] {
        for i in 0..4 {
            png(&dir.path(&format!("train/{class}/{i}.png")), 4, 4, value);
        }
    }
    let run = dir.arg("run");
    let train = dir.arg("train");
    let args = [
        "train", "--data", &train, "--hidden", "4", "--epochs", "1", "--out", &run, "--quiet",
    ];
    stdout(&nabla(&dir, &args));
    // Only the second class: its index is taken by name, not by position in the folder.
    for i in 0..3 {
        png(&dir.path(&format!("new/light/{i}.png")), 4, 4, 190);
    }
    let report = evaluate_json(&dir, &run, &["--data", &dir.arg("new")]);
    assert_eq!(report["samples"], 3);
    assert_eq!(report["classes"]["light"]["support"], 3);
    assert_eq!(report["classes"]["dark"]["support"], 0);
    assert!(svg_elements(&dir.path("run/mistakes.svg"), "svg") >= 1);

    png(&dir.path("new/grey/0.png"), 4, 4, 100);
    let new = dir.arg("new");
    assert_eq!(
        error_line(&nabla(&dir, &["evaluate", &run, "--data", &new])),
        format!(
            "error: {new}: class folder \"grey\" is not one of the training classes [\"dark\", \"light\"]"
        )
    );
}
