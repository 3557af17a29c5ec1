//! The map phase with a built-in combiner across documents.
//!
//! Record lines `doc-id<TAB>content` are gathered into windows of about
//! [`WINDOW_BYTES`] of input. Each window becomes one line per distinct word:
//!
//! `word<TAB>doc<TAB>tf<TAB>doc<TAB>tf…`
//!
//! with the window's documents in byte order, each once (records with the
//! same id are one document), words in byte order. This is in-mapper
//! combining: the reducer's output is the same as from one pair per word
//! occurrence, but the sort between the phases gets one line per word and
//! window instead of one per word and document, about a fifth as many lines
//! on real text, and after the sort a word's lines come in the order of their
//! first document, so the reducer mostly concatenates them. Memory is one
//! window (a record longer than the window is a window of its own).

use crate::bytes;
use crate::lines::{Counters, Line, parse};
use crate::tokenize::Tokenizer;
use hashbrown::HashTable;
use std::hash::Hasher;

/// Input bytes (record lines) gathered before a window is mapped and written.
pub const WINDOW_BYTES: usize = 1 << 20;

/// The map phase over record lines: the window being gathered, reusable
/// tables, and what the lines so far contained.
#[derive(Debug, Default)]
pub struct Mapper {
    tokenizer: Tokenizer,
    window: Window,
    table: WordTable,
    /// What the lines so far contained.
    pub counters: Counters,
}

impl Mapper {
    /// A mapper splitting documents with `tokenizer`.
    pub fn new(tokenizer: Tokenizer) -> Self {
        Self {
            tokenizer,
            ..Self::default()
        }
    }

    /// Takes one input line (without its `\n`). When the window is full its
    /// output lines are appended to `out`.
    ///
    /// A record needs a non-empty document id and a tab; other lines are
    /// counted as malformed (or blank) and produce nothing.
    pub fn map_line(&mut self, raw: &[u8], out: &mut Vec<u8>) {
        let counters = &mut self.counters;
        counters.lines += 1;
        match parse(raw) {
            Line::Blank => counters.blank += 1,
            Line::Invalid | Line::Pair { value: None, .. } | Line::Pair { key: "", .. } => {
                counters.malformed += 1
            }
            Line::Pair {
                key: doc,
                value: Some(content),
            } => self.gather(doc, content, out),
        }
    }

    /// Maps one record, as [`Mapper::map_line`] does a record line.
    pub fn map_record(&mut self, doc: &str, content: &str, out: &mut Vec<u8>) {
        self.counters.lines += 1;
        self.gather(doc, content, out);
    }

    /// Adds a record to the window, and maps the window once it is full.
    fn gather(&mut self, doc: &str, content: &str, out: &mut Vec<u8>) {
        self.window.push(doc, content);
        if self.window.text.len() >= WINDOW_BYTES {
            self.flush(out);
        }
    }

    /// Maps the window gathered so far, appending its lines to `out`. Call
    /// it at the end of the input.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        let Self {
            tokenizer,
            window,
            table,
            counters,
        } = self;
        counters.written += table.index(tokenizer, window, out);
        window.clear();
    }
}

/// Records waiting to be mapped together.
#[derive(Debug, Default)]
struct Window {
    /// Document ids and contents, back to back.
    text: String,
    /// Each record's id and content, as `(start, len)` in `text`.
    records: Vec<[(usize, usize); 2]>,
}

impl Window {
    fn push(&mut self, doc: &str, content: &str) {
        let mut span = |s: &str| {
            let start = self.text.len();
            self.text.push_str(s);
            (start, s.len())
        };
        let record = [span(doc), span(content)];
        self.records.push(record);
    }

    fn get(&self, (start, len): (usize, usize)) -> &str {
        &self.text[start..start + len]
    }

    fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
    }
}

/// The distinct words of a window with their postings, in buffers reused
/// from window to window.
#[derive(Debug, Default)]
struct WordTable {
    /// The distinct words, found by their bytes.
    lookup: HashTable<WordEntry>,
    /// The distinct words, back to back.
    words: Vec<u8>,
    /// Every (word, document) pair of the window, in document order.
    postings: Vec<Posting>,
    /// Records in document-id order.
    record_order: Vec<u32>,
    /// `(first eight bytes, word)` for every word, sorted into word order.
    word_order: Vec<(u64, WordEntry)>,
    /// The postings grouped by word, and where each word's group ends.
    grouped: Vec<(u32, u64)>,
    group_ends: Vec<u32>,
}

/// A distinct word of the window: where it is in `words`, its number, and
/// its latest posting (so a word seen again in the same document costs one
/// lookup and no other memory access).
#[derive(Debug, Clone, Copy)]
struct WordEntry {
    start: u32,
    len: u32,
    id: u32,
    latest_doc: u32,
    latest: u32,
}

impl WordEntry {
    fn word<'w>(&self, words: &'w [u8]) -> &'w [u8] {
        &words[self.start as usize..(self.start + self.len) as usize]
    }
}

/// Occurrences of one word in one document.
#[derive(Debug, Clone, Copy)]
struct Posting {
    word: u32,
    /// The first record of the document in the window.
    doc: u32,
    tf: u64,
}

