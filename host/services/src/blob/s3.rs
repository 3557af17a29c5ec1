//! Blobs as objects in an S3 bucket, through `object_store`.
//!
//! Each object holds the blob's bytes followed by the same metadata trailer
//! as the filesystem store (JSON, its length, `CFBLOB01`), so bytes and
//! metadata land in one multipart upload and become visible together when
//! it completes; an aborted or interrupted upload is never visible. The
//! SHA-256 is only known at the end, which is why it cannot ride in S3 user
//! metadata (set when the upload starts). The object is named by the key
//! itself; keys that are not valid object paths (an empty segment such as
//! `a//b` or a trailing `/`) are refused with `invalid-key`.
//!
//! The store's calls come from wasmtime host functions, which are
//! synchronous: each operation runs on the store's own tokio runtime and
//! the caller waits for its result. A writer is a task on that runtime
//! owning the multipart upload, fed chunk by chunk.

use super::{BlobError, Metadata, Page, WriteOptions, check_key, page_of, trailer};
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, PutMultipartOptions, WriteMultipart,
};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// An S3 blob store.
#[derive(Debug)]
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
}

fn err(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        e => BlobError::Other(format!("S3: {e}")),
    }
}

fn object_path(key: &str) -> Result<Path, BlobError> {
    check_key(key)?;
    Path::parse(key)
        .map_err(|e| BlobError::InvalidKey(format!("not representable as an S3 object name: {e}")))
}

/// `s3://bucket/a/b/` as (`s3://bucket`, `Some("a/b")`): the bucket URL
/// and the prefix the blob keys live under, if any.
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    match url[scheme_end..].find('/') {
        Some(slash) => {
            let (bucket, path) = url.split_at(scheme_end + slash);
            let prefix = path.trim_matches('/');
            (bucket, (!prefix.is_empty()).then_some(prefix))
        }
        None => (url, None),
    }
}

