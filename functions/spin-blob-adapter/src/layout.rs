//! How blobs sit in a key-value store whose values should stay small.
//!
//! - `blob:m:<key>` — the blob's [`Record`] (metadata plus the version and
//!   chunk count of its bytes), JSON. Setting it is the one atomic step that
//!   makes a new blob visible.
//! - `blob:d:<version>:<n>` — chunk `n` of a version, at most [`CHUNK`] bytes.
//!
//! A write puts its chunks under a fresh version, then sets the record, then
//! deletes the chunks of the version it replaced: readers see the old blob
//! or the new one, never a mix. An interrupted write leaves only chunks no
//! record points to.

use serde::{Deserialize, Serialize};

/// Bytes per stored chunk (small enough for every Spin key-value backend).
pub const CHUNK: usize = 512 << 10;

/// Key of a blob's record.
pub fn record_key(key: &str) -> String {
    format!("blob:m:{key}")
}

/// The blob key of a record key, if it is one.
pub fn blob_of_record(record_key: &str) -> Option<&str> {
    record_key.strip_prefix("blob:m:")
}

/// Key of chunk `n` of `version`.
pub fn chunk_key(version: &str, n: u64) -> String {
    format!("blob:d:{version}:{n}")
}

/// What the record of a blob holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub content_type: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Milliseconds since the Unix epoch.
    pub created: u64,
    /// Version whose chunks hold the bytes.
    pub version: String,
}

impl Record {
    /// Number of chunks of the bytes.
    pub fn chunks(&self) -> u64 {
        self.size.div_ceil(CHUNK as u64)
    }
}

/// The chunks covering `offset..offset + length` of a blob of `size` bytes:
/// `(chunk, start within it, end within it)`.
pub fn chunk_span(size: u64, offset: u64, length: u64) -> Vec<(u64, usize, usize)> {
    let end = size.min(offset.saturating_add(length));
    let chunk = CHUNK as u64;
    let mut out = Vec::new();
    let mut at = offset;
    while at < end {
        let n = at / chunk;
        let from = (at % chunk) as usize;
        let to = (end.min((n + 1) * chunk) - n * chunk) as usize;
        out.push((n, from, to));
        at = n * chunk + to as u64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_exactly_the_range() {
        let c = CHUNK as u64;
        assert_eq!(chunk_span(10, 0, 100), vec![(0, 0, 10)]);
        assert_eq!(
            chunk_span(3 * c, c - 2, 4),
            vec![(0, CHUNK - 2, CHUNK), (1, 0, 2)]
        );
        assert_eq!(
            chunk_span(3 * c, 0, u64::MAX),
            vec![(0, 0, CHUNK), (1, 0, CHUNK), (2, 0, CHUNK)]
        );
        assert_eq!(chunk_span(10, 10, 5), vec![]);
        assert_eq!(chunk_span(10, 20, 5), vec![]);
        assert_eq!(blob_of_record(&record_key("a/b")), Some("a/b"));
        assert_eq!(blob_of_record(&chunk_key("v", 0)), None);
    }
}
