//! Stream mode (`cloudfn stream map|reduce COMPONENT.wasm`): the Hadoop
//! Streaming line protocol on stdin and stdout, so a component can be the
//! mapper or reducer of a real streaming job.
//!
//! The component parses the lines itself (its `cloudfn:mapreduce/line-stream`
//! export, see `wit/mapreduce`): the key is everything before the first tab;
//! a line without a tab is all key; a trailing `\r` is dropped; blank lines
//! are skipped; lines that are not UTF-8 are counted as malformed and
//! skipped. For the mapper a record needs a key (the document id) and a tab.
//!
//! One instance serves the whole stream. stdin goes to it in chunks of
//! [`CHUNK`] bytes, read ahead by one thread while another writes the output
//! of earlier chunks ([`inverted_index::chunk_io`]), so the component
//! computes while a pipe drains. At most a few chunks are in flight, so
//! memory stays flat however long the stream (the reducer holds one key's
//! postings at a time). The reducer requires its input sorted by key,
//! bytewise (`LC_ALL=C sort`).
//!
//! The timeout applies to each chunk. `cloudfn stream` compiles the
//! component without epoch checks ([`Interruption::Process`], about 20%
//! faster on the tokenizer's loops) and enforces the timeout with a watchdog
//! thread that ends the process with status 124, the way Hadoop kills a task
//! attempt that stops making progress.

use cloudfn_engine::bindings::streaming_phase::StreamingPhasePre;
use cloudfn_engine::bindings::streaming_phase::cloudfn::mapreduce::types::Error as PhaseError;
use cloudfn_engine::watchdog::Watchdog;
use cloudfn_engine::{Interruption, LoadedComponent, Runtime};
use inverted_index::chunk_io::{ChunkReader, ChunkWriter};
use std::io::{Read, Write};

/// Bytes of input per call into the component.
pub const CHUNK: usize = 1 << 20;

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
    /// The component refused the stream.
    #[error("the component stopped the stream: {0}")]
    Stopped(String),
    /// Instantiation or a call failed (trap, timeout, memory limit).
    #[error("component call failed: {0}")]
    Call(String),
}

fn call_err(e: wasmtime::Error) -> StreamError {
    StreamError::Call(format!("{e:#}"))
}

fn phase_err(e: PhaseError) -> StreamError {
    match e {
        PhaseError::Unsorted(u) => StreamError::Unsorted {
            line: u.line,
            previous: u.previous,
            key: u.key,
        },
        PhaseError::MalformedValue(v) => StreamError::Refused(format!("malformed value {v:?}")),
        PhaseError::Other(m) => StreamError::Stopped(m),
    }
}

/// Runs `component` as the `phase` of a streaming job from `input` to `output`.
///
/// With a runtime of [`Interruption::Process`], a call into the component
/// that overruns the timeout ends the process (status
/// [`TIMEOUT_STATUS`](cloudfn_engine::watchdog::TIMEOUT_STATUS));
/// with [`Interruption::Epoch`] it traps and `run` returns [`StreamError::Call`].
pub async fn run(
    runtime: &Runtime,
    component: &LoadedComponent,
    phase: Phase,
    input: impl Read + Send + 'static,
    output: impl Write + Send + 'static,
) -> Result<Report, StreamError> {
    // The typed interface beside the line stream tells a mapper from a reducer.
    let (interface, export) = match phase {
        Phase::Map => ("mapper", "cloudfn:mapreduce/mapper@0.1.0"),
        Phase::Reduce => ("reducer", "cloudfn:mapreduce/reducer@0.1.0"),
    };
    let exported = component
        .instance_pre
        .component()
        .get_export_index(None, export)
        .is_some();
    let pre = StreamingPhasePre::new(component.instance_pre.clone())
        .ok()
        .filter(|_| exported)
        .ok_or_else(|| StreamError::WrongComponent {
            id: component.id.clone(),
            interface,
        })?;
    let mut store = runtime.new_store(component).map_err(call_err)?;
    let timeout = runtime.limits().timeout;
    let watchdog = match runtime.interruption() {
        Interruption::Process => Some(Watchdog::start(
            runtime.limits().timeout,
            "a call into the component".into(),
        )?),
        Interruption::Epoch => None,
    };
    // Arms the deadline of one call: the store's, or the watchdog.
    let arm = |store: &mut wasmtime::Store<cloudfn_engine::state::HostState>, calling: bool| {
        match &watchdog {
            Some(watchdog) if calling => watchdog.call_started(),
            Some(watchdog) => watchdog.call_ended(),
            None => store.data_mut().stop.deadline = std::time::Instant::now() + timeout,
        }
    };
    arm(&mut store, true);
    let instance = pre.instantiate_async(&mut store).await.map_err(call_err)?;
    let streams = instance.cloudfn_mapreduce_line_stream().phase_stream();
    let stream = streams
        .call_constructor(&mut store)
        .await
        .map_err(call_err)?;
    arm(&mut store, false);
    let mut input = ChunkReader::spawn(input, CHUNK)?;
    let mut output = ChunkWriter::spawn(output)?;
    while let Some(chunk) = input.next_chunk()? {
        arm(&mut store, true);
        let lines = streams
            .call_push(&mut store, stream, &chunk)
            .await
            .map_err(call_err)?
            .map_err(phase_err)?;
        arm(&mut store, false);
        output.write(lines)?;
    }
    arm(&mut store, true);
    let end = streams
        .call_finish(&mut store, stream)
        .await
        .map_err(call_err)?
        .map_err(phase_err)?;
    arm(&mut store, false);
    output.write(end.output)?;
    output.finish()?;
    stream
        .resource_drop_async(&mut store)
        .await
        .map_err(call_err)?;
    let c = end.counters;
    Ok(Report {
        lines: c.lines,
        written: c.written,
        blank: c.blank,
        malformed: c.malformed,
    })
}