impl S3Store {
    /// Connects to `url` (`s3://bucket`, or `s3://bucket/prefix` to keep
    /// the blobs under a prefix), configured like the AWS tools from the
    /// environment (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`, …).
    pub fn open(url: &str) -> Result<S3Store, BlobError> {
        let (bucket, prefix) = split_url(url);
        let s3 = AmazonS3Builder::from_env()
            .with_url(bucket)
            .build()
            .map_err(|e| BlobError::Other(format!("S3 store {url}: {e}")))?;
        let store: Arc<dyn ObjectStore> = match prefix {
            Some(prefix) => Arc::new(PrefixStore::new(s3, prefix)),
            None => Arc::new(s3),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cloudfn-s3")
            .enable_all()
            .build()
            .map_err(|e| BlobError::Other(format!("S3 runtime: {e}")))?;
        Ok(S3Store { store, runtime })
    }

    /// Runs `f` on the store's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T, BlobError>> + Send + 'static,
    ) -> Result<T, BlobError> {
        let (tx, rx) = std_mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| BlobError::Other("S3: the operation was cancelled".into()))?
    }

    /// Starts writing a blob under `key`.
    pub fn writer(&self, key: &str, options: WriteOptions) -> Result<S3Writer, BlobError> {
        let path = object_path(key)?;
        let store = self.store.clone();
        let (key, opts) = (key.to_owned(), options.clone());
        let head_path = path.clone();
        let head_store = store.clone();
        if options.create_only && self.run(async move { exists(&head_store, &head_path).await })? {
            return Err(BlobError::PreconditionFailed);
        }
        let upload = {
            let (store, path) = (store.clone(), path.clone());
            let content_type = options.content_type.clone();
            self.run(async move {
                let attributes = Attributes::from_iter([(
                    Attribute::ContentType,
                    object_store::AttributeValue::from(content_type),
                )]);
                let opts = PutMultipartOptions {
                    attributes,
                    ..Default::default()
                };
                store.put_multipart_opts(&path, opts).await.map_err(err)
            })?
        };
        let (tx, rx) = mpsc::unbounded_channel();
        self.runtime.spawn(write_task(
            store,
            path,
            key,
            opts,
            WriteMultipart::new(upload),
            rx,
        ));
        Ok(S3Writer { tx })
    }

    /// Opens a blob for reading: later reads fail rather than mix versions
    /// if the key is rewritten meanwhile.
    pub fn reader(&self, key: &str) -> Result<S3Reader, BlobError> {
        let path = object_path(key)?;
        let store = self.store.clone();
        let (meta, e_tag) = self.run(async move { read_metadata(&store, &path).await })?;
        Ok(S3Reader {
            store: self.store.clone(),
            path: object_path(key)?,
            e_tag,
            meta,
            runtime: self.runtime.handle().clone(),
        })
    }

    /// The blob's metadata.
    pub fn stat(&self, key: &str) -> Result<Metadata, BlobError> {
        let path = object_path(key)?;
        let store = self.store.clone();
        self.run(async move { read_metadata(&store, &path).await.map(|(m, _)| m) })
    }

    /// Blobs whose key starts with `prefix` and sorts after `start_after`, at most `limit`.
    pub fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Page, BlobError> {
        let store = self.store.clone();
        let (prefix, start_after) = (prefix.to_owned(), start_after.map(str::to_owned));
        self.run(async move {
            // List the deepest directory the prefix names, then filter by the string prefix.
            let dir = prefix
                .rsplit_once('/')
                .map(|(d, _)| d)
                .filter(|d| !d.is_empty());
            let dir = dir
                .map(Path::parse)
                .transpose()
                .map_err(|e| BlobError::Other(e.to_string()))?;
            let objects: Vec<_> = store.list(dir.as_ref()).try_collect().await.map_err(err)?;
            let (keys, next_start_after) = page_of(
                objects.into_iter().map(|o| o.location.to_string()),
                |k: &String| k.as_str(),
                &prefix,
                start_after.as_deref(),
                limit,
            );
            let mut items = Vec::with_capacity(keys.len());
            for key in keys {
                match read_metadata(&store, &Path::from(key.as_str())).await {
                    Ok((meta, _)) => items.push(meta),
                    // Deleted since the listing; objects written by others are skipped too.
                    Err(BlobError::NotFound | BlobError::Other(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(Page {
                items,
                next_start_after,
            })
        })
    }

    /// Deletes a blob.
    pub fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = object_path(key)?;
        let store = self.store.clone();
        self.run(async move {
            if !exists(&store, &path).await? {
                return Err(BlobError::NotFound);
            }
            store.delete(&path).await.map_err(err)
        })
    }
}

async fn exists(store: &dyn ObjectStore, path: &Path) -> Result<bool, BlobError> {
    match store.head(path).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(err(e)),
    }
}

/// The metadata trailer of an object, and the object's ETag.
async fn read_metadata(
    store: &dyn ObjectStore,
    path: &Path,
) -> Result<(Metadata, Option<String>), BlobError> {
    let corrupt = || BlobError::Other(format!("S3: object {path} is not a cloudfn blob"));
    let head = store.head(path).await.map_err(err)?;
    let size = head.size;
    if size < trailer::END {
        return Err(corrupt());
    }
    let end = store
        .get_range(path, size - trailer::END..size)
        .await
        .map_err(err)?;
    let range = trailer::json_range(size, &end).ok_or_else(corrupt)?;
    let json = store.get_range(path, range.clone()).await.map_err(err)?;
    let meta = trailer::decode(&json, &range).ok_or_else(corrupt)?;
    Ok((meta, head.e_tag))
}

enum Message {
    Chunk(Vec<u8>, std_mpsc::Sender<Result<(), BlobError>>),
    Finish(
        Option<String>,
        std_mpsc::Sender<Result<Metadata, BlobError>>,
    ),
}

/// Owns one multipart upload; aborts it unless told to finish.
async fn write_task(
    store: Arc<dyn ObjectStore>,
    path: Path,
    key: String,
    options: WriteOptions,
    mut upload: WriteMultipart,
    mut inbox: mpsc::UnboundedReceiver<Message>,
) {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(message) = inbox.recv().await {
        match message {
            Message::Chunk(chunk, reply) => {
                size += chunk.len() as u64;
                if size > options.max_size {
                    let _ = upload.abort().await;
                    let _ = reply.send(Err(BlobError::TooLarge(options.max_size)));
                    return;
                }
                hasher.update(&chunk);
                if let Err(e) = upload.wait_for_capacity(4).await {
                    let _ = reply.send(Err(err(e)));
                    return;
                }
                upload.write(&chunk);
                let _ = reply.send(Ok(()));
            }
            Message::Finish(expected, reply) => {
                let actual = format!("{:x}", hasher.finalize());
                let result = async {
                    if let Some(expected) = expected
                        && !expected.eq_ignore_ascii_case(&actual)
                    {
                        return Err(BlobError::ChecksumMismatch {
                            expected: expected.to_ascii_lowercase(),
                            actual,
                        });
                    }
                    let meta = Metadata {
                        key,
                        size,
                        content_type: options.content_type.clone(),
                        sha256: actual,
                        created: std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_millis() as u64),
                    };
                    upload.write(&trailer::encode(&meta)?);
                    // Create-only is checked again just before completing (a
                    // race remains between this check and the completion).
                    if options.create_only && exists(&store, &path).await? {
                        return Err(BlobError::PreconditionFailed);
                    }
                    Ok(meta)
                }
                .await;
                let result = match result {
                    Ok(meta) => upload.finish().await.map(|_| meta).map_err(err),
                    Err(e) => {
                        let _ = upload.abort().await;
                        Err(e)
                    }
                };
                let _ = reply.send(result);
                return;
            }
        }
    }
    // The writer was dropped or aborted: nothing becomes visible.
    let _ = upload.abort().await;
}

