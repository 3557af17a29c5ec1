//! The blob store guests import as `cloudfn:blob/store`: keys to immutable
//! byte sequences with metadata, written chunk by chunk and made visible
//! atomically. [`fs::FsStore`] keeps them under a data directory.

pub mod fs;
pub mod wit;

/// What is known about a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Metadata {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type given when it was written.
    pub content_type: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// When it was written, milliseconds since the Unix epoch.
    pub created: u64,
}

/// How a new blob is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// MIME type to keep.
    pub content_type: String,
    /// Refuse if the key already holds a blob.
    pub create_only: bool,
    /// Most bytes accepted.
    pub max_size: u64,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Blobs in key order (bytewise).
    pub items: Vec<Metadata>,
    /// Where the next page starts, when more remain.
    pub next_start_after: Option<String>,
}

/// Why a store operation failed (mirrors the WIT `error` variant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// No blob under this key.
    #[error("no blob under this key")]
    NotFound,
    /// The key breaks the rules.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The blob would exceed this many bytes.
    #[error("the blob exceeds {0} bytes")]
    TooLarge(u64),
    /// The bytes do not have the expected checksum.
    #[error("checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// Expected SHA-256.
        expected: String,
        /// Actual SHA-256.
        actual: String,
    },
    /// The key already holds a blob (create-only write).
    #[error("the key already holds a blob")]
    PreconditionFailed,
    /// I/O or backend failure.
    #[error("{0}")]
    Other(String),
}

impl From<std::io::Error> for BlobError {
    fn from(e: std::io::Error) -> Self {
        BlobError::Other(format!("blob store I/O: {e}"))
    }
}

/// Checks a key with the rules every store applies.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    blob_key::validate(key).map_err(|e| BlobError::InvalidKey(e.to_string()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
