//! `GET /api/runs/<id>/events`: a run's log as server-sent events. Each complete line is one
//! event, `id:` the byte offset just past it, so a browser that reconnects (`Last-Event-ID`)
//! or a page that asks `?from=` continues where it was. New lines are polled for every
//! [`POLL`]; a `: keep-alive` comment goes out after [`KEEP_ALIVE`] of silence. Problems are
//! `problem` events: `{"message": "..."}`. An older run's `metrics.jsonl` is sent as a
//! synthesised `run` event (without an `id`) then one `epoch` event per line.

use super::runs::{self, Run};
use super::tail::{Item, Log, Tail};
use std::io::Write;
use std::time::{Duration, Instant};

/// How often the log is checked for new lines.
pub const POLL: Duration = Duration::from_millis(200);
/// The longest silence before a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The response head of an event stream: the connection is the stream's alone.
const HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: \
                    no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";

/// Streams `run`'s log to `out` from the byte offset `from` until the client goes away (a
/// write fails).
pub fn stream(out: &mut dyn Write, run: &Run, from: u64) -> std::io::Result<()> {
    out.write_all(HEAD.as_bytes())?;
    out.write_all(b"retry: 1000\n\n")?;
    out.flush()?;
    let mut said = Instant::now();
    // A run about to be written (`nabla train --view`) has no log yet: wait for one.
    let mut waited_problem: Option<String> = None;
    let log = loop {
        if let Some(log) = runs::log(&run.path) {
            break log;
        }
        if run.existed {
            let message = match run.path.is_dir() {
                true => format!(
                    "{} no longer holds events.jsonl or metrics.jsonl",
                    run.path.display()
                ),
                false => format!(
                    "the run folder {} was deleted while it was served",
                    run.path.display()
                ),
            };
            if waited_problem.as_ref() != Some(&message) {
                problem(out, &message)?;
                waited_problem = Some(message);
                said = Instant::now();
            }
        }
        said = keep_alive(out, said)?;
        std::thread::sleep(POLL);
    };
    if log == Log::Metrics && from == 0 {
        event(out, &runs::synthesised_run_event(run), None)?;
    }
    let mut tail = Tail::new(&run.path, log, from);
    loop {
        let items = tail.poll();
        let mut lines = false;
        for item in &items {
            match item {
                Item::Line { event: line, end } => {
                    event(out, line, Some(*end))?;
                    lines = true;
                }
                Item::Problem(message) => problem(out, message)?,
            }
        }
        if !items.is_empty() {
            out.flush()?;
            said = Instant::now();
        }
        // After lines more may be waiting (a backlog is read in slices): poll again at once.
        if !lines {
            said = keep_alive(out, said)?;
            std::thread::sleep(POLL);
        }
    }
}

/// One event: `id:` (when given) and the line as its data.
fn event(out: &mut dyn Write, data: &str, id: Option<u64>) -> std::io::Result<()> {
    if let Some(id) = id {
        writeln!(out, "id: {id}")?;
    }
    write!(out, "data: {data}\n\n")
}

/// A `problem` event, sent at once.
fn problem(out: &mut dyn Write, message: &str) -> std::io::Result<()> {
    let data = serde_json::json!({ "message": message });
    write!(out, "event: problem\ndata: {data}\n\n")?;
    out.flush()
}

/// Sends a keep-alive comment when nothing was sent since `said` for [`KEEP_ALIVE`]; returns
/// the time something was last sent.
fn keep_alive(out: &mut dyn Write, said: Instant) -> std::io::Result<Instant> {
    if said.elapsed() < KEEP_ALIVE {
        return Ok(said);
    }
    out.write_all(b": keep-alive\n\n")?;
    out.flush()?;
    Ok(Instant::now())
}
