//! The reduce phase: lines `word<TAB>value` sorted by word (byte order, as
//! `LC_ALL=C sort` or Hadoop's shuffle give) become one posting line per word:
//!
//! `word<TAB>df<TAB>doc:tf,doc:tf,…`
//!
//! where each document appears once, documents are in byte order, `tf` sums
//! the word's occurrences in the document and `df` counts the documents. A
//! value is `doc` (one occurrence, as the textbook mapper emits) or one or
//! more `doc<TAB>tf` postings joined by tabs (as the combining mapper emits),
//! so both mappers reduce to the same index. In document ids, `%`, `:` and
//! `,` are written `%25`, `%3A` and `%2C`. Memory holds one word's postings
//! at a time.

use crate::bytes;
use crate::lines::{Counters, Line, parse};
use std::cmp::Ordering;

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
    /// A value that is neither `doc` nor `doc<TAB>tf` postings with tf ≥ 1.
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
                "line {line}: value {value:?} is not `doc` or `doc<TAB>tf[<TAB>doc<TAB>tf…]` with every tf >= 1"
            ),
        }
    }
}

impl std::error::Error for ReduceError {}

/// Calls `each(doc, tf)` for every posting of a mapper value: `doc` (tf 1)
/// or `doc<TAB>tf<TAB>doc<TAB>tf…`. Returns `false` at the first malformed
/// posting (a document without a tf, or a tf that is not a whole number ≥ 1).
pub fn parse_value(value: &str, mut each: impl FnMut(&str, u64)) -> bool {
    // The tabs, found by `memchr` (vectorised on wasm too, unlike `str::split`).
    let mut tabs = memchr::memchr_iter(b'\t', value.as_bytes());
    let Some(mut tab) = tabs.next() else {
        each(value, 1);
        return true;
    };
    let mut start = 0;
    loop {
        let end = tabs.next();
        let tf = &value[tab + 1..end.unwrap_or(value.len())];
        match parse_tf(tf) {
            Some(tf) => each(&value[start..tab], tf),
            None => return false,
        }
        let Some(end) = end else { return true };
        start = end + 1;
        match tabs.next() {
            Some(next) => tab = next,
            // A document without its tf.
            None => return false,
        }
    }
}

/// A term frequency: decimal digits, at least 1.
fn parse_tf(tf: &str) -> Option<u64> {
    let digits = tf.bytes().all(|b| b.is_ascii_digit());
    tf.parse().ok().filter(|&tf| digits && tf >= 1)
}

/// The postings of one word, gathered from its values: document ids in one
/// arena, so gathering allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
pub struct Postings {
    docs: Vec<u8>,
    /// `(start, len, tf)` of each value, `start..start + len` in `docs`.
    entries: Vec<(usize, usize, u64)>,
}

impl Postings {
    /// Adds `tf` occurrences in `doc`.
    pub fn add(&mut self, doc: &str, tf: u64) {
        self.entries.push((self.docs.len(), doc.len(), tf));
        self.docs.extend_from_slice(doc.as_bytes());
    }

    /// Appends `df<TAB>doc:tf,…` (documents sorted bytewise, each once, tf
    /// summed) to `out`, and empties the postings for the next word.
    pub fn write(&mut self, out: &mut Vec<u8>) {
        let Self { docs, entries } = self;
        let doc = |&(start, len, _): &(usize, usize, u64)| &docs[start..start + len];
        // Whole-line sorting (`LC_ALL=C sort`) already orders a word's values
        // by document, so one pass usually merges them; otherwise sort first.
        if !merge_sorted(entries, doc) {
            entries.sort_by(|a, b| bytes::compare(doc(a), doc(b)));
            merge_sorted(entries, doc);
        }
        bytes::push_decimal(out, entries.len() as u64);
        out.push(b'\t');
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_escaped(out, doc(entry));
            out.push(b':');
            bytes::push_decimal(out, entry.2);
        }
        docs.clear();
        entries.clear();
    }
}

