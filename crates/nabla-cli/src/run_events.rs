//! The events of a run folder's `events.jsonl`, the append-only log every `nabla train` run
//! writes and `nabla view` follows (docs/events.md is the schema for users). One JSON object a
//! line, each with a `"type"`: `run` first, `resume` where a resumed run starts, `epoch` (the
//! fields of `metrics.jsonl`), `steps` (per-step losses and gradient norms), `probe`
//! (histograms per layer), `graph` (one batch's graph and chain rule), `boundary` (2-D
//! classifiers), `filters` and `feature_maps` (convolutional networks), and `end`.
//!
//! [`LineReader`] splits the log into lines as its bytes arrive, for every reader of it (the
//! resume, `nabla view`'s tail); [`read_events`] reads the log as a writer may have left it:
//! whole lines and at most one partial last line, which it leaves for later; [`current`]
//! applies the resume rule. Numbers that are NaN or infinite are written as `null` and read
//! back as NaN.

use crate::commands::train::EpochMetrics;
use nabla_inspect::diagnostics::LayerInfo;
use serde::{Deserialize, Deserializer, Serialize};

/// The log's file name in a run folder.
pub const EVENTS: &str = "events.jsonl";
/// The version of the log's format, in the `run` event.
pub const FORMAT: u32 = 1;

/// One line of `events.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEvent {
    Run(RunStart),
    Resume(Resume),
    Epoch(EpochMetrics),
    Steps(Steps),
    Probe(Probe),
    Graph(GraphEvent),
    Boundary(Boundary),
    Filters(Filters),
    FeatureMaps(FeatureMaps),
    End(End),
    /// A type this version does not know (a later one wrote it): skipped by readers.
    #[serde(other)]
    Unknown,
}

/// The `run` event: what the run is, before anything else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    pub format: u32,
    /// The run folder's name, `train-3`.
    pub name: String,
    /// Unix time in seconds.
    pub started: f64,
    /// `classification` or `regression`.
    pub task: String,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub batch_size: usize,
    #[serde(default)]
    pub layers: Vec<LayerInfo>,
    /// The class names of a classifier.
    pub classes: Option<Vec<String>>,
    /// The gradient alarm's bounds on the ratio of the first layer's gradient norm to the last
    /// layer's (`gradient_alarm`): gradients vanish below the one and explode above the other.
    pub vanishing_below: f64,
    pub exploding_above: f64,
    /// What the two bounds apply to: `first_over_last`.
    pub gradient_alarm: String,
    /// The run's `config.json`.
    pub config: serde_json::Value,
}

/// The `resume` event: the run continues after epoch `epoch`, up to `epochs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub epoch: usize,
    pub started: f64,
    #[serde(default)]
    pub epochs: Option<usize>,
}

/// The `steps` event: steps `first_step..first_step + loss.len()` (1-based within `epoch`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Steps {
    pub epoch: usize,
    pub first_step: usize,
    /// Each step's training loss.
    #[serde(deserialize_with = "nan_for_null")]
    pub loss: Vec<f64>,
    /// Each step's gradient norm per layer with parameters, in the order of the `run` event's
    /// layers that have them.
    #[serde(deserialize_with = "nan_for_null_rows")]
    pub grad_norms: Vec<Vec<f64>>,
}

/// The `probe` event: nabla-inspect's `EpochSnapshot` of the probe batch after `epoch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub epoch: usize,
    pub snapshot: serde_json::Value,
}

/// The `graph` event: the graph of one small batch's loss as an SVG whose node groups carry
/// `data-step`, and nabla-inspect's `Explanation` of its backward pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphEvent {
    pub epoch: usize,
    pub svg: String,
    pub explanation: serde_json::Value,
}

/// The `boundary` event: a 2-D classifier's predicted class and its probability over a
/// `side`×`side` grid of `x`×`y`, row by row from `y[0]`, with the training points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Boundary {
    pub epoch: usize,
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub side: usize,
    pub classes: Vec<usize>,
    #[serde(deserialize_with = "nan_for_null")]
    pub confidence: Vec<f32>,
    pub points: Points,
}

/// Points by column: coordinates and class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Points {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub label: Vec<usize>,
}

/// The `filters` event: the first convolution's weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub epoch: usize,
    /// The layer's label, `layer 1 (Conv2d)`.
    pub layer: String,
    /// `[out_channels, in_channels, kh, kw]`.
    pub shape: Vec<usize>,
    #[serde(deserialize_with = "nan_for_null")]
    pub values: Vec<f32>,
}

