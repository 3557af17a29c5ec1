//! Whole bodies of lines, for the HTTP faces: map, reduce, and map-sort-reduce.

use crate::lines::Counters;
use crate::map::Mapper;
use crate::reduce::{ReduceError, Reducer};
use crate::tokenize::Tokenizer;

/// Largest body the HTTP faces take in one request.
pub const MAX_BODY: usize = 16 << 20;
/// What a `413` for a body over [`MAX_BODY`] advises.
pub const TOO_LARGE: &str = "for larger inputs use `cloudfn stream` or a Hadoop Streaming job";
/// The `Content-Type` of the line replies.
pub const TSV: &str = "text/tab-separated-values; charset=utf-8";

/// Maps every record line of `body`.
pub fn map_body(tokenizer: &Tokenizer, body: &[u8]) -> (Vec<u8>, Counters) {
    let mut mapper = Mapper::new(tokenizer.clone());
    let mut out = Vec::with_capacity(body.len());
    for line in lines(body) {
        mapper.map_line(line, &mut out);
    }
    mapper.flush(&mut out);
    (out, mapper.counters)
}

/// Maps `(doc-id, content)` records as [`map_body`] maps record lines: the
/// `(word, postings)` pairs of its output lines.
pub fn map_records<'a>(
    tokenizer: &Tokenizer,
    records: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut mapper = Mapper::new(tokenizer.clone());
    let mut out = Vec::new();
    for (doc, content) in records {
        mapper.map_record(doc, content, &mut out);
    }
    mapper.flush(&mut out);
    lines(&out)
        .map(|line| {
            // Every output line is `word<TAB>postings`, from `&str` words and ids.
            let line = String::from_utf8_lossy(line);
            let (word, postings) = line.split_once('\t').unwrap_or((&line, ""));
            (word.to_owned(), postings.to_owned())
        })
        .collect()
}

/// Reduces the sorted pair lines of `body`.
pub fn reduce_body(body: &[u8]) -> Result<(Vec<u8>, Counters), ReduceError> {
    let mut reducer = Reducer::new();
    let mut out = Vec::new();
    for line in lines(body) {
        reducer.push_line(line, &mut out)?;
    }
    let counters = reducer.finish(&mut out);
    Ok((out, counters))
}

/// Maps, sorts bytewise and reduces: the whole index of `body`'s records.
pub fn build_index(tokenizer: &Tokenizer, body: &[u8]) -> (Vec<u8>, Counters) {
    let (mapped, counters) = map_body(tokenizer, body);
    let mut pairs: Vec<&[u8]> = lines(&mapped).filter(|l| !l.is_empty()).collect();
    pairs.sort_unstable();
    let mut reducer = Reducer::new();
    let mut out = Vec::new();
    for pair in pairs {
        // Sorted just above, and every mapped value is well formed.
        if reducer.push_line(pair, &mut out).is_err() {
            break;
        }
    }
    reducer.finish(&mut out);
    (out, counters)
}

/// The lines of `body` without their `\n`; a final unterminated line counts, a final empty one does not.
fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    body.split(|&b| b == b'\n')
        .filter(move |_| !body.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_equals_map_sort_reduce() {
        let t = Tokenizer::new();
        let body = b"d2\tthe cat\nd1\tThe hat, the cat\n";
        let (index, counters) = build_index(&t, body);
        assert_eq!(
            String::from_utf8(index).expect("utf-8"),
            "cat\t2\td1:1,d2:1\nhat\t1\td1:1\nthe\t2\td1:2,d2:1\n"
        );
        assert_eq!(
            (counters.lines, counters.written),
            (2, 3),
            "one line per word"
        );
        let (mapped, _) = map_body(&t, body);
        let mut sorted: Vec<&[u8]> = mapped
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        sorted.sort();
        let (reduced, _) = reduce_body(&sorted.join(&b'\n')).expect("sorted");
        assert_eq!(reduced, build_index(&t, body).0);
    }
}
