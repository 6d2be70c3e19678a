//! `events.jsonl` as `nabla train` leaves it: a run stopped with Ctrl-C ends its log with
//! `interrupted` before it ends as Ctrl-C always ended it, and resumes as before.

mod common;

use common::{DARK, TempDir, write_mnist_sized};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The types of the log's lines.
fn types(log: &str) -> Vec<String> {
    log.lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            event["type"].as_str().unwrap().to_string()
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_the_log_with_interrupted_and_the_run_resumes() {
    use std::os::unix::process::ExitStatusExt;
    let dir = TempDir::new("interrupt");
    let data = write_mnist_sized(&dir, "mnist", DARK, 2000, 100)
        .display()
        .to_string();
    let run = dir.arg("run");
    let args = [
        "train",
        "--quiet",
        "--data",
        &data,
        "--out",
        &run,
        "--hidden",
        "16",
        "--batch-size",
        "4",
        "--epochs",
        "3",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the first steps are logged, the run is training.
    let log = dir.path("run/events.jsonl");
    let started = Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("\"type\":\"steps\"")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no steps logged"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sends SIGINT to the child started above, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let end: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["status"], "interrupted");
    // The epoch in progress when Ctrl-C came is the one after the last completed.
    let epoch = end["epoch"].as_u64().unwrap();
    let message = end["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "interrupted (Ctrl-C) at epoch {}, step ",
            epoch + 1
        )),
        "{message}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(["train", "--quiet", "--resume", &run])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let types = types(&text);
    let resume = types.iter().position(|t| t == "resume").unwrap();
    assert_eq!(types[resume - 1], "end");
    assert_eq!(types.iter().filter(|t| *t == "epoch").count(), 3);
    assert_eq!(types.last().unwrap(), "end");
    assert!(text.ends_with("\n"));
}
