//! The blob store guests import as `cloudfn:blob/store`: keys to immutable
//! byte sequences with metadata, written chunk by chunk and made visible
//! atomically. [`fs::FsStore`] keeps them under a data directory,
//! [`s3::S3Store`] in an S3 bucket; [`BlobStore`] is either.

pub mod fs;
pub mod s3;
pub mod trailer;
pub mod wit;

use super::{GrantContext, HasService, Service, ServiceConfig};
use std::sync::{Arc, OnceLock};
use wasmtime::component::Linker;

/// The service: one store per runtime, opened when a component first needs
/// it (the filesystem one then clears interrupted uploads), granted to
/// components with `key_value_stores = ["default"]`.
pub struct Blob {
    config: ServiceConfig,
    store: OnceLock<Arc<BlobStore>>,
}

impl Blob {
    /// The store, opened on first use.
    fn open(&self, ctx: &GrantContext<'_>) -> Result<Arc<BlobStore>, String> {
        if let Some(store) = self.store.get() {
            return Ok(store.clone());
        }
        let store =
            match &self.config.blob_url {
                Some(url) => BlobStore::S3(s3::S3Store::open(url).map_err(|e| e.to_string())?),
                None => {
                    let dir = self.config.data_dir(ctx.manifest);
                    BlobStore::Fs(fs::FsStore::open(&dir).map_err(|e| {
                        format!("cannot open the blob store in {}: {e}", dir.display())
                    })?)
                }
            };
        Ok(self.store.get_or_init(|| Arc::new(store)).clone())
    }
}

impl Service for Blob {
    type Grant = Option<Arc<BlobStore>>;
    type Instance = Option<Arc<BlobStore>>;

    fn new(config: &ServiceConfig) -> Result<Self, String> {
        Ok(Self {
            config: config.clone(),
            store: OnceLock::new(),
        })
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<Self::Grant, String> {
        if ctx
            .component
            .key_value_stores
            .iter()
            .any(|s| s == "default")
        {
            self.open(ctx).map(Some)
        } else {
            Ok(None)
        }
    }

    fn instance(&self, grant: &Self::Grant) -> Self::Instance {
        grant.clone()
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}

/// The configured backend.
#[derive(Debug)]
pub enum BlobStore {
    /// Files under a data directory.
    Fs(fs::FsStore),
    /// Objects in an S3 bucket.
    S3(s3::S3Store),
}

/// A blob being written.
#[derive(Debug)]
pub enum BlobWriter {
    /// To a file.
    Fs(Box<fs::FsWriter>),
    /// To a multipart upload.
    S3(s3::S3Writer),
}

/// A blob opened for reading.
#[derive(Debug)]
pub enum BlobReader {
    /// From a file.
    Fs(fs::FsReader),
    /// From an object.
    S3(s3::S3Reader),
}

impl BlobStore {
    /// Starts writing a blob under `key`.
    pub fn writer(&self, key: &str, options: WriteOptions) -> Result<BlobWriter, BlobError> {
        match self {
            BlobStore::Fs(s) => s.writer(key, options).map(|w| BlobWriter::Fs(Box::new(w))),
            BlobStore::S3(s) => s.writer(key, options).map(BlobWriter::S3),
        }
    }

    /// Opens a blob for reading.
    pub fn reader(&self, key: &str) -> Result<BlobReader, BlobError> {
        match self {
            BlobStore::Fs(s) => s.reader(key).map(BlobReader::Fs),
            BlobStore::S3(s) => s.reader(key).map(BlobReader::S3),
        }
    }

    /// The blob's metadata.
    pub fn stat(&self, key: &str) -> Result<Metadata, BlobError> {
        match self {
            BlobStore::Fs(s) => s.stat(key),
            BlobStore::S3(s) => s.stat(key),
        }
    }

    /// A page of blobs whose key starts with `prefix`, after `start_after`.
    pub fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Page, BlobError> {
        match self {
            BlobStore::Fs(s) => s.list(prefix, start_after, limit),
            BlobStore::S3(s) => s.list(prefix, start_after, limit),
        }
    }

    /// Deletes a blob.
    pub fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self {
            BlobStore::Fs(s) => s.delete(key),
            BlobStore::S3(s) => s.delete(key),
        }
    }
}

impl BlobWriter {
    /// Appends a chunk.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        match self {
            BlobWriter::Fs(w) => w.write(chunk),
            BlobWriter::S3(w) => w.write(chunk),
        }
    }

    /// Checks the checksum, then makes the blob visible atomically.
    pub fn finish(self, expected_sha256: Option<&str>) -> Result<Metadata, BlobError> {
        match self {
            BlobWriter::Fs(w) => (*w).finish(expected_sha256),
            BlobWriter::S3(w) => w.finish(expected_sha256),
        }
    }

    /// Discards everything written.
    pub fn abort(self) {
        match self {
            BlobWriter::Fs(w) => (*w).abort(),
            BlobWriter::S3(w) => w.abort(),
        }
    }
}

impl BlobReader {
    /// The blob's metadata.
    pub fn metadata(&self) -> &Metadata {
        match self {
            BlobReader::Fs(r) => r.metadata(),
            BlobReader::S3(r) => r.metadata(),
        }
    }

    /// Up to `length` bytes from `offset`.
    pub fn read(&mut self, offset: u64, length: u64) -> Result<Vec<u8>, BlobError> {
        match self {
            BlobReader::Fs(r) => r.read(offset, length),
            BlobReader::S3(r) => r.read(offset, length),
        }
    }
}

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

/// One listing page out of `items` in any order: those whose key (`key`)
/// starts with `prefix` and sorts after `start_after`, in bytewise key
/// order, at most `limit` (clamped to 1..=1,000), and the marker of the
/// next page when more remain.
pub fn page_of<T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> &str,
    prefix: &str,
    start_after: Option<&str>,
    limit: u32,
) -> (Vec<T>, Option<String>) {
    let mut items: Vec<T> = items
        .into_iter()
        .filter(|item| key(item).starts_with(prefix))
        .filter(|item| start_after.is_none_or(|after| key(item) > after))
        .collect();
    items.sort_unstable_by(|a, b| key(a).as_bytes().cmp(key(b).as_bytes()));
    let limit = limit.clamp(1, 1000) as usize;
    let next_start_after = (items.len() > limit).then(|| key(&items[limit - 1]).to_owned());
    items.truncate(limit);
    (items, next_start_after)
}

/// Checks a key with the rules every store applies.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    blob_key::validate(key).map_err(|e| BlobError::InvalidKey(e.to_string()))
}