impl WordTable {
    /// Counts the words of every record in `window` and writes the window's
    /// lines to `out`; returns how many.
    fn index(&mut self, tokenizer: &Tokenizer, window: &Window, out: &mut Vec<u8>) -> u64 {
        let id = |r: &u32| window.get(window.records[*r as usize][0]).as_bytes();
        self.record_order.clear();
        self.record_order.extend(0..window.records.len() as u32);
        self.record_order
            .sort_unstable_by(|a, b| bytes::compare(id(a), id(b)).then(a.cmp(b)));
        let mut doc = u32::MAX;
        for i in 0..self.record_order.len() {
            let record = self.record_order[i];
            if doc == u32::MAX || !bytes::equal(id(&doc), id(&record)) {
                doc = record;
            }
            let content = window.get(window.records[record as usize][1]);
            tokenizer.words(content, |word| self.count(word.as_bytes(), doc));
        }
        let written = self.write(window, out);
        self.clear();
        written
    }

    /// One occurrence of `word` in `doc`.
    fn count(&mut self, word: &[u8], doc: u32) {
        let hash = hash(word);
        let Self {
            lookup,
            words,
            postings,
            ..
        } = self;
        let next = postings.len() as u32;
        match lookup.find_mut(hash, |e| bytes::equal(e.word(words), word)) {
            Some(entry) if entry.latest_doc == doc => {
                postings[entry.latest as usize].tf += 1;
            }
            Some(entry) => {
                entry.latest_doc = doc;
                entry.latest = next;
                postings.push(Posting {
                    word: entry.id,
                    doc,
                    tf: 1,
                });
            }
            None => {
                let entry = WordEntry {
                    start: words.len() as u32,
                    len: word.len() as u32,
                    id: lookup.len() as u32,
                    latest_doc: doc,
                    latest: next,
                };
                words.extend_from_slice(word);
                lookup.insert_unique(hash, entry, |e| self::hash(e.word(words)));
                postings.push(Posting {
                    word: entry.id,
                    doc,
                    tf: 1,
                });
            }
        }
    }

    /// Writes one line per word, in word order; returns how many.
    fn write(&mut self, window: &Window, out: &mut Vec<u8>) -> u64 {
        let Self {
            lookup,
            words,
            postings,
            word_order,
            grouped,
            group_ends,
            ..
        } = self;
        // Group the postings by word, keeping document order (a counting sort).
        group_ends.clear();
        group_ends.resize(lookup.len() + 1, 0);
        for p in postings.iter() {
            group_ends[p.word as usize + 1] += 1;
        }
        for w in 1..group_ends.len() {
            group_ends[w] += group_ends[w - 1];
        }
        grouped.clear();
        grouped.resize(postings.len(), (0, 0));
        for p in postings.iter() {
            let slot = &mut group_ends[p.word as usize];
            grouped[*slot as usize] = (p.doc, p.tf);
            *slot += 1;
        }
        // Now `group_ends[w]` is where word `w`'s postings end (and `w + 1`'s start).
        word_order.clear();
        word_order.extend(lookup.iter().map(|e| (prefix(e.word(words)), *e)));
        // Words hold no NUL, so equal prefixes of words up to eight bytes long
        // cannot be distinct words.
        word_order.sort_unstable_by(|(pa, a), (pb, b)| {
            pa.cmp(pb)
                .then_with(|| bytes::compare(a.word(words), b.word(words)))
        });
        for (_, entry) in word_order.iter() {
            let w = entry.id as usize;
            let start = if w == 0 { 0 } else { group_ends[w - 1] };
            out.extend_from_slice(entry.word(words));
            for &(doc, tf) in &grouped[start as usize..group_ends[w] as usize] {
                out.push(b'\t');
                out.extend_from_slice(window.get(window.records[doc as usize][0]).as_bytes());
                out.push(b'\t');
                bytes::push_decimal(out, tf);
            }
            out.push(b'\n');
        }
        word_order.len() as u64
    }

    fn clear(&mut self) {
        self.lookup.clear();
        self.words.clear();
        self.postings.clear();
    }
}

/// The first eight bytes of `word`, big-endian and zero-padded: orders like the bytes.
fn prefix(word: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let n = word.len().min(8);
    head[..n].copy_from_slice(&word[..n]);
    u64::from_be_bytes(head)
}

fn hash(word: &[u8]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(word);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_across_documents_and_skips_bad_lines() {
        let mut mapper = Mapper::new(Tokenizer::new());
        let mut out = Vec::new();
        for line in [
            &b"d3\tThe cat, the hat."[..],
            b"no tab here",
            b"",
            b"\tno id",
            b"d2\t\xff",
            b"d1\tCat\r",
            b"d3\tthe end",
        ] {
            mapper.map_line(line, &mut out);
        }
        assert!(out.is_empty(), "nothing before the window is full");
        mapper.flush(&mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "cat\td1\t1\td3\t1\nend\td3\t1\nhat\td3\t1\nthe\td3\t3\n"
        );
        assert_eq!(
            mapper.counters,
            Counters {
                lines: 7,
                blank: 1,
                malformed: 3,
                written: 4
            }
        );
    }

    #[test]
    fn a_full_window_is_written_and_the_next_begins() {
        let mut mapper = Mapper::new(Tokenizer::new());
        let mut out = Vec::new();
        let long = format!("d1\t{}", "word ".repeat(WINDOW_BYTES / 5));
        mapper.map_line(long.as_bytes(), &mut out);
        assert_eq!(out, format!("word\td1\t{}\n", WINDOW_BYTES / 5).as_bytes());
        mapper.map_line(b"d0\tword", &mut out);
        mapper.flush(&mut out);
        assert!(out.ends_with(b"\nword\td0\t1\n"), "a window of its own");
        assert_eq!(mapper.counters.written, 2);
    }
}
