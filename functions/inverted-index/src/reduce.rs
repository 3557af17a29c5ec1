//! The reduce phase: lines `word<TAB>value` sorted by word (byte order, as
//! `LC_ALL=C sort` or Hadoop's shuffle give) become one posting line per word:
//!
//! `word<TAB>df<TAB>doc:tf,doc:tf,…`
//!
//! where each document appears once, documents are in byte order, `tf` sums
//! the word's occurrences in the document and `df` counts the documents. A
//! value is `doc` (one occurrence, as the textbook mapper emits) or
//! `doc<TAB>tf` (as the combining mapper emits), so both mappers reduce to
//! the same index. In document ids, `%`, `:` and `,` are written `%25`,
//! `%3A` and `%2C`. Memory holds one word's postings at a time.

use crate::lines::{Counters, Line, parse};
use std::collections::BTreeMap;

/// Why reducing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReduceError {
    /// A key came after a greater one: the input is not sorted.
    Unsorted {
        /// 1-based line number.
        line: u64,
        /// The key before.
        previous: String,
        /// The smaller key that followed.
        key: String,
    },
    /// A value that is neither `doc` nor `doc<TAB>tf` with tf ≥ 1.
    MalformedValue {
        /// 1-based line number.
        line: u64,
        /// The value.
        value: String,
    },
}

impl std::fmt::Display for ReduceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReduceError::Unsorted {
                line,
                previous,
                key,
            } => write!(
                f,
                "input is not sorted by key: line {line} has key {key:?} after {previous:?} (sort with LC_ALL=C sort)"
            ),
            ReduceError::MalformedValue { line, value } => write!(
                f,
                "line {line}: value {value:?} is not `doc` or `doc<TAB>tf` with tf >= 1"
            ),
        }
    }
}

impl std::error::Error for ReduceError {}

/// Parses a mapper value into `(doc, tf)`.
pub fn parse_value(value: &str) -> Option<(&str, u64)> {
    match value.split_once('\t') {
        None => Some((value, 1)),
        Some((doc, tf)) => tf.parse().ok().filter(|&tf| tf >= 1).map(|tf| (doc, tf)),
    }
}

/// Formats a posting list: `df<TAB>doc:tf,…`.
pub fn format_postings(postings: &BTreeMap<String, u64>) -> String {
    let mut out = postings.len().to_string();
    out.push('\t');
    for (i, (doc, tf)) in postings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for c in doc.chars() {
            match c {
                '%' => out.push_str("%25"),
                ':' => out.push_str("%3A"),
                ',' => out.push_str("%2C"),
                c => out.push(c),
            }
        }
        out.push(':');
        out.push_str(&tf.to_string());
    }
    out
}

/// Reduces a stream of sorted lines, one word at a time.
#[derive(Debug, Default)]
pub struct Reducer {
    key: Option<String>,
    postings: BTreeMap<String, u64>,
    /// What the stream saw.
    pub counters: Counters,
}

impl Reducer {
    /// A reducer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line; a finished word's posting line is appended to `out`.
    pub fn push_line(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), ReduceError> {
        self.counters.lines += 1;
        let line = self.counters.lines;
        let (key, value) = match parse(raw) {
            Line::Blank => {
                self.counters.blank += 1;
                return Ok(());
            }
            Line::Invalid | Line::Pair { value: None, .. } => {
                self.counters.malformed += 1;
                return Ok(());
            }
            Line::Pair {
                key,
                value: Some(value),
            } => (key, value),
        };
        let (doc, tf) = parse_value(value).ok_or_else(|| ReduceError::MalformedValue {
            line,
            value: value.to_owned(),
        })?;
        match &self.key {
            Some(current) if current.as_str() == key => {}
            Some(current) if current.as_str() > key => {
                return Err(ReduceError::Unsorted {
                    line,
                    previous: current.clone(),
                    key: key.to_owned(),
                });
            }
            _ => {
                self.flush(out);
                self.key = Some(key.to_owned());
            }
        }
        *self.postings.entry(doc.to_owned()).or_insert(0) += tf;
        Ok(())
    }

    /// Ends the stream, writing the last word.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Counters {
        self.flush(out);
        self.counters
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        if let Some(key) = self.key.take() {
            out.extend_from_slice(key.as_bytes());
            out.push(b'\t');
            out.extend_from_slice(format_postings(&self.postings).as_bytes());
            out.push(b'\n');
            self.postings.clear();
            self.counters.written += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(input: &str) -> Result<String, ReduceError> {
        let mut reducer = Reducer::new();
        let mut out = Vec::new();
        for line in input.split('\n') {
            reducer.push_line(line.as_bytes(), &mut out)?;
        }
        reducer.finish(&mut out);
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn textbook_and_combined_values_give_the_same_index() {
        let textbook = "cat\td2\ncat\td1\ncat\td1\nhat\td1\n";
        let combined = "cat\td1\t2\ncat\td2\t1\nhat\td1\t1\n";
        let expected = "cat\t2\td1:2,d2:1\nhat\t1\td1:1\n";
        assert_eq!(reduce(textbook).as_deref(), Ok(expected));
        assert_eq!(reduce(combined).as_deref(), Ok(expected));
    }

    #[test]
    fn unsorted_and_malformed_input_is_refused() {
        assert_eq!(
            reduce("dog\td1\ncat\td1\n"),
            Err(ReduceError::Unsorted {
                line: 2,
                previous: "dog".into(),
                key: "cat".into()
            })
        );
        assert!(matches!(
            reduce("cat\td1\t0\n"),
            Err(ReduceError::MalformedValue { line: 1, .. })
        ));
        assert!(matches!(
            reduce("cat\td1\tx\n"),
            Err(ReduceError::MalformedValue { .. })
        ));
    }

    #[test]
    fn document_ids_are_escaped() {
        assert_eq!(
            reduce("w\ta:b,c%\n").as_deref(),
            Ok("w\t1\ta%3Ab%2Cc%25:1\n")
        );
    }
}
