//! The Hadoop Streaming line protocol.
//!
//! - A line is split at its first tab: key before, value after; a line
//!   without a tab is all key, with no value.
//! - A trailing `\r` (CRLF input) is removed before splitting.
//! - Blank lines carry nothing and are skipped (counted as blank).
//! - A line that is not valid UTF-8 is skipped and counted as malformed;
//!   it never stops the stream.

/// One parsed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A key, and a value when the line had a tab.
    Pair {
        /// Everything before the first tab.
        key: &'a str,
        /// Everything after it (`None` without a tab).
        value: Option<&'a str>,
    },
    /// An empty (or `\r`-only) line.
    Blank,
    /// Not valid UTF-8.
    Invalid,
}

/// Parses one line (without its `\n`).
pub fn parse(raw: &[u8]) -> Line<'_> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.is_empty() {
        return Line::Blank;
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Line::Invalid;
    };
    // `memchr` is vectorised on wasm too, unlike `str::split_once`.
    match memchr::memchr(b'\t', raw) {
        Some(tab) => Line::Pair {
            key: &text[..tab],
            value: Some(&text[tab + 1..]),
        },
        None => Line::Pair {
            key: text,
            value: None,
        },
    }
}

/// What a run over lines saw, reported at the end of a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read.
    pub lines: u64,
    /// Blank lines skipped.
    pub blank: u64,
    /// Lines skipped as malformed (invalid UTF-8, or a record without a tab for the mapper).
    pub malformed: u64,
    /// Lines written.
    pub written: u64,
}

impl std::fmt::Display for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lines read, {} written, {} blank, {} malformed",
            self.lines, self.written, self.blank, self.malformed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_protocol_table() {
        assert_eq!(
            parse(b"k\tv"),
            Line::Pair {
                key: "k",
                value: Some("v")
            }
        );
        assert_eq!(
            parse(b"k\tv\tw"),
            Line::Pair {
                key: "k",
                value: Some("v\tw")
            }
        );
        assert_eq!(
            parse(b"just a key"),
            Line::Pair {
                key: "just a key",
                value: None
            }
        );
        assert_eq!(
            parse(b"k\tv\r"),
            Line::Pair {
                key: "k",
                value: Some("v")
            }
        );
        assert_eq!(
            parse(b"\tv"),
            Line::Pair {
                key: "",
                value: Some("v")
            }
        );
        assert_eq!(parse(b""), Line::Blank);
        assert_eq!(parse(b"\r"), Line::Blank);
        assert_eq!(parse(b"k\t\xff"), Line::Invalid);
    }
}