/// A blob being written to S3; dropping it aborts the upload.
#[derive(Debug)]
pub struct S3Writer {
    tx: mpsc::UnboundedSender<Message>,
}

impl S3Writer {
    /// Appends a chunk.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let (reply, rx) = std_mpsc::channel();
        self.tx
            .send(Message::Chunk(chunk.to_vec(), reply))
            .map_err(|_| BlobError::Other("the writer was already closed".into()))?;
        rx.recv()
            .map_err(|_| BlobError::Other("the writer was already closed".into()))?
    }

    /// Checks the checksum, then completes the upload (making it visible).
    pub fn finish(self, expected_sha256: Option<&str>) -> Result<Metadata, BlobError> {
        let (reply, rx) = std_mpsc::channel();
        self.tx
            .send(Message::Finish(expected_sha256.map(str::to_owned), reply))
            .map_err(|_| BlobError::Other("the writer was already closed".into()))?;
        rx.recv()
            .map_err(|_| BlobError::Other("the writer was already closed".into()))?
    }

    /// Discards everything written.
    pub fn abort(self) {}
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Chunk(..) => "Chunk",
            Message::Finish(..) => "Finish",
        })
    }
}

/// One blob opened for reading.
#[derive(Debug)]
pub struct S3Reader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    e_tag: Option<String>,
    meta: Metadata,
    runtime: tokio::runtime::Handle,
}

impl S3Reader {
    /// The blob's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Up to `length` bytes from `offset` (empty past the end).
    pub fn read(&mut self, offset: u64, length: u64) -> Result<Vec<u8>, BlobError> {
        let end = self.meta.size.min(offset.saturating_add(length));
        if offset >= end {
            return Ok(Vec::new());
        }
        let (store, path) = (self.store.clone(), self.path.clone());
        let options = GetOptions {
            if_match: self.e_tag.clone(),
            range: Some(GetRange::Bounded(offset..end)),
            ..Default::default()
        };
        let (tx, rx) = std_mpsc::channel();
        self.runtime.spawn(async move {
            let result = async {
                let got = store.get_opts(&path, options).await.map_err(|e| match e {
                    object_store::Error::Precondition { .. } => {
                        BlobError::Other("the blob was replaced while being read".into())
                    }
                    e => err(e),
                })?;
                got.bytes().await.map(|b| b.to_vec()).map_err(err)
            }
            .await;
            let _ = tx.send(result);
        });
        rx.recv()
            .map_err(|_| BlobError::Other("S3: the read was cancelled".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn urls_split_into_bucket_and_prefix() {
        assert_eq!(split_url("s3://bucket"), ("s3://bucket", None));
        assert_eq!(split_url("s3://bucket/"), ("s3://bucket", None));
        assert_eq!(
            split_url("s3://bucket/drive"),
            ("s3://bucket", Some("drive"))
        );
        assert_eq!(split_url("s3://bucket/a/b/"), ("s3://bucket", Some("a/b")));
    }
}