/// Merges runs of equal documents (summing tf) in `entries`, in place.
/// Returns `false` at the first document out of order, leaving the entries
/// merged up to there and untouched after: the same postings, not yet sorted.
fn merge_sorted<'d>(
    entries: &mut Vec<(usize, usize, u64)>,
    doc: impl Fn(&(usize, usize, u64)) -> &'d [u8],
) -> bool {
    let mut kept = 0;
    for i in 1..entries.len() {
        match bytes::compare(doc(&entries[kept]), doc(&entries[i])) {
            Ordering::Less => {
                kept += 1;
                entries[kept] = entries[i];
            }
            Ordering::Equal => entries[kept].2 += entries[i].2,
            Ordering::Greater => {
                // Drop the slots already merged into `kept` and before.
                entries.drain(kept + 1..i);
                return false;
            }
        }
    }
    entries.truncate((kept + 1).min(entries.len()));
    true
}

/// Appends a document id with `%`, `:` and `,` percent-encoded.
fn push_escaped(out: &mut Vec<u8>, doc: &[u8]) {
    if memchr::memchr3(b'%', b':', b',', doc).is_none() {
        out.extend_from_slice(doc);
        return;
    }
    for &b in doc {
        match b {
            b'%' => out.extend_from_slice(b"%25"),
            b':' => out.extend_from_slice(b"%3A"),
            b',' => out.extend_from_slice(b"%2C"),
            b => out.push(b),
        }
    }
}

/// Reduces a stream of sorted lines, one word at a time.
#[derive(Debug, Default)]
pub struct Reducer {
    /// The current word; `None` before the first pair.
    key: Option<Vec<u8>>,
    postings: Postings,
    /// What the stream saw.
    pub counters: Counters,
}

impl Reducer {
    /// A reducer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (without its `\n`); a finished word's posting line is appended to `out`.
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
        match &mut self.key {
            Some(current) if bytes::equal(current, key.as_bytes()) => {}
            Some(current) if bytes::compare(current, key.as_bytes()).is_gt() => {
                return Err(ReduceError::Unsorted {
                    line,
                    previous: String::from_utf8_lossy(current).into_owned(),
                    key: key.to_owned(),
                });
            }
            _ => {
                self.flush(out);
                self.key
                    .get_or_insert_default()
                    .extend_from_slice(key.as_bytes());
            }
        }
        let postings = &mut self.postings;
        if !parse_value(value, |doc, tf| postings.add(doc, tf)) {
            return Err(ReduceError::MalformedValue {
                line,
                value: value.to_owned(),
            });
        }
        Ok(())
    }

    /// Ends the stream, writing the last word.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Counters {
        self.flush(out);
        self.counters
    }

    /// Writes the current word's posting line, keeping the key buffer for the next word.
    fn flush(&mut self, out: &mut Vec<u8>) {
        if let Some(key) = &mut self.key {
            out.extend_from_slice(key);
            out.push(b'\t');
            self.postings.write(out);
            out.push(b'\n');
            key.clear();
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
        // Out of document order after some merges (Hadoop sorts by key only).
        assert_eq!(
            reduce("w\td1\nw\td1\t2\nw\td3\nw\td2\nw\td3\t4\nw\td1\n").as_deref(),
            Ok("w\t3\td1:4,d2:1,d3:5\n")
        );
        // Lines of postings, overlapping in documents (two windows of a mapper).
        assert_eq!(
            reduce("w\td1\t2\td3\t1\nw\td2\t1\td3\t4\td4\t1\nw\td5\t1\n").as_deref(),
            Ok("w\t5\td1:2,d2:1,d3:5,d4:1,d5:1\n")
        );
        let combined = "cat\td1\t2\td2\t1\nhat\td1\t1\n";
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
        for value in ["d1\t1\td2", "d1\t1\td2\t0", "d1\t+1", "d1\t1\t\t"] {
            assert!(
                matches!(
                    reduce(&format!("cat\t{value}\n")),
                    Err(ReduceError::MalformedValue { line: 1, .. })
                ),
                "{value:?}"
            );
        }
    }

    #[test]
    fn document_ids_are_escaped() {
        assert_eq!(
            reduce("w\ta:b,c%\n").as_deref(),
            Ok("w\t1\ta%3Ab%2Cc%25:1\n")
        );
    }
}
