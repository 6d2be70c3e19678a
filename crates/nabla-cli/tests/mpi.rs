//! `mpiexec -n 2 nabla train` (feature `mpi`, MPICH's `mpiexec` on the PATH): rank 0 alone
//! writes the run folder and prints, `--resume` continues to the weights of an uninterrupted
//! run, and faults end the job with a message naming the rank: a killed rank, a missing data
//! file on one rank, mismatched settings.

mod common;

use common::TempDir;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TRAIN: [&str; 9] = [
    "train",
    "--data",
    "moons",
    "--hidden",
    "8",
    "--batch-size",
    "32",
    "--seed",
    "3",
];

/// `mpiexec` running `nabla` with `args` on each of the `ranks` (one list of args per rank).
fn mpiexec(dir: &Path, ranks: &[Vec<String>]) -> Command {
    mpiexec_env(dir, ranks, &[])
}

/// [`mpiexec`] with environment variables `(rank, name, value)` for single ranks.
fn mpiexec_env(dir: &Path, ranks: &[Vec<String>], env: &[(usize, &str, &str)]) -> Command {
    let mut cmd = Command::new("mpiexec");
    for (i, args) in ranks.iter().enumerate() {
        if i > 0 {
            cmd.arg(":");
        }
        cmd.args(["-n", "1"]);
        for (_, name, value) in env.iter().filter(|(rank, _, _)| *rank == i) {
            cmd.args(["-env", name, value]);
        }
        cmd.arg(env!("CARGO_BIN_EXE_nabla")).args(args);
    }
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn args(extra: &[&str]) -> Vec<String> {
    TRAIN.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn both(dir: &Path, extra: &[&str]) -> Output {
    let a = args(extra);
    mpiexec(dir, &[a.clone(), a]).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `metrics.jsonl` without the timings.
fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = v.as_object_mut().unwrap();
            m.remove("seconds");
            m.remove("samples_per_second");
            v
        })
        .collect()
}

#[test]
fn rank_0_alone_writes_and_prints_and_a_resume_equals_an_uninterrupted_run() {
    let dir = TempDir::new("mpi-resume");
    let whole = both(dir.root(), &["--epochs", "3", "--out", "whole"]);
    let log = text(&whole);
    assert!(whole.status.success(), "{log}");
    assert_eq!(
        log.matches("data-parallel training on 2 ranks").count(),
        1,
        "{log}"
    );
    for epoch in 1..=3 {
        assert_eq!(
            log.matches(&format!("epoch  {epoch}/3")).count(),
            1,
            "{log}"
        );
    }
    // Rank 0 dies after epoch 2's checkpoint (as a kill would); rank 1 is ended with it.
    let a = args(&["--epochs", "3", "--out", "split"]);
    let killed = mpiexec_env(
        dir.root(),
        &[a.clone(), a],
        &[(0, "NABLA_TEST_ABORT_AT", "epoch-end@2")],
    )
    .output()
    .unwrap();
    assert!(!killed.status.success(), "{}", text(&killed));
    let resumed = {
        let a: Vec<String> = ["train", "--resume", "split"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        mpiexec(dir.root(), &[a.clone(), a]).output().unwrap()
    };
    let log = text(&resumed);
    assert!(resumed.status.success(), "{log}");
    assert!(
        log.contains("epoch  3/3") && !log.contains("epoch  2/3"),
        "{log}"
    );
    let read = |run: &str| std::fs::read(dir.path(run).join("model.safetensors")).unwrap();
    assert!(read("whole") == read("split"), "the resumed weights differ");
    assert_eq!(metrics(&dir.path("whole")), metrics(&dir.path("split")));
    let resumes = std::fs::read_to_string(dir.path("split").join("resumes.jsonl")).unwrap();
    assert!(resumes.contains("\"ranks\":2"), "{resumes}");
}

#[test]
fn a_killed_rank_ends_the_job_within_seconds_naming_its_pid_and_rank() {
    let dir = TempDir::new("mpi-kill");
    let a = args(&["--epochs", "100000", "--quiet", "--out", "run"]);
    let mut child = mpiexec(dir.root(), &[a.clone(), a])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut roll = String::new();
    stdout.read_line(&mut roll).unwrap();
    // "... 0 (pid 4242 on host), 1 (pid 4243 on host)"
    let pid = roll
        .split("1 (pid ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no PID of rank 1 in {roll:?}"))
        .to_string();
    std::thread::sleep(Duration::from_millis(500));
    let killed = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Hydra reports the death on stdout.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    let waited = killed.elapsed();
    let log = format!("{roll}{rest}{}", text(&out));
    assert!(!out.status.success(), "{log}");
    assert!(waited < Duration::from_secs(30), "took {waited:?}: {log}");
    assert!(
        log.contains(&format!("PID {pid} ")) && log.contains("Killed (signal 9)"),
        "{log}"
    );
}

#[test]
fn a_data_file_missing_on_one_rank_stops_both_naming_the_rank() {
    let dir = TempDir::new("mpi-missing");
    for host in ["a", "b"] {
        std::fs::create_dir_all(dir.path(host)).unwrap();
    }
    let rows: String = (0..40).map(|i| format!("{i},{}\n", i % 2)).collect();
    std::fs::write(dir.path("a").join("t.csv"), format!("x,y\n{rows}")).unwrap();
    let out_dir = dir.arg("run");
    let a: Vec<String> = [
        "train", "--data", "t.csv", "--target", "y", "--epochs", "1", "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out_dir])
    .collect();
    let mut cmd = Command::new("mpiexec");
    for (host, i) in [("a", 0), ("b", 1)] {
        if i > 0 {
            cmd.arg(":");
        }
        cmd.args([
            "-n",
            "1",
            "-wdir",
            &dir.arg(host),
            env!("CARGO_BIN_EXE_nabla"),
        ])
        .args(&a);
    }
    let out = cmd.output().unwrap();
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("error: rank 1 of 2: t.csv"), "{log}");
    assert!(
        log.contains("error: rank 1 of 2 failed (its error is reported by that rank)"),
        "{log}"
    );
    assert!(!dir.path("run").join("metrics.jsonl").exists(), "{log}");
}

#[test]
fn ranks_with_different_seeds_are_refused_before_training() {
    let dir = TempDir::new("mpi-seed");
    let a = args(&["--epochs", "1", "--out", "run"]);
    let mut b = a.clone();
    b[8] = "4".to_string();
    let out = mpiexec(dir.root(), &[a, b]).output().unwrap();
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains(
            "error: rank 0 of 2: distributed training: rank 1 of 2 differs from rank 0 in the \
             settings (command-line flags)"
        ),
        "{log}"
    );
    assert_eq!(log.matches("error:").count(), 1, "{log}");
    assert!(!dir.path("run").join("metrics.jsonl").exists(), "{log}");
}
