//! The map phase with a built-in combiner: each record line
//! `doc-id<TAB>content` becomes one `word<TAB>doc-id<TAB>tf` line per
//! distinct word of the document, words in byte order.

use crate::bytes;
use crate::lines::{Counters, Line, parse};
use crate::tokenize::Tokenizer;

/// Counts the words of one document at a time, reusing its buffers: the
/// words go into one arena and are sorted there, so counting a document
/// allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
pub struct WordCounter {
    arena: Vec<u8>,
    spans: Vec<Span>,
}

/// A word in the arena, with its first bytes as a number to sort by quickly.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// The first eight bytes, big-endian, zero-padded: orders like the bytes
    /// (words never hold a NUL).
    prefix: u64,
    start: usize,
    len: usize,
}

impl Span {
    fn new(start: usize, word: &[u8]) -> Self {
        let mut head = [0u8; 8];
        let n = word.len().min(8);
        head[..n].copy_from_slice(&word[..n]);
        Self {
            prefix: u64::from_be_bytes(head),
            start,
            len: word.len(),
        }
    }
}

impl WordCounter {
    /// Calls `each(word, tf)` for every distinct word of `content` (UTF-8),
    /// in byte order.
    pub fn count(
        &mut self,
        tokenizer: &Tokenizer,
        content: &str,
        mut each: impl FnMut(&[u8], u64),
    ) {
        let Self { arena, spans } = self;
        arena.clear();
        spans.clear();
        tokenizer.words(content, |word| {
            spans.push(Span::new(arena.len(), word.as_bytes()));
            arena.extend_from_slice(word.as_bytes());
        });
        let word = |s: &Span| &arena[s.start..s.start + s.len];
        // Words hold no NUL, so up to eight bytes the prefix and the length decide.
        let order = |a: &Span, b: &Span| {
            a.prefix.cmp(&b.prefix).then_with(|| {
                if a.len <= 8 && b.len <= 8 {
                    a.len.cmp(&b.len)
                } else {
                    bytes::compare(word(a), word(b))
                }
            })
        };
        spans.sort_unstable_by(order);
        let mut rest = &spans[..];
        while let Some(first) = rest.first() {
            let tf = rest.iter().take_while(|s| order(s, first).is_eq()).count();
            each(word(first), tf as u64);
            rest = &rest[tf..];
        }
    }
}

/// The distinct words of one document with their term frequencies, in byte order.
pub fn map_document(tokenizer: &Tokenizer, content: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    WordCounter::default().count(tokenizer, content, |word, tf| {
        out.push((String::from_utf8_lossy(word).into_owned(), tf))
    });
    out
}

/// The map phase over record lines: the tokenizer, reusable buffers and what
/// the lines so far contained.
#[derive(Debug, Default)]
pub struct Mapper {
    tokenizer: Tokenizer,
    words: WordCounter,
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

    /// Maps one input line (without its `\n`), appending its output lines to `out`.
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
            } => self.words.count(&self.tokenizer, content, |word, tf| {
                out.extend_from_slice(word);
                out.push(b'\t');
                out.extend_from_slice(doc.as_bytes());
                out.push(b'\t');
                bytes::push_decimal(out, tf);
                out.push(b'\n');
                counters.written += 1;
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_per_document_and_skips_bad_lines() {
        let mut mapper = Mapper::new(Tokenizer::new());
        let mut out = Vec::new();
        for line in [
            &b"d1\tThe cat, the hat."[..],
            b"no tab here",
            b"",
            b"\tno id",
            b"d2\t\xff",
            b"d3\tCat\r",
        ] {
            mapper.map_line(line, &mut out);
        }
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "cat\td1\t1\nhat\td1\t1\nthe\td1\t2\ncat\td3\t1\n"
        );
        assert_eq!(
            mapper.counters,
            Counters {
                lines: 6,
                blank: 1,
                malformed: 3,
                written: 4
            }
        );
    }
}
