//! Following a run's append-only log (`events.jsonl`, or `metrics.jsonl` of an older run) as
//! it grows: each poll hands back the complete lines appended since the last one, each with
//! the byte offset just past it, split by [`LineReader`] as every reader of the log splits it
//! (a partial last line held back until its newline arrives, a line over 16 MiB skipped).
//! Blank lines are skipped. A malformed complete line (checked as `nabla train --resume`
//! checks it), a file that shrank or was replaced, and a deleted file or run folder are
//! reported as problems; after a truncation or replacement the file is read again from its
//! start.

use crate::run_events::{Line, LineReader, RunEvent};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most bytes read in one poll: a large backlog is sent in slices.
const READ_LIMIT: u64 = 1 << 20;

/// What a log holds, and so what each of its lines must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Log {
    /// `events.jsonl`: events, passed on as they are.
    Events,
    /// `metrics.jsonl`: one object per epoch with an `"epoch"`, passed on as `epoch` events.
    Metrics,
}

impl Log {
    pub fn file_name(self) -> &'static str {
        match self {
            Log::Events => crate::run_events::EVENTS,
            Log::Metrics => crate::commands::train::run_folder::METRICS,
        }
    }
}

/// One thing a poll found.
#[derive(Debug, PartialEq)]
pub enum Item {
    /// A complete, well-formed line (as an event: a metrics line is given its `"type"`) and
    /// the byte offset just past its newline.
    Line { event: String, end: u64 },
    /// Something the reader should be told about.
    Problem(String),
}

/// A line of `metrics.jsonl`: an object with an `"epoch"`.
#[derive(Deserialize)]
struct Epoch {
    #[serde(rename = "epoch")]
    _epoch: u64,
}

/// The follower of one log file.
pub struct Tail {
    log: Log,
    folder: PathBuf,
    file: Option<File>,
    /// The file's identity (device and inode) when it was opened, to notice a replacement.
    identity: Option<(u64, u64)>,
    /// The lines read so far.
    reader: LineReader,
    /// Whether `reader` counts lines from the start of the file (not from an offset resumed
    /// from, whose lines are counted only when a problem must name one).
    from_start: bool,
    /// The problem already reported for a missing file or folder, so it is said once.
    missing: Option<String>,
}

impl Tail {
    /// Follows `log` of the run in `folder` from the byte offset `from` (0: the start). An
    /// offset that is not the end of a line is reported at the first poll, and the file is
    /// read from its start.
    pub fn new(folder: &Path, log: Log, from: u64) -> Tail {
        Tail {
            log,
            folder: folder.to_path_buf(),
            file: None,
            identity: None,
            reader: LineReader::new(from),
            from_start: from == 0,
            missing: None,
        }
    }

    fn path(&self) -> PathBuf {
        self.folder.join(self.log.file_name())
    }