/// The `feature_maps` event: one image and its maps after each convolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureMaps {
    pub epoch: usize,
    pub input: Plane,
    pub layers: Vec<Plane>,
}

/// A tensor `[C, H, W]` by its values, row-major, with the label of its layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plane {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub shape: Vec<usize>,
    #[serde(deserialize_with = "nan_for_null")]
    pub values: Vec<f32>,
}

/// How a run stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Finished,
    Failed,
    Interrupted,
}

impl Status {
    /// The status as the log writes it: `finished`, `failed` or `interrupted`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
}

/// The `end` event: the last line of a run that stopped (a killed one has none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub status: Status,
    /// The run's last line (`final test accuracy …`) or the error that stopped it.
    pub message: String,
    /// The last epoch completed.
    pub epoch: usize,
}

impl RunEvent {
    /// The epoch an event belongs to (`None` for `run`, `resume` and `end`).
    pub fn epoch(&self) -> Option<usize> {
        match self {
            RunEvent::Epoch(m) => Some(m.epoch),
            RunEvent::Steps(e) => Some(e.epoch),
            RunEvent::Probe(e) => Some(e.epoch),
            RunEvent::Graph(e) => Some(e.epoch),
            RunEvent::Boundary(e) => Some(e.epoch),
            RunEvent::Filters(e) => Some(e.epoch),
            RunEvent::FeatureMaps(e) => Some(e.epoch),
            RunEvent::Run(_) | RunEvent::Resume(_) | RunEvent::End(_) | RunEvent::Unknown => None,
        }
    }

    /// The event as one line of the log, newline included.
    pub fn to_line(&self) -> serde_json::Result<Vec<u8>> {
        let mut line = serde_json::to_vec(self)?;
        line.push(b'\n');
        Ok(line)
    }
}

/// A complete line of the log that is not an event.
#[derive(Clone, Debug, PartialEq)]
pub struct BadLine {
    /// From 1.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The longest line a reader of a log takes: a longer one is skipped (and said to be too
/// long), so a corrupt log without newlines never fills the memory.
pub const MAX_LINE: usize = 16 << 20;

/// What [`LineReader::feed`] finds: a complete line, or one over [`MAX_LINE`] that was skipped.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// The line's bytes, without its newline; `number` counts from 1 and `end` is the byte
    /// offset just past the newline.
    Whole {
        number: usize,
        end: u64,
        bytes: &'a [u8],
    },
    TooLong {
        number: usize,
        end: u64,
    },
}

impl Line<'_> {
    /// The problem of a line over [`MAX_LINE`].
    pub fn too_long(number: usize) -> String {
        format!("line {number} is over {} MiB", MAX_LINE >> 20)
    }
}

/// Splits a log into lines as its bytes arrive, in pieces of any size: a line whose newline
/// has not arrived is held back (at most [`MAX_LINE`] bytes of it), and a longer one is
/// skipped to its newline.
#[derive(Debug, Default)]
pub struct LineReader {
    /// The offset just past the last complete line.
    complete: u64,
    /// Bytes fed so far, from the start of the log.
    read: u64,
    /// Complete lines so far.
    lines: usize,
    /// The start of a line whose newline has not arrived.
    pending: Vec<u8>,
    /// Bytes of the line whose newline has not arrived (kept in `pending` unless skipped).
    partial: u64,
    /// Whether the line being read is over [`MAX_LINE`] (and is not kept).
    skipping: bool,
}

impl LineReader {
    /// A reader of a log from the byte offset `offset` (the end of a line; 0: the start), its
    /// lines numbered from there.
    pub fn new(offset: u64) -> LineReader {
        LineReader {
            complete: offset,
            read: offset,
            ..LineReader::default()
        }
    }

    /// The offset just past the last complete line.
    pub fn complete(&self) -> u64 {
        self.complete
    }

    /// The offset of the next byte to feed.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// Reads the next bytes of the log, handing each line they complete to `each`.
    pub fn feed(&mut self, mut bytes: &[u8], mut each: impl FnMut(Line<'_>)) {
        self.read += bytes.len() as u64;
        while let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&bytes[..newline], &bytes[newline + 1..]);
            self.lines += 1;
            self.complete += self.partial + newline as u64 + 1;
            self.partial = 0;
            let (number, end) = (self.lines, self.complete);
            if self.skipping || self.pending.len() + head.len() > MAX_LINE {
                self.skipping = false;
                self.pending.clear();
                each(Line::TooLong { number, end });
            } else if self.pending.is_empty() {
                each(Line::Whole {
                    number,
                    end,
                    bytes: head,
                });
            } else {
                self.pending.extend_from_slice(head);
                each(Line::Whole {
                    number,
                    end,
                    bytes: &self.pending,
                });
                self.pending.clear();
            }
            bytes = rest;
        }
        self.partial += bytes.len() as u64;
        if self.skipping || self.pending.len() + bytes.len() > MAX_LINE {
            self.skipping = true;
            self.pending = Vec::new();
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }
}

