//! The blob layout both backends share: the bytes, then the metadata as
//! JSON, then the JSON's length (8 bytes, little-endian) and `CFBLOB01`.
//! Bytes and metadata live in one file or object, so they change together.

use super::{BlobError, Metadata};

const MAGIC: &[u8; 8] = b"CFBLOB01";

/// Bytes of the fixed end: the JSON length and the magic.
pub const END: u64 = 16;

/// What follows a blob's bytes.
pub fn encode(meta: &Metadata) -> Result<Vec<u8>, BlobError> {
    let mut out = serde_json::to_vec(meta).map_err(|e| BlobError::Other(e.to_string()))?;
    let json_len = out.len() as u64;
    out.extend_from_slice(&json_len.to_le_bytes());
    out.extend_from_slice(MAGIC);
    Ok(out)
}

/// The JSON's range in a blob of `len` bytes whose last [`END`] bytes are `end`.
pub fn json_range(len: u64, end: &[u8]) -> Option<std::ops::Range<u64>> {
    if len < END || end.len() != END as usize || &end[8..] != MAGIC {
        return None;
    }
    let json_len = u64::from_le_bytes(end[..8].try_into().ok()?);
    let start = (len - END).checked_sub(json_len)?;
    Some(start..len - END)
}

/// The metadata from the JSON found at `range`, checked against it (its
/// size must be where the JSON starts).
pub fn decode(json: &[u8], range: &std::ops::Range<u64>) -> Option<Metadata> {
    let meta: Metadata = serde_json::from_slice(json).ok()?;
    (meta.size == range.start).then_some(meta)
}