    /// The lines appended since the last poll, and any problem met.
    pub fn poll(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        let path = self.path();
        let metadata = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(_) => {
                let message = if self.folder.is_dir() {
                    format!("{} was deleted while it was served", path.display())
                } else {
                    format!(
                        "the run folder {} was deleted while it was served",
                        self.folder.display()
                    )
                };
                if self.missing.as_ref() != Some(&message) {
                    items.push(Item::Problem(message.clone()));
                    self.missing = Some(message);
                }
                return items;
            }
        };
        self.missing = None;
        let identity = identity(&metadata);
        let read_to = self.reader.read();
        let replaced = self.identity.is_some_and(|id| id != identity);
        if self.file.is_none() || replaced || metadata.len() < read_to {
            if self.file.is_some() {
                items.push(Item::Problem(format!(
                    "{} was {} (it holds {} bytes, {read_to} had been read); its lines are \
                     sent again from the start",
                    path.display(),
                    if replaced { "replaced" } else { "truncated" },
                    metadata.len()
                )));
                self.restart();
            }
            match self.open(&path, identity, metadata.len()) {
                Ok(Some(problem)) => items.push(Item::Problem(problem)),
                Ok(None) => {}
                Err(e) => {
                    items.push(Item::Problem(format!("{}: {e}", path.display())));
                    return items;
                }
            }
        }
        if let Err(e) = self.read_new(&mut items) {
            items.push(Item::Problem(format!("{}: {e}", path.display())));
        }
        items
    }

    fn restart(&mut self) {
        self.file = None;
        self.identity = None;
        self.reader = LineReader::new(0);
        self.from_start = true;
    }

    /// Opens the file and checks that the starting offset ends a line (the byte before it is a
    /// newline); one that does not gives a problem and a start from the beginning.
    fn open(
        &mut self,
        path: &Path,
        identity: (u64, u64),
        length: u64,
    ) -> std::io::Result<Option<String>> {
        let mut file = File::open(path)?;
        let mut problem = None;
        let offset = self.reader.read();
        if offset > 0 {
            let why = if offset > length {
                Some(format!("is beyond the end of the file ({length} bytes)"))
            } else {
                let mut last = [0u8];
                file.seek(SeekFrom::Start(offset - 1))?;
                file.read_exact(&mut last)?;
                (last[0] != b'\n').then(|| "is not the end of a line".to_string())
            };
            if let Some(why) = why {
                problem = Some(format!(
                    "{}: the offset {offset} to resume from {why}; its lines are sent from the \
                     start",
                    path.display(),
                ));
                self.reader = LineReader::new(0);
                self.from_start = true;
            }
        }
        self.file = Some(file);
        self.identity = Some(identity);
        Ok(problem)
    }

    /// Reads what was appended (at most [`READ_LIMIT`] bytes), and turns its complete lines
    /// into items.
    fn read_new(&mut self, items: &mut Vec<Item>) -> std::io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        file.seek(SeekFrom::Start(self.reader.read()))?;
        // Read afresh each poll, so a follower waiting for lines holds no buffer.
        let mut bytes = Vec::new();
        file.take(READ_LIMIT).read_to_end(&mut bytes)?;
        // Problems are placed in order and worded after the reading, which may need the file
        // again to number their lines.
        let mut bad = Vec::new();
        let (log, path) = (self.log, self.folder.join(self.log.file_name()));
        self.reader.feed(&bytes, |line| {
            let (number, end, problem) = match line {
                Line::TooLong { number, end } => (number, end, None),
                Line::Whole { bytes, .. } if bytes.iter().all(u8::is_ascii_whitespace) => return,
                Line::Whole { number, end, bytes } => {
                    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                    match event(log, bytes) {
                        Ok(event) => return items.push(Item::Line { event, end }),
                        Err(message) => (number, end, Some(message)),
                    }
                }
            };
            bad.push((items.len(), number, end, problem));
            items.push(Item::Problem(String::new()));
        });
        for (at, number, end, problem) in bad {
            let number = match self.from_start {
                true => number,
                false => count_lines(&path, end).unwrap_or(number),
            };
            items[at] = Item::Problem(match problem {
                Some(message) => format!(
                    "{} line {number}: not {}: {message}",
                    path.display(),
                    match log {
                        Log::Events => "an event",
                        Log::Metrics => "an epoch's record (a JSON object with an \"epoch\")",
                    }
                ),
                None => format!("{} {}", path.display(), Line::too_long(number)),
            });
        }
        Ok(())
    }
}

/// The newlines of `path` up to the byte offset `end`, read through a buffer.
pub fn count_lines(path: &Path, end: u64) -> std::io::Result<usize> {
    let mut reader = BufReader::new(File::open(path)?.take(end));
    let mut lines = 0;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(lines);
        }
        lines += buffer.iter().filter(|&&b| b == b'\n').count();
        let n = buffer.len();
        reader.consume(n);
    }
}

/// A complete line as the event sent, or what is wrong with it.
fn event(log: Log, line: &[u8]) -> Result<String, String> {
    match log {
        Log::Events => serde_json::from_slice::<RunEvent>(line).map(|_| ()),
        Log::Metrics => serde_json::from_slice::<Epoch>(line).map(|_| ()),
    }
    .map_err(|e| e.to_string())?;
    // Valid JSON is UTF-8; a carriage return can only be whitespace between its tokens,
    // and would end the event's data line early.
    let text = std::str::from_utf8(line).map_err(|e| e.to_string())?;
    let text = text.replace('\r', " ");
    Ok(match log {
        Log::Events => text,
        Log::Metrics => {
            let body = text.trim_start().strip_prefix('{').unwrap_or_default();
            format!("{{\"type\":\"epoch\",{body}")
        }
    })
}

