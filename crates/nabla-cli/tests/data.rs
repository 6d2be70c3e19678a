//! `nabla train` on each kind of data besides IDX folders (a CSV table, an image folder, a toy
//! set), and the one-line error each bad data input gets.

mod common;

use common::{TempDir, nabla, png, read_json};
use std::path::{Path, PathBuf};

/// Runs `nabla train` with a tiny net for one epoch; returns the output.
fn train(dir: &TempDir, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "train",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "16",
    ];
    all.extend(args);
    nabla(dir, &all)
}

/// Trains `args` into `dir/run` and returns the run's config.json.
fn succeed(dir: &TempDir, args: &[&str]) -> serde_json::Value {
    let out = dir.arg("run");
    let mut all = args.to_vec();
    all.extend(["--out", &out]);
    let output = train(dir, &all);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("epoch  1/1")),
        "{stdout}"
    );
    read_json(&dir.path("run").join("config.json"))
}

/// The single stderr line of a run that must fail.
fn fail(dir: &TempDir, args: &[&str]) -> String {
    let output = train(dir, args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.trim_end().to_string()
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .display()
        .to_string()
}

/// An image folder of two classes of 4x4 grayscale PNGs under `dir/name`.
fn image_folder(dir: &TempDir, name: &str) -> PathBuf {
    let root = dir.path(name);
    for (class, value) in [("dark", 10), ("light", 200)] {
        for i in 0..4 {
            png(&root.join(class).join(format!("{i}.png")), 4, 4, value);
        }
    }
    root
}

#[test]
fn trains_on_a_csv_table_an_image_folder_and_a_toy_set() {
    let dir = TempDir::new("kinds");
    let iris = repo("data/iris/iris.csv");
    let config = succeed(
        &dir,
        &["--data", &iris, "--target", "species", "--val-split", "0.2"],
    );
    assert_eq!(config["data"]["source"]["kind"], "csv");
    assert_eq!(config["data"]["val_split"], 0.2);

    let dir = TempDir::new("kinds-folder");
    let train = image_folder(&dir, "train").display().to_string();
    let test = image_folder(&dir, "test").display().to_string();
    let config = succeed(&dir, &["--data", &train, "--test", &test]);
    assert_eq!(config["data"]["source"]["kind"], "image-folder");

    let dir = TempDir::new("kinds-toy");
    let config = succeed(
        &dir,
        &["--data", "spiral", "--samples", "64", "--noise", "0.05"],
    );
    assert_eq!(config["data"]["source"]["set"], "spiral");
    assert_eq!(config["data"]["source"]["samples"], 64);
    // --resume compares data flags with the run's own.
    let run = dir.arg("run");
    assert_eq!(
        fail(&dir, &["--resume", &run, "--val-split", "0.3"]),
        format!(
            "error: {run}: --val-split 0.3 (the run has none) conflicts with the run's \
             config.json; --resume continues a run as it was configured, changing only --epochs \
             (start a new run with --out to change the rest)"
        )
    );
}

/// An IDX file of ubyte elements.
fn idx(path: &Path, dims: &[usize], body: &[u8]) {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        bytes.extend((d as u32).to_be_bytes());
    }
    bytes.extend(body);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn trains_on_an_idx_folder_of_8x8_digits() {
    let dir = TempDir::new("idx8");
    let folder = dir.path("digits");
    std::fs::create_dir_all(&folder).unwrap();
    for (split, n) in [("train", 40), ("test", 10)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..n * 64).map(|p| (p * 13 % 17) as u8).collect();
        idx(
            &folder.join(format!("{split}-images.idx")),
            &[n, 8, 8],
            &pixels,
        );
        idx(&folder.join(format!("{split}-labels.idx")), &[n], &labels);
    }
    let config = succeed(&dir, &["--data", &folder.display().to_string()]);
    assert_eq!(config["data"]["source"]["kind"], "idx");
}

#[test]
fn bad_data_gets_one_error_line() {
    let dir = TempDir::new("bad-data");
    let iris = repo("data/iris/iris.csv");
    assert_eq!(
        fail(&dir, &["--data", &iris, "--target", "colour"]),
        format!(
            "error: {iris}: no column named \"colour\" in the header (columns: [\"sepal_length\", \
             \"sepal_width\", \"petal_length\", \"petal_width\", \"species\"])"
        )
    );
    assert_eq!(
        fail(&dir, &["--data", &iris]),
        format!(
            "error: --data {iris} is a CSV table: name the column to predict with --target COLUMN"
        )
    );
    let cell = dir.path("cell.csv");
    std::fs::write(&cell, "a,b,y\n1,2,x\n3,?,y\n").unwrap();
    assert_eq!(
        fail(
            &dir,
            &["--data", &cell.display().to_string(), "--target", "y"]
        ),
        format!(
            "error: {}: line 3, column 2 (\"b\"): \"?\" is not a number",
            cell.display()
        )
    );
    assert_eq!(
        fail(&dir, &["--data", "moons", "--target", "y"]),
        "error: --target applies to CSV tables, but --data moons is the toy set moons"
    );
    assert_eq!(
        fail(&dir, &["--data", "moons", "--val-split", "1.5"]),
        "error: --val-split must be between 0 and 1, got 1.5"
    );

    let root = image_folder(&dir, "images");
    let broken = root.join("dark/broken.png");
    std::fs::write(&broken, b"not a png").unwrap();
    let error = fail(&dir, &["--data", &root.display().to_string()]);
    assert!(
        error.starts_with(&format!(
            "error: {}: cannot read this image: ",
            broken.display()
        )),
        "{error}"
    );
    std::fs::remove_file(&broken).unwrap();
    let wide = root.join("light/wide.png");
    png(&wide, 4, 6, 0);
    assert_eq!(
        fail(&dir, &["--data", &root.display().to_string()]),
        format!(
            "error: {}: this image is 4x6 (HxW) but {} is 4x4: the images of a data set need one \
             size; give an image size (--image-size H,W) to resize them",
            wide.display(),
            root.join("dark/0.png").display()
        )
    );
    assert!(!dir.path("run").exists());
}

#[test]
fn runs_of_few_steps_get_a_tip() {
    let dir = TempDir::new("few-steps");
    let run = dir.arg("run");
    let args = [
        "train", "--data", "spiral", "--hidden", "4", "--epochs", "1", "--out", &run,
    ];
    let output = nabla(&dir, &args);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.lines().any(|l| l
            == "few steps: 4 per epoch (500 training samples in batches of 128), 4 in all; a \
                smaller --batch-size or more --epochs trains further"),
        "{stdout}"
    );
    // 13 steps an epoch: no tip.
    let output = train(&dir, &["--data", "spiral", "--samples", "200"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stdout.contains("few steps"), "{stdout}");
}