/// The events of the complete lines of a log read from `source` (from its start, through a
/// buffer, a piece at a time) and how many bytes those lines take: a last line without its
/// newline is one still being written (or cut short by a kill) and is left for a later read.
/// Events of unknown types are skipped; a complete line that is not an event (or is over
/// [`MAX_LINE`]) is an error naming its line.
pub fn read_events(
    source: impl std::io::Read,
) -> std::io::Result<Result<(Vec<RunEvent>, u64), BadLine>> {
    use std::io::BufRead;
    let mut source = std::io::BufReader::with_capacity(1 << 20, source);
    let mut events = Events::default();
    while events.bad.is_none() {
        let bytes = source.fill_buf()?;
        if bytes.is_empty() {
            break;
        }
        events.feed(bytes);
        let n = bytes.len();
        source.consume(n);
    }
    Ok(events.finish())
}

/// The events of a log read so far, up to its first bad line.
#[derive(Default)]
struct Events {
    events: Vec<RunEvent>,
    bad: Option<BadLine>,
    reader: LineReader,
}

impl Events {
    fn feed(&mut self, bytes: &[u8]) {
        let (events, bad) = (&mut self.events, &mut self.bad);
        self.reader.feed(bytes, |line| {
            if bad.is_none() {
                match parse_line(line) {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => {}
                    Err(e) => *bad = Some(e),
                }
            }
        });
    }

    /// The events and the offset just past the last complete line, or the first bad line.
    fn finish(self) -> Result<(Vec<RunEvent>, u64), BadLine> {
        match self.bad {
            Some(bad) => Err(bad),
            None => Ok((self.events, self.reader.complete())),
        }
    }
}

/// The event of one line: `None` for a blank line or an unknown type.
pub fn parse_line(line: Line<'_>) -> Result<Option<RunEvent>, BadLine> {
    match line {
        Line::TooLong { number, .. } => Err(BadLine {
            line: number,
            message: format!("over {} MiB", MAX_LINE >> 20),
        }),
        Line::Whole { bytes, .. } if bytes.iter().all(u8::is_ascii_whitespace) => Ok(None),
        Line::Whole { number, bytes, .. } => match serde_json::from_slice::<RunEvent>(bytes) {
            Ok(RunEvent::Unknown) => Ok(None),
            Ok(event) => Ok(Some(event)),
            Err(e) => Err(BadLine {
                line: number,
                message: e.to_string(),
            }),
        },
    }
}

/// The events a reader shows: a `resume` after epoch k drops every event of a later epoch
/// written before it (the run went back to its checkpoint of epoch k), and the `end` of an
/// earlier attempt.
pub fn current(events: Vec<RunEvent>) -> Vec<RunEvent> {
    let mut kept: Vec<RunEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let RunEvent::Resume(resume) = &event {
            kept.retain(|e| {
                !matches!(e, RunEvent::End(_)) && e.epoch().is_none_or(|k| k <= resume.epoch)
            });
        }
        kept.push(event);
    }
    kept
}

/// A list of numbers where `null` stands for NaN or an infinity.
fn nan_for_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + From<f32>,
{
    let values: Vec<Option<T>> = Deserialize::deserialize(d)?;
    Ok(values
        .into_iter()
        .map(|v| v.unwrap_or_else(|| T::from(f32::NAN)))
        .collect())
}

