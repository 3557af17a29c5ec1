//! A map or reduce phase fed with chunks of its input of any size: what
//! `cloudfn stream` drives through the components' `line-stream` export,
//! and what the native build of the benchmark runs.
//!
//! Chunks need not end at a line boundary: the unfinished last line is kept
//! until the next chunk (or [`LineStream::finish`]) completes it. Memory is
//! one chunk, its output, and the phase's own state (for the reducer, one
//! word's postings).

use crate::lines::Counters;
use crate::map::Mapper;
use crate::reduce::{ReduceError, Reducer};
use crate::tokenize::Tokenizer;

#[derive(Debug)]
enum Phase {
    Map(Mapper),
    Reduce(Reducer),
}

/// One phase over a stream of lines.
#[derive(Debug)]
pub struct LineStream {
    phase: Phase,
    /// The start of a line whose `\n` has not arrived yet.
    partial: Vec<u8>,
}

impl LineStream {
    /// The map phase, splitting documents with `tokenizer`.
    pub fn map(tokenizer: Tokenizer) -> Self {
        Self {
            phase: Phase::Map(Mapper::new(tokenizer)),
            partial: Vec::new(),
        }
    }

    /// The reduce phase; its input must be sorted by key, bytewise.
    pub fn reduce() -> Self {
        Self {
            phase: Phase::Reduce(Reducer::new()),
            partial: Vec::new(),
        }
    }

    /// Feeds the next bytes of the stream, appending the output of every
    /// line they complete to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) -> Result<(), ReduceError> {
        if !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                self.partial.extend_from_slice(chunk);
                return Ok(());
            };
            self.partial.extend_from_slice(&chunk[..end]);
            let line = std::mem::take(&mut self.partial);
            let result = self.line(&line, out);
            self.partial = line;
            self.partial.clear();
            result?;
            chunk = &chunk[end + 1..];
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            self.line(&chunk[start..end], out)?;
            start = end + 1;
        }
        self.partial.extend_from_slice(&chunk[start..]);
        Ok(())
    }

    /// Ends the stream: the last line (if it had no `\n`) and, for the
    /// reducer, the last word go to `out`; returns what the stream saw.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<Counters, ReduceError> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, out)?;
        }
        Ok(match self.phase {
            Phase::Map(mut mapper) => {
                mapper.flush(out);
                mapper.counters
            }
            Phase::Reduce(reducer) => reducer.finish(out),
        })
    }

    fn line(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), ReduceError> {
        match &mut self.phase {
            Phase::Map(mapper) => {
                mapper.map_line(raw, out);
                Ok(())
            }
            Phase::Reduce(reducer) => reducer.push_line(raw, out),
        }
    }
}

