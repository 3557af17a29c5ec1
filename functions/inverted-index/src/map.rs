//! The map phase with a built-in combiner: each record line
//! `doc-id<TAB>content` becomes one `word<TAB>doc-id<TAB>tf` line per
//! distinct word of the document, words in byte order.

use crate::lines::{Counters, Line, parse};
use crate::tokenize::Tokenizer;
use std::collections::BTreeMap;

/// The distinct words of one document with their term frequencies, in byte order.
pub fn map_document(tokenizer: &Tokenizer, content: &str) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    tokenizer.words(content, |word| match counts.get_mut(word) {
        Some(n) => *n += 1,
        None => {
            counts.insert(word.to_owned(), 1);
        }
    });
    counts.into_iter().collect()
}

/// Maps one input line, appending its output lines to `out`.
///
/// A record needs a non-empty document id and a tab; other lines are counted
/// as malformed (or blank) and produce nothing.
pub fn map_line(tokenizer: &Tokenizer, raw: &[u8], counters: &mut Counters, out: &mut Vec<u8>) {
    counters.lines += 1;
    match parse(raw) {
        Line::Blank => counters.blank += 1,
        Line::Invalid | Line::Pair { value: None, .. } | Line::Pair { key: "", .. } => {
            counters.malformed += 1
        }
        Line::Pair {
            key: doc,
            value: Some(content),
        } => {
            for (word, tf) in map_document(tokenizer, content) {
                out.extend_from_slice(word.as_bytes());
                out.push(b'\t');
                out.extend_from_slice(doc.as_bytes());
                out.push(b'\t');
                out.extend_from_slice(tf.to_string().as_bytes());
                out.push(b'\n');
                counters.written += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_per_document_and_skips_bad_lines() {
        let t = Tokenizer::new();
        let mut counters = Counters::default();
        let mut out = Vec::new();
        for line in [
            &b"d1\tThe cat, the hat."[..],
            b"no tab here",
            b"",
            b"\tno id",
            b"d2\t\xff",
            b"d3\tCat\r",
        ] {
            map_line(&t, line, &mut counters, &mut out);
        }
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "cat\td1\t1\nhat\td1\t1\nthe\td1\t2\ncat\td3\t1\n"
        );
        assert_eq!(
            counters,
            Counters {
                lines: 6,
                blank: 1,
                malformed: 3,
                written: 4
            }
        );
    }
}
