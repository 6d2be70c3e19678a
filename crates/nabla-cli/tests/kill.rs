//! The kill test: `nabla train` killed at many moments of a run (mid-epoch, inside and between
//! the writes of a checkpoint, before the first checkpoint, even before its folder exists), then
//! resumed until it completes, must end with the very bytes of an uninterrupted run. The test
//! hook `NABLA_TEST_ABORT_AT` reaches every named moment of a checkpoint write; SIGKILLs at
//! moments spread over the run's duration reach the rest. Its event log must give a reader the
//! same epochs as its metrics.

mod common;

use common::{DARK, TempDir, write_mnist_sized};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Moments before an epoch's checkpoint lands: a kill there makes the resume redo the epoch.
const BEFORE_COMMIT: [&str; 4] = [
    "mid-epoch",
    "metrics",
    "checkpoint-partial",
    "checkpoint-written",
];

/// Moments after it: a kill there makes the resume start at the next epoch.
const AFTER_COMMIT: [&str; 5] = [
    "checkpoint-renamed",
    "model-partial",
    "model-written",
    "model-renamed",
    "epoch-end",
];

const EPOCHS: usize = 3;

/// Timed kills, spread evenly over the duration of an uninterrupted run.
const TIMED_KILLS: usize = 12;

struct Setup {
    dir: TempDir,
    data: String,
}

impl Setup {
    /// `nabla --threads 2 train` of a small run with dropout into `out`, or resuming it.
    fn command(&self, out: &str, resume: bool) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nabla"));
        command
            .current_dir(self.dir.root())
            .args(["--threads", "2", "train", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if resume {
            command.args(["--resume", out]);
        } else {
            let epochs = EPOCHS.to_string();
            command.args(["--data", &self.data, "--out", out, "--epochs", &epochs]);
            command.args(["--hidden", "32", "--batch-size", "50", "--dropout", "0.3"]);
            command.args(["--lr", "0.003", "--seed", "5"]);
        }
        command
    }

    /// Starts or resumes the run in `out`: resumes it once its `config.json` exists.
    fn continue_run(&self, out: &str) -> Command {
        let started = self.dir.path(out).join("config.json").exists();
        self.command(&self.dir.arg(out), started)
    }

    /// Continues `out` to its end, which must succeed.
    fn finish(&self, out: &str) {
        check_success(self.continue_run(out).output().unwrap(), out);
    }
}

fn check_success(output: Output, out: &str) {
    assert!(
        output.status.success(),
        "{out}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The files a finished run must hold with the uninterrupted run's bytes, and its metrics
/// without the timings.
fn outcome(run: &Path) -> (Vec<Vec<u8>>, Vec<serde_json::Value>) {
    let files = ["checkpoint.safetensors", "model.safetensors"]
        .iter()
        .map(|f| std::fs::read(run.join(f)).unwrap())
        .collect();
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut m: serde_json::Value = serde_json::from_str(line).unwrap();
            let fields = m.as_object_mut().unwrap();
            fields.remove("seconds");
            fields.remove("samples_per_second");
            m
        })
        .collect();
    (files, metrics)
}

/// The `epoch` events of `events.jsonl` a reader keeps, without the timings: complete lines
/// only, and a `resume` after epoch k drops the events of later epochs written before it.
fn logged_epochs(run: &Path) -> Vec<serde_json::Value> {
    let log = std::fs::read_to_string(run.join("events.jsonl")).unwrap();
    assert!(
        log.ends_with('\n'),
        "{}: a partial last line",
        run.display()
    );
    let mut epochs: Vec<serde_json::Value> = Vec::new();
    for line in log.lines() {
        let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
        let fields = event.as_object_mut().unwrap();
        match fields["type"].as_str().unwrap() {
            "resume" => {
                let k = fields["epoch"].as_u64().unwrap();
                epochs.retain(|m| m["epoch"].as_u64().unwrap() <= k);
            }
            "epoch" => {
                for field in ["type", "seconds", "samples_per_second"] {
                    fields.remove(field);
                }
                epochs.push(event);
            }
            _ => {}
        }
    }
    epochs
}

fn assert_same_as(reference: &(Vec<Vec<u8>>, Vec<serde_json::Value>), run: &Path) {
    let (files, metrics) = outcome(run);
    assert_eq!(
        logged_epochs(run),
        metrics,
        "{}: events.jsonl",
        run.display()
    );
    assert!(
        files == reference.0,
        "{}: the final checkpoint differs",
        run.display()
    );
    assert_eq!(metrics, reference.1, "{}", run.display());
    let leftovers: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_run_killed_anywhere_resumes_to_the_bytes_of_an_uninterrupted_run() {
    let dir = TempDir::new("kill");
    let data = write_mnist_sized(&dir, "mnist", DARK, 2000, 200)
        .display()
        .to_string();
    let setup = Setup { dir, data };

    let start = Instant::now();
    setup.finish("straight");
    let duration = start.elapsed();
    let reference = outcome(&setup.dir.path("straight"));
    assert_eq!(reference.1.len(), EPOCHS);
    let mut kills = 0;

    // Chain k is killed, for every epoch, at the k-th moment after the commit; chain 0 also at
    // every moment before it. Each process after a kill resumes the folder and is killed again.
    for (k, _) in AFTER_COMMIT.iter().enumerate() {
        let out = format!("hooked-{k}");
        for epoch in 1..=EPOCHS {
            let before: &[&str] = if k == 0 { &BEFORE_COMMIT } else { &[] };
            let after = AFTER_COMMIT[(k + epoch) % AFTER_COMMIT.len()];
            for point in before.iter().chain([&after]) {
                let at = format!("{point}@{epoch}");
                let output = setup
                    .continue_run(&out)
                    .env("NABLA_TEST_ABORT_AT", &at)
                    .output()
                    .unwrap();
                assert_eq!(output.status.code(), None, "{out} at {at}: {output:?}");
                kills += 1;
            }
        }
        setup.finish(&out);
        assert_same_as(&reference, &setup.dir.path(&out));
    }

    // SIGKILLs at moments spread over the run, from its first instants on.
    for i in 0..TIMED_KILLS {
        let out = format!("timed-{i}");
        let delay = duration.mul_f64(0.9 * (i as f64 + 0.5) / TIMED_KILLS as f64);
        let mut child = setup.continue_run(&out).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        setup.finish(&out);
        assert_same_as(&reference, &setup.dir.path(&out));
    }
    println!("{kills} kills, every resumed run bit-identical to the uninterrupted one");
    // Timed kills land unless the machine sped up since the uninterrupted run was timed.
    assert!(kills > 27, "no timed kill landed");
}