/// Implements the `cloudfn:mapreduce/line-stream` export of a component
/// over [`LineStream`], in the crate that generated the bindings:
/// `line_stream_export!(Component, || LineStream::map(Tokenizer::new()))`.
#[macro_export]
macro_rules! line_stream_export {
    ($component:ty, $start:expr) => {
        /// A [`LineStream`]($crate::line_stream::LineStream), `None` once finished.
        pub struct PhaseStream(std::cell::RefCell<Option<$crate::line_stream::LineStream>>);

        impl exports::cloudfn::mapreduce::line_stream::Guest for $component {
            type PhaseStream = PhaseStream;
        }

        impl exports::cloudfn::mapreduce::line_stream::GuestPhaseStream for PhaseStream {
            fn new() -> Self {
                Self(std::cell::RefCell::new(Some($start())))
            }

            fn push(&self, chunk: Vec<u8>) -> Result<Vec<u8>, cloudfn::mapreduce::types::Error> {
                let mut stream = self.0.borrow_mut();
                let stream = stream.as_mut().ok_or_else(|| {
                    cloudfn::mapreduce::types::Error::Other("the stream is finished".into())
                })?;
                let mut out = Vec::with_capacity(chunk.len() * 4);
                stream.push(&chunk, &mut out).map_err(line_stream_error)?;
                Ok(out)
            }

            fn finish(
                &self,
            ) -> Result<
                exports::cloudfn::mapreduce::line_stream::StreamEnd,
                cloudfn::mapreduce::types::Error,
            > {
                let stream = self.0.borrow_mut().take().ok_or_else(|| {
                    cloudfn::mapreduce::types::Error::Other("the stream is finished".into())
                })?;
                let mut output = Vec::new();
                let c = stream.finish(&mut output).map_err(line_stream_error)?;
                Ok(exports::cloudfn::mapreduce::line_stream::StreamEnd {
                    output,
                    counters: exports::cloudfn::mapreduce::line_stream::Counters {
                        lines: c.lines,
                        written: c.written,
                        blank: c.blank,
                        malformed: c.malformed,
                    },
                })
            }
        }

        fn line_stream_error(e: $crate::reduce::ReduceError) -> cloudfn::mapreduce::types::Error {
            use cloudfn::mapreduce::types::{Error, UnsortedKey};
            match e {
                $crate::reduce::ReduceError::Unsorted {
                    line,
                    previous,
                    key,
                } => Error::Unsorted(UnsortedKey {
                    line,
                    previous,
                    key,
                }),
                $crate::reduce::ReduceError::MalformedValue { value, .. } => {
                    Error::MalformedValue(value)
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mut stream: LineStream, input: &[u8], chunk: usize) -> (Vec<u8>, Counters) {
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            stream.push(piece, &mut out).expect("push");
        }
        let counters = stream.finish(&mut out).expect("finish");
        (out, counters)
    }

    /// The non-empty lines of `mapped` in byte order, as `LC_ALL=C sort` gives them.
    fn sort_lines(mapped: &[u8]) -> Vec<u8> {
        let mut lines: Vec<&[u8]> = mapped
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort_unstable();
        lines.join(&b'\n')
    }

    #[test]
    fn output_does_not_depend_on_chunk_boundaries() {
        let records = "d1\tThe cat sat.\r\n\nno tab\nd2\tcafé, the CAT\nd3\tlast line, no newline";
        let (whole, counters) = run(
            LineStream::map(Tokenizer::new()),
            records.as_bytes(),
            1 << 20,
        );
        assert_eq!(
            counters,
            Counters {
                lines: 5,
                blank: 1,
                malformed: 1,
                written: 8
            }
        );
        for chunk in 1..12 {
            assert_eq!(
                run(LineStream::map(Tokenizer::new()), records.as_bytes(), chunk),
                (whole.clone(), counters),
                "map in chunks of {chunk}"
            );
        }
        let pairs = sort_lines(&whole);
        let (index, _) = run(LineStream::reduce(), &pairs, 1 << 20);
        assert_eq!(
            String::from_utf8(index.clone()).expect("utf-8"),
            "café\t1\td2:1\ncat\t2\td1:1,d2:1\nlast\t1\td3:1\nline\t1\td3:1\nnewline\t1\td3:1\nno\t1\td3:1\nsat\t1\td1:1\nthe\t2\td1:1,d2:1\n"
        );
        for chunk in 1..12 {
            assert_eq!(
                run(LineStream::reduce(), &pairs, chunk).0,
                index,
                "reduce in chunks of {chunk}"
            );
        }
    }

    #[test]
    fn windows_of_any_order_reduce_to_the_reference_index() {
        use crate::test_rng::Rng;
        use std::collections::BTreeMap;
        // About 3 MiB of records (three windows and more), ids in random
        // order and repeated, so windows overlap in document ids.
        const WORDS: &[&str] = &["the", "cat", "Über", "don't", "e-mail", "42", "a", "zebra"];
        let mut rng = Rng(0x5851_f42d_4c95_7f2d);
        let mut input = String::new();
        let mut reference: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let tokenizer = Tokenizer::new();
        while input.len() < 3 << 20 {
            let doc = format!("doc{}", rng.next() % 20_000);
            let content: Vec<&str> = (0..1 + rng.next() % 40)
                .map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize])
                .collect();
            let content = content.join(" ");
            tokenizer.words(&content, |w| {
                *reference
                    .entry(w.to_owned())
                    .or_default()
                    .entry(doc.clone())
                    .or_default() += 1;
            });
            input.push_str(&format!("{doc}\t{content}\n"));
        }
        let expected: String = reference
            .iter()
            .map(|(word, docs)| {
                let postings: Vec<String> =
                    docs.iter().map(|(d, tf)| format!("{d}:{tf}")).collect();
                format!("{word}\t{}\t{}\n", docs.len(), postings.join(","))
            })
            .collect();

        let (mapped, counters) = run(LineStream::map(Tokenizer::new()), input.as_bytes(), 65_536);
        assert!(
            counters.written >= 3 * reference.len() as u64,
            "several windows: {counters:?}"
        );
        let (index, _) = run(LineStream::reduce(), &sort_lines(&mapped), 65_536);
        assert_eq!(String::from_utf8(index).expect("utf-8"), expected);
    }

    #[test]
    fn unsorted_input_stops_the_reducer() {
        let mut stream = LineStream::reduce();
        let mut out = Vec::new();
        let err = stream
            .push(b"the\td1\ncat\td1\n", &mut out)
            .expect_err("unsorted");
        assert!(
            matches!(err, ReduceError::Unsorted { line: 2, .. }),
            "{err:?}"
        );
    }
}