/// The device and inode of a file (where there are none, every file is the same).
#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
fn identity(_metadata: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nabla-tail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn append(dir: &Path, name: &str, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn line(event: &str, end: u64) -> Item {
        Item::Line {
            event: event.to_string(),
            end,
        }
    }

    #[test]
    fn complete_lines_with_their_offsets_and_a_partial_one_held_back() {
        let dir = folder("partial");
        append(&dir, "events.jsonl", "{\"type\":\"rux\"}\n{\"type\":\"ep");
        let mut tail = Tail::new(&dir, Log::Events, 0);
        assert_eq!(tail.poll(), [line("{\"type\":\"rux\"}", 15)]);
        assert_eq!(tail.poll(), []);
        append(&dir, "events.jsonl", "oxy\"}\r\n");
        assert_eq!(tail.poll(), [line("{\"type\":\"epoxy\"}", 33)]);
        let mut resumed = Tail::new(&dir, Log::Events, 15);
        assert_eq!(resumed.poll(), [line("{\"type\":\"epoxy\"}", 33)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_lines_are_named_by_number_and_reading_goes_on() {
        let dir = folder("malformed");
        append(
            &dir,
            "events.jsonl",
            "{\"type\":\"rux\"}\n[1]\n{\"type\":\"enx\"}\n{\"type\":\"steps\",\"epoch\":1}\n",
        );
        let items = Tail::new(&dir, Log::Events, 0).poll();
        assert_eq!(items.len(), 4);
        let Item::Problem(message) = &items[3] else {
            panic!("{items:?}")
        };
        assert!(
            message.contains("events.jsonl line 4: not an event: missing field `first_step`"),
            "{message}"
        );
        let resumed = Tail::new(&dir, Log::Events, 34).poll();
        assert!(
            matches!(&resumed[..], [Item::Problem(m)] if m.contains("line 4: not an event")),
            "{resumed:?}"
        );
        let Item::Problem(message) = &items[1] else {
            panic!("{items:?}")
        };
        assert!(
            message.contains("events.jsonl line 2: not an event"),
            "{message}"
        );
        assert_eq!(items[2], line("{\"type\":\"enx\"}", 34));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_line_over_16_mib_is_a_problem_and_reading_goes_on_after_it() {
        let dir = folder("long");
        let long = "x".repeat(crate::run_events::MAX_LINE + 1);
        append(
            &dir,
            "events.jsonl",
            &format!("{long}\n{{\"type\":\"a\"}}\n"),
        );
        let mut tail = Tail::new(&dir, Log::Events, 0);
        let items: Vec<Item> = (0..20).flat_map(|_| tail.poll()).collect();
        let end = long.len() as u64 + 1;
        assert!(
            matches!(&items[0], Item::Problem(m) if m.ends_with("events.jsonl line 1 is over 16 MiB")),
            "{:?}",
            items[0]
        );
        assert_eq!(items[1..], [line("{\"type\":\"a\"}", end + 13)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metrics_lines_become_epoch_events() {
        let dir = folder("metrics");
        append(&dir, "metrics.jsonl", "{\"epoch\":1,\"train_loss\":0.5}\n");
        let items = Tail::new(&dir, Log::Metrics, 0).poll();
        assert_eq!(
            items,
            [line(
                "{\"type\":\"epoch\",\"epoch\":1,\"train_loss\":0.5}",
                29
            )]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncation_a_bad_offset_and_deletion_are_problems() {
        let dir = folder("problems");
        append(&dir, "events.jsonl", "{\"type\":\"rux\"}\n");
        let mut tail = Tail::new(&dir, Log::Events, 0);
        assert_eq!(tail.poll().len(), 1);
        std::fs::write(dir.join("events.jsonl"), "{\"type\":\"a\"}\n").unwrap();
        let items = tail.poll();
        assert!(
            matches!(&items[0], Item::Problem(m) if m.contains("truncated")),
            "{items:?}"
        );
        assert_eq!(items[1], line("{\"type\":\"a\"}", 13));
        let items = Tail::new(&dir, Log::Events, 5).poll();
        assert!(matches!(&items[0], Item::Problem(m) if m.contains("not the end of a line")));
        assert_eq!(items[1], line("{\"type\":\"a\"}", 13));
        let items = Tail::new(&dir, Log::Events, 99).poll();
        assert!(
            matches!(&items[0], Item::Problem(m) if m.contains("the offset 99 to resume from is beyond the end of the file (13 bytes)")),
            "{items:?}"
        );
        assert_eq!(items[1], line("{\"type\":\"a\"}", 13));
        std::fs::remove_dir_all(&dir).unwrap();
        let items = tail.poll();
        assert!(
            matches!(&items[..], [Item::Problem(m)] if m.contains("run folder") && m.contains("deleted")),
            "{items:?}"
        );
        assert_eq!(tail.poll(), []);
    }
}
