//! Following a run's append-only log (`events.jsonl`, or `metrics.jsonl` of an older run) as
//! it grows: each poll hands back the complete lines appended since the last one, each with
//! the byte offset just past it and its line number. A partial last line is held back until
//! its newline arrives; blank lines are skipped. A malformed complete line, a file that shrank or was replaced, and a
//! deleted file or run folder are reported as problems; after a truncation or replacement the
//! file is read again from its start.

use serde::Deserialize;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most bytes read in one poll: a large backlog is sent in slices.
const READ_LIMIT: u64 = 8 << 20;

/// What a log holds, and so what each of its lines must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Log {
    /// `events.jsonl`: objects with a `"type"`, passed on as they are.
    Events,
    /// `metrics.jsonl`: one object per epoch with an `"epoch"`, passed on as `epoch` events.
    Metrics,
}

impl Log {
    pub fn file_name(self) -> &'static str {
        match self {
            Log::Events => crate::run_events::EVENTS,
            Log::Metrics => "metrics.jsonl",
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

/// A line of `events.jsonl` as the server checks it: an object with a string `"type"` (the
/// page reads the rest, ignoring what it does not know).
#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    _kind: String,
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
    /// Bytes of complete lines consumed.
    offset: u64,
    /// Complete lines consumed.
    lines: usize,
    /// Bytes read past `offset`: the start of a line whose newline has not arrived.
    pending: Vec<u8>,
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
            offset: from,
            lines: 0,
            pending: Vec::new(),
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
        let read_to = self.offset + self.pending.len() as u64;
        let replaced = self.identity.is_some_and(|id| id != identity);
        if self.file.is_none() || replaced || metadata.len() < read_to {
            if self.file.is_some() || metadata.len() < read_to {
                items.push(Item::Problem(format!(
                    "{} was {} (it holds {} bytes, {read_to} had been read); its lines are \
                     sent again from the start",
                    path.display(),
                    if replaced { "replaced" } else { "truncated" },
                    metadata.len()
                )));
                self.restart();
            }
            match self.open(&path, identity) {
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
        self.offset = 0;
        self.lines = 0;
        self.pending.clear();
    }

    /// Opens the file and counts the lines before the starting offset; an offset that is not
    /// at the end of a line gives a problem and a start from the beginning.
    fn open(&mut self, path: &Path, identity: (u64, u64)) -> std::io::Result<Option<String>> {
        let mut file = File::open(path)?;
        let mut problem = None;
        if self.offset > 0 {
            let mut counted = 0u64;
            let mut lines = 0usize;
            let mut last = b'\n';
            let mut buffer = vec![0u8; 64 << 10];
            while counted < self.offset {
                let want = buffer.len().min((self.offset - counted) as usize);
                let n = file.read(&mut buffer[..want])?;
                if n == 0 {
                    break;
                }
                lines += buffer[..n].iter().filter(|&&b| b == b'\n').count();
                last = buffer[n - 1];
                counted += n as u64;
            }
            if counted == self.offset && last == b'\n' {
                self.lines = lines;
            } else {
                problem = Some(format!(
                    "{}: the offset {} to resume from is not the end of a line (the file \
                     holds {counted} bytes up to there); its lines are sent from the start",
                    path.display(),
                    self.offset
                ));
                self.offset = 0;
                self.lines = 0;
            }
        }
        self.file = Some(file);
        self.identity = Some(identity);
        Ok(problem)
    }

    /// Reads what was appended, and turns its complete lines into items.
    fn read_new(&mut self, items: &mut Vec<Item>) -> std::io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        file.seek(SeekFrom::Start(self.offset + self.pending.len() as u64))?;
        file.take(READ_LIMIT).read_to_end(&mut self.pending)?;
        let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let complete: Vec<u8> = self.pending.drain(..=last_newline).collect();
        for line in complete.split_inclusive(|&b| b == b'\n') {
            self.offset += line.len() as u64;
            self.lines += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            // Blank lines are skipped, as `run_events::read_events` skips them.
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            items.push(match self.event(text) {
                Ok(event) => Item::Line {
                    event,
                    end: self.offset,
                },
                Err(message) => Item::Problem(message),
            });
        }
        Ok(())
    }

    /// A complete line as the event sent, or the problem naming its line.
    fn event(&self, line: &[u8]) -> Result<String, String> {
        let checked = match self.log {
            Log::Events => serde_json::from_slice::<Typed>(line).map(|_| ()),
            Log::Metrics => serde_json::from_slice::<Epoch>(line).map(|_| ()),
        };
        let malformed = |e: &dyn std::fmt::Display| {
            format!(
                "{} line {}: not {}: {e}",
                self.path().display(),
                self.lines,
                match self.log {
                    Log::Events => "an event (a JSON object with a \"type\")",
                    Log::Metrics => "an epoch's record (a JSON object with an \"epoch\")",
                }
            )
        };
        checked.map_err(|e| malformed(&e))?;
        // Valid JSON is UTF-8; a carriage return can only be whitespace between its tokens,
        // and would end the event's data line early.
        let text = String::from_utf8(line.to_vec()).map_err(|e| malformed(&e))?;
        let text = text.replace('\r', " ");
        Ok(match self.log {
            Log::Events => text,
            Log::Metrics => {
                let body = text.trim_start().strip_prefix('{').unwrap_or_default();
                format!("{{\"type\":\"epoch\",{body}")
            }
        })
    }
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
        append(&dir, "events.jsonl", "{\"type\":\"run\"}\n{\"type\":\"ep");
        let mut tail = Tail::new(&dir, Log::Events, 0);
        assert_eq!(tail.poll(), [line("{\"type\":\"run\"}", 15)]);
        assert_eq!(tail.poll(), []);
        append(&dir, "events.jsonl", "och\"}\r\n");
        assert_eq!(tail.poll(), [line("{\"type\":\"epoch\"}", 33)]);
        let mut resumed = Tail::new(&dir, Log::Events, 15);
        assert_eq!(resumed.poll(), [line("{\"type\":\"epoch\"}", 33)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_lines_are_named_by_number_and_reading_goes_on() {
        let dir = folder("malformed");
        append(
            &dir,
            "events.jsonl",
            "{\"type\":\"run\"}\n[1]\n{\"type\":\"end\"}\n",
        );
        let items = Tail::new(&dir, Log::Events, 0).poll();
        assert_eq!(items.len(), 3);
        let Item::Problem(message) = &items[1] else {
            panic!("{items:?}")
        };
        assert!(
            message.contains("events.jsonl line 2: not an event"),
            "{message}"
        );
        assert_eq!(items[2], line("{\"type\":\"end\"}", 34));
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
        append(&dir, "events.jsonl", "{\"type\":\"run\"}\n");
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
        std::fs::remove_dir_all(&dir).unwrap();
        let items = tail.poll();
        assert!(
            matches!(&items[..], [Item::Problem(m)] if m.contains("run folder") && m.contains("deleted")),
            "{items:?}"
        );
        assert_eq!(tail.poll(), []);
    }
}
