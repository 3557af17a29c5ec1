//! Stream mode (`cloudfn stream map|reduce COMPONENT.wasm`): the Hadoop
//! Streaming line protocol on stdin and stdout, so a component can be the
//! mapper or reducer of a real streaming job.
//!
//! - The key is everything before the first tab; a line without a tab is all
//!   key; a trailing `\r` is dropped; blank lines are skipped; lines that are
//!   not UTF-8 are counted as malformed and skipped. For the mapper a record
//!   needs a key (the document id) and a tab.
//! - One instance serves the whole stream; lines go to it in batches, so
//!   memory stays flat however long the stream (the reducer holds the values
//!   of one key at a time). The timeout applies to each batch.
//! - The reducer requires its input sorted by key, bytewise (`LC_ALL=C sort`).

use crate::bindings::index_map::IndexMapPre;
use crate::bindings::index_map::cloudfn::mapreduce::types::Record;
use crate::bindings::index_reduce::IndexReducePre;
use crate::bindings::index_reduce::cloudfn::mapreduce::types::Error as ReduceError;
use crate::engine::{EPOCH_TICK, LoadedComponent, Runtime};
use std::io::{BufRead, Write};

/// Records (map) or values (reduce) per call into the component.
const BATCH: usize = 2_000;

/// Which phase the component plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `cloudfn:mapreduce/mapper`.
    Map,
    /// `cloudfn:mapreduce/reducer`.
    Reduce,
}

/// What a stream saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Lines read.
    pub lines: u64,
    /// Lines written.
    pub written: u64,
    /// Blank lines skipped.
    pub blank: u64,
    /// Malformed lines skipped.
    pub malformed: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lines read, {} written, {} blank, {} malformed",
            self.lines, self.written, self.blank, self.malformed
        )
    }
}

/// Why a stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading stdin or writing stdout failed.
    #[error("stream I/O failed")]
    Io(#[from] std::io::Error),
    /// The component does not export the phase's interface.
    #[error("component `{id}` does not export cloudfn:mapreduce/{interface}")]
    WrongComponent {
        /// Component id.
        id: String,
        /// `mapper` or `reducer`.
        interface: &'static str,
    },
    /// The reducer's input is not sorted.
    #[error(
        "input is not sorted by key: line {line} has key {key:?} after {previous:?} (sort with LC_ALL=C sort)"
    )]
    Unsorted {
        /// 1-based line.
        line: u64,
        /// The key before.
        previous: String,
        /// The smaller key.
        key: String,
    },
    /// The reducer refused a value.
    #[error("the reducer refused a value: {0}")]
    Refused(String),
    /// Instantiation or a call failed (trap, timeout, memory limit).
    #[error("component call failed: {0}")]
    Call(String),
}

enum Parsed<'a> {
    Pair(&'a str, Option<&'a str>),
    Blank,
    Invalid,
}

fn parse(raw: &[u8]) -> Parsed<'_> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.is_empty() {
        return Parsed::Blank;
    }
    match std::str::from_utf8(raw) {
        Ok(text) => match text.split_once('\t') {
            Some((key, value)) => Parsed::Pair(key, Some(value)),
            None => Parsed::Pair(text, None),
        },
        Err(_) => Parsed::Invalid,
    }
}

fn call_err(e: wasmtime::Error) -> StreamError {
    StreamError::Call(format!("{e:#}"))
}

/// Runs `component` as the `phase` of a streaming job from `input` to `output`.
pub async fn run(
    runtime: &Runtime,
    component: &LoadedComponent,
    phase: Phase,
    mut input: impl BufRead,
    mut output: impl Write,
) -> Result<Report, StreamError> {
    let mut store = runtime.new_store(component).map_err(call_err)?;
    let ticks = (runtime.limits().timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
    let mut report = Report::default();
    let mut line = Vec::new();
    match phase {
        Phase::Map => {
            let pre = IndexMapPre::new(component.instance_pre.clone()).map_err(|_| {
                StreamError::WrongComponent {
                    id: component.id.clone(),
                    interface: "mapper",
                }
            })?;
            let mapper = pre.instantiate_async(&mut store).await.map_err(call_err)?;
            let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
            loop {
                line.clear();
                let eof = input.read_until(b'\n', &mut line)? == 0;
                if !eof {
                    report.lines += 1;
                    match parse(&line) {
                        Parsed::Blank => report.blank += 1,
                        Parsed::Invalid | Parsed::Pair(_, None) | Parsed::Pair("", _) => {
                            report.malformed += 1
                        }
                        Parsed::Pair(doc, Some(content)) => batch.push(Record {
                            doc_id: doc.to_owned(),
                            content: content.to_owned(),
                        }),
                    }
                }
                if batch.len() >= BATCH || (eof && !batch.is_empty()) {
                    store.set_epoch_deadline(ticks);
                    let pairs = mapper
                        .cloudfn_mapreduce_mapper()
                        .call_map_batch(&mut store, &batch)
                        .await
                        .map_err(call_err)?;
                    for pair in pairs {
                        writeln!(output, "{}\t{}", pair.key, pair.value)?;
                        report.written += 1;
                    }
                    batch.clear();
                }
                if eof {
                    break;
                }
            }
        }
        Phase::Reduce => {
            let pre = IndexReducePre::new(component.instance_pre.clone()).map_err(|_| {
                StreamError::WrongComponent {
                    id: component.id.clone(),
                    interface: "reducer",
                }
            })?;
            let reducer = pre.instantiate_async(&mut store).await.map_err(call_err)?;
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            let mut values_in_batch = 0;
            loop {
                line.clear();
                let eof = input.read_until(b'\n', &mut line)? == 0;
                let mut new_key = false;
                if !eof {
                    report.lines += 1;
                    match parse(&line) {
                        Parsed::Blank => report.blank += 1,
                        Parsed::Invalid | Parsed::Pair(_, None) => report.malformed += 1,
                        Parsed::Pair(key, Some(value)) => {
                            match groups.last_mut() {
                                Some((current, values)) if current.as_str() == key => {
                                    values.push(value.to_owned())
                                }
                                Some((current, _)) if current.as_str() > key => {
                                    return Err(StreamError::Unsorted {
                                        line: report.lines,
                                        previous: current.clone(),
                                        key: key.to_owned(),
                                    });
                                }
                                _ => {
                                    new_key = true;
                                    groups.push((key.to_owned(), vec![value.to_owned()]));
                                }
                            }
                            values_in_batch += 1;
                        }
                    }
                }
                // Flush whole keys only: all but the newest group once the batch
                // is full, everything at the end.
                let full = new_key && values_in_batch >= BATCH && groups.len() > 1;
                if full || (eof && !groups.is_empty()) {
                    let keep = if eof { None } else { groups.pop() };
                    store.set_epoch_deadline(ticks);
                    let pairs = reducer
                        .cloudfn_mapreduce_reducer()
                        .call_reduce_batch(&mut store, &groups)
                        .await
                        .map_err(call_err)?
                        .map_err(|e| match e {
                            ReduceError::MalformedValue(v) => {
                                StreamError::Refused(format!("malformed value {v:?}"))
                            }
                            ReduceError::Other(m) => StreamError::Refused(m),
                        })?;
                    for pair in pairs {
                        writeln!(output, "{}\t{}", pair.key, pair.value)?;
                        report.written += 1;
                    }
                    groups.clear();
                    values_in_batch = 0;
                    if let Some(group) = keep {
                        values_in_batch = group.1.len();
                        groups.push(group);
                    }
                }
                if eof {
                    break;
                }
            }
        }
    }
    output.flush()?;
    Ok(report)
}