/// Rows of numbers where `null` stands for NaN or an infinity.
fn nan_for_null_rows<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    let rows: Vec<Vec<Option<f64>>> = Deserialize::deserialize(d)?;
    Ok(rows
        .into_iter()
        .map(|row| row.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_events(bytes: &[u8]) -> Result<(Vec<RunEvent>, u64), BadLine> {
        super::read_events(bytes).unwrap()
    }

    const RESUME: &str = r#"{"type":"resume","epoch":1,"started":2.5}"#;

    fn steps(epoch: usize) -> String {
        format!(
            r#"{{"type":"steps","epoch":{epoch},"first_step":1,"loss":[0.5,null],"grad_norms":[[1.0],[null]]}}"#
        )
    }

    #[test]
    fn a_partial_last_line_is_left_for_later_and_null_reads_as_nan() {
        let whole = format!("{}\n{RESUME}\n", steps(1));
        let log = format!("{whole}{}", &steps(2)[..20]);
        let (events, complete) = read_events(log.as_bytes()).unwrap();
        assert_eq!(complete, whole.len() as u64);
        assert_eq!(events.len(), 2);
        let RunEvent::Steps(first) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(first.loss[0], 0.5);
        assert!(first.loss[1].is_nan() && first.grad_norms[1][0].is_nan());
        assert_eq!(read_events(b"").unwrap(), (Vec::new(), 0));
        assert_eq!(read_events(b"{\"type\"").unwrap(), (Vec::new(), 0));
    }

    #[test]
    fn unknown_types_and_fields_are_skipped_and_a_bad_line_is_named() {
        let log = format!(
            "{{\"type\":\"later\",\"x\":1}}\n{}\n\n{{\"type\":\"end\",\"status\":\"failed\",\"message\":\"m\",\"epoch\":0,\"new\":true}}\n",
            steps(1)
        );
        let (events, _) = read_events(log.as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[1],
            RunEvent::End(End {
                status: Status::Failed,
                message: "m".into(),
                epoch: 0
            })
        );
        let bad = format!("{}\n{{\"type\":\"steps\",\"epoch\":1}}\n", steps(1));
        let error = read_events(bad.as_bytes()).unwrap_err();
        assert_eq!(error.line, 2);
        assert!(
            error.to_string().starts_with("line 2: missing field"),
            "{error}"
        );
        let error = read_events(b"not json\n").unwrap_err();
        assert!(error.to_string().starts_with("line 1: expected"), "{error}");
    }

    #[test]
    fn lines_are_read_across_pieces_and_an_over_long_one_is_skipped_to_its_newline() {
        let mut reader = LineReader::new(0);
        let mut lines = Vec::new();
        let mut keep = |line: Line<'_>| {
            lines.push(match line {
                Line::Whole { number, end, bytes } => (number, end, Some(bytes.to_vec())),
                Line::TooLong { number, end } => (number, end, None),
            })
        };
        reader.feed(b"{}\n{\"ty", &mut keep);
        reader.feed(b"pe\":1}\n{", &mut keep);
        assert_eq!((reader.complete(), reader.read()), (14, 15));
        let long = vec![b'x'; MAX_LINE / 2 + 1];
        reader.feed(&long, &mut keep);
        reader.feed(&long, &mut keep);
        assert!(reader.pending.is_empty());
        reader.feed(b"x\n[]\n", &mut keep);
        let end = 14 + 1 + 2 * long.len() as u64 + 2;
        assert_eq!(
            lines,
            [
                (1, 3, Some(b"{}".to_vec())),
                (2, 14, Some(b"{\"type\":1}".to_vec())),
                (3, end, None),
                (4, end + 3, Some(b"[]".to_vec())),
            ]
        );
        assert_eq!(Line::too_long(3), "line 3 is over 16 MiB");
        let mut log = vec![b'x'; MAX_LINE + 1];
        log.push(b'\n');
        let error = read_events(&log).unwrap_err();
        assert_eq!(error.to_string(), "line 1: over 16 MiB");
    }

    #[test]
    fn a_resume_drops_the_later_epochs_and_the_end_written_before_it() {
        let log = [
            steps(1),
            steps(2),
            r#"{"type":"end","status":"failed","message":"m","epoch":2}"#.into(),
            RESUME.into(),
            steps(2),
        ]
        .join("\n")
            + "\n";
        let (events, _) = read_events(log.as_bytes()).unwrap();
        let epochs: Vec<Option<usize>> = current(events).iter().map(RunEvent::epoch).collect();
        assert_eq!(epochs, [Some(1), None, Some(2)]);
    }

    #[test]
    fn a_status_is_named_as_the_log_writes_it() {
        for status in [Status::Finished, Status::Failed, Status::Interrupted] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.name());
        }
    }

    #[test]
    fn non_finite_numbers_are_written_as_null() {
        let event = RunEvent::Steps(Steps {
            epoch: 1,
            first_step: 3,
            loss: vec![f64::NAN, f64::INFINITY, 1.5],
            grad_norms: vec![vec![f64::NEG_INFINITY]],
        });
        let line = String::from_utf8(event.to_line().unwrap()).unwrap();
        assert_eq!(
            line,
            "{\"type\":\"steps\",\"epoch\":1,\"first_step\":3,\"loss\":[null,null,1.5],\"grad_norms\":[[null]]}\n"
        );
    }
}
