//! What the CLI test binaries share: temporary directories, synthetic MNIST-format folders,
//! and running `nabla` without terminal escape codes.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const TRAIN_IMAGES: usize = 64;
const TEST_IMAGES: usize = 32;
const SIDE: usize = 28;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.0
    }

    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nabla-cli-{}-{n}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn idx_bytes(type_code: u8, dims: &[usize], body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for &d in dims {
        bytes.extend((d as u32).to_be_bytes());
    }
    bytes.extend(body);
    bytes
}

/// Pixel levels of a synthetic image (noise of 0 to 31 is added to each).
#[derive(Copy, Clone)]
pub struct Look {
    pub band: u8,
    pub background: u8,
}

/// Bright bands on a dark background, like MNIST.
pub const DARK: Look = Look {
    band: 200,
    background: 0,
};

/// `n` `side`×`side` images where digit `i % 10` marks rows `2d + 4` and `2d + 5` (of 28,
/// scaled to `side`) at `look.band` over `look.background`, and their labels: a pattern a small
/// net learns in a few steps.
fn synthetic_split(n: usize, seed: u32, look: Look, side: usize) -> (Vec<u8>, Vec<u8>) {
    let mut state = seed;
    let mut noise = || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 27) as u8
    };
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let mut pixels = Vec::with_capacity(n * side * side);
    for &digit in &labels {
        let band = 2 * usize::from(digit) + 4..2 * usize::from(digit) + 6;
        for row in 0..side {
            for _ in 0..side {
                let level = if band.contains(&(row * SIDE / side)) {
                    look.band
                } else {
                    look.background
                };
                pixels.push(level + noise());
            }
        }
    }
    (pixels, labels)
}

/// Writes the four raw IDX files of a synthetic MNIST folder `name` and returns its path.
pub fn write_mnist(dir: &TempDir, name: &str) -> PathBuf {
    write_mnist_looking(dir, name, DARK)
}

/// [`write_mnist`] with images of the given look.
pub fn write_mnist_looking(dir: &TempDir, name: &str, look: Look) -> PathBuf {
    write_mnist_sized(dir, name, look, TRAIN_IMAGES, TEST_IMAGES)
}

/// [`write_mnist`] with `train` training and `test` test images of the given look.
pub fn write_mnist_sized(
    dir: &TempDir,
    name: &str,
    look: Look,
    train: usize,
    test: usize,
) -> PathBuf {
    write_mnist_side(dir, name, look, SIDE, (train, test))
}

/// [`write_mnist`] with `side`×`side` images, `counts.0` for training and `counts.1` for test.
pub fn write_mnist_side(
    dir: &TempDir,
    name: &str,
    look: Look,
    side: usize,
    (train, test): (usize, usize),
) -> PathBuf {
    let folder = dir.path(name);
    std::fs::create_dir_all(&folder).unwrap();
    for (prefix, n, seed) in [("train", train, 1), ("t10k", test, 2)] {
        let (pixels, labels) = synthetic_split(n, seed, look, side);
        let images = idx_bytes(0x08, &[n, side, side], &pixels);
        std::fs::write(folder.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        let labels = idx_bytes(0x08, &[n], &labels);
        std::fs::write(folder.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
    folder
}

/// Writes an `h`x`w` grayscale PNG whose pixel in column `x` is `value + x`, with its folders.
pub fn png(path: &Path, h: u32, w: u32, value: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_fn(w, h, |x, _| image::Luma([value.wrapping_add(x as u8)]))
        .save(path)
        .unwrap();
}

/// Runs `nabla` with `args` in `dir`, checking that no terminal escape codes are printed.
pub fn nabla(dir: &TempDir, args: &[&str]) -> Output {
    nabla_with_env(dir, args, &[])
}

/// [`nabla`] with the environment variables `vars` set.
pub fn nabla_with_env(dir: &TempDir, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .envs(vars.iter().copied())
        .current_dir(&dir.0)
        .output()
        .unwrap();
    for stream in [&output.stdout, &output.stderr] {
        assert!(
            !stream.contains(&0x1b),
            "escape codes in {:?}",
            String::from_utf8_lossy(stream)
        );
    }
    output
}

/// Parses the JSON file at `path`.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Replaces `from` by `to` in the run's `config.json`, which must contain it.
pub fn edit_config(run: &Path, from: &str, to: &str) {
    let path = run.join("config.json");
    let config = std::fs::read_to_string(&path).unwrap();
    let edited = config.replace(from, to);
    assert_ne!(edited, config);
    std::fs::write(&path, edited).unwrap();
}
