//! `--threads`: counts outside 1 to 1024, and a count the operating system refuses, end in one
//! line on stderr and exit status 1, never a panic.

use std::process::{Command, Output};

/// stderr of a run that must fail with exit status 1 and print nothing on stdout.
fn failure(out: Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn grad_with_threads(threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(["--threads", threads, "grad", "x*x", "--at", "x=1"])
        .output()
        .expect("the nabla binary runs")
}

#[test]
fn zero_threads_is_refused() {
    assert_eq!(
        failure(grad_with_threads("0")),
        "error: --threads 0: set_num_threads: the thread count must be from 1 to 1024, got 0\n"
    );
}

#[test]
fn a_hundred_thousand_threads_are_refused_before_any_starts() {
    assert_eq!(
        failure(grad_with_threads("100000")),
        "error: --threads 100000: set_num_threads: the thread count must be from 1 to 1024, got \
         100000\n"
    );
}

#[test]
fn a_count_in_range_runs() {
    let out = grad_with_threads("2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Under a 600 MB address-space limit the helpers' stacks run out long before 1024 threads:
/// the refusal is reported, with how many threads did start.
#[cfg(target_os = "linux")]
#[test]
fn threads_the_operating_system_refuses_are_an_error() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 600000 && exec '{}' --threads 1024 grad 'x*x' --at x=1",
            env!("CARGO_BIN_EXE_nabla")
        ))
        .output()
        .expect("sh runs");
    let stderr = failure(out);
    assert!(
        stderr.starts_with(
            "error: --threads 1024: set_num_threads: the operating system refused kernel thread "
        ) && stderr.contains(" of 1024 (")
            && stderr.contains("); kernels run with "),
        "{stderr}"
    );
}
