//! Blobs as files under a data directory.
//!
//! Layout: `blobs/<sha-256 of the key>` holds the bytes, then the metadata
//! as JSON, then the JSON's length (8 bytes, little-endian) and the magic
//! `CFBLOB01`; `tmp/` holds uploads in progress. A blob is written to
//! `tmp/`, synced, then renamed over its final name (hard-linked for
//! create-only writes, which fails if the name exists), and the directory
//! synced: readers see the old blob or the new one, never a mix, and a
//! crash leaves only a file in `tmp/`, cleared when the store opens.

use super::{BlobError, Metadata, Page, WriteOptions, check_key, page_of, trailer};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Every this many bytes, the data written so far is synced to disk on a
/// helper thread while the upload goes on, so that `finish` only waits for
/// the tail (the disk works while the network does).
const SYNC_EVERY: u64 = 64 << 20;

/// A filesystem blob store.
#[derive(Debug)]
pub struct FsStore {
    blobs: PathBuf,
    tmp: PathBuf,
    next_tmp: AtomicU64,
}

impl FsStore {
    /// Opens (creating) the store under `root`, clearing uploads a crash left in `tmp/`.
    pub fn open(root: &Path) -> std::io::Result<FsStore> {
        let (blobs, tmp) = (root.join("blobs"), root.join("tmp"));
        fs::create_dir_all(&blobs)?;
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            fs::remove_file(entry?.path())?;
        }
        Ok(FsStore {
            blobs,
            tmp,
            next_tmp: AtomicU64::new(0),
        })
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.blobs
            .join(format!("{:x}", Sha256::digest(key.as_bytes())))
    }

    /// Starts writing a blob under `key`.
    pub fn writer(&self, key: &str, options: WriteOptions) -> Result<FsWriter, BlobError> {
        check_key(key)?;
        let target = self.path_of(key);
        if options.create_only && target.exists() {
            return Err(BlobError::PreconditionFailed);
        }
        let n = self.next_tmp.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp.join(format!(
            "{}-{n}-{}",
            std::process::id(),
            &format!("{:x}", Sha256::digest(key.as_bytes()))[..16]
        ));
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        Ok(FsWriter {
            key: key.to_owned(),
            options,
            tmp,
            target,
            dir: self.blobs.clone(),
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
            hasher: Sha256::new(),
            size: 0,
            synced_at: 0,
            sync: None,
        })
    }

    /// Opens a blob: its file positioned at the start and its metadata.
    fn open_blob(&self, key: &str) -> Result<(File, Metadata), BlobError> {
        check_key(key)?;
        let mut file = match File::open(self.path_of(key)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let meta = read_metadata(&mut file)?;
        Ok((file, meta))
    }

    /// Opens a blob for reading: the open file keeps its bytes even if the
    /// key is replaced or deleted meanwhile.
    pub fn reader(&self, key: &str) -> Result<FsReader, BlobError> {
        let (file, meta) = self.open_blob(key)?;
        Ok(FsReader { file, meta })
    }

    /// The blob's metadata.
    pub fn stat(&self, key: &str) -> Result<Metadata, BlobError> {
        self.open_blob(key).map(|(_, meta)| meta)
    }

    /// Blobs whose key starts with `prefix` and sorts after `start_after`, at most `limit`.
    pub fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Page, BlobError> {
        let mut items = Vec::new();
        for entry in fs::read_dir(&self.blobs)? {
            let mut file = match File::open(entry?.path()) {
                Ok(file) => file,
                // Deleted while listing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            items.push(read_metadata(&mut file)?);
        }
        let (items, next_start_after) = page_of(
            items,
            |m: &Metadata| m.key.as_str(),
            prefix,
            start_after,
            limit,
        );
        Ok(Page {
            items,
            next_start_after,
        })
    }

    /// Deletes a blob.
    pub fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        match fs::remove_file(self.path_of(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

/// Reads the metadata trailer of a blob file and rewinds it.
fn read_metadata(file: &mut File) -> Result<Metadata, BlobError> {
    let corrupt = || BlobError::Other("blob store: a blob file is corrupt".into());
    let len = file.metadata()?.len();
    if len < trailer::END {
        return Err(corrupt());
    }
    let mut end = [0u8; trailer::END as usize];
    file.seek(SeekFrom::Start(len - trailer::END))?;
    file.read_exact(&mut end)?;
    let range = trailer::json_range(len, &end).ok_or_else(corrupt)?;
    let mut json = vec![0; usize::try_from(range.end - range.start).map_err(|_| corrupt())?];
    file.seek(SeekFrom::Start(range.start))?;
    file.read_exact(&mut json)?;
    let meta = trailer::decode(&json, &range).ok_or_else(corrupt)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(meta)
}

/// One blob opened for reading.
#[derive(Debug)]
pub struct FsReader {
    file: File,
    meta: Metadata,
}

impl FsReader {
    /// The blob's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Up to `length` bytes from `offset` (empty past the end).
    pub fn read(&mut self, offset: u64, length: u64) -> Result<Vec<u8>, BlobError> {
        let length = length.min(self.meta.size.saturating_sub(offset));
        let mut out =
            vec![0; usize::try_from(length).map_err(|_| BlobError::Other("read too long".into()))?];
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(&mut out)?;
        Ok(out)
    }
}

/// A blob being written; invisible until [`FsWriter::finish`]. Dropping it aborts.
#[derive(Debug)]
pub struct FsWriter {
    key: String,
    options: WriteOptions,
    tmp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    file: Option<std::io::BufWriter<File>>,
    hasher: Sha256,
    size: u64,
    synced_at: u64,
    sync: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl FsWriter {
    /// Waits for the background sync in flight, if any.
    fn join_sync(&mut self) -> Result<(), BlobError> {
        match self.sync.take().map(std::thread::JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(e.into()),
            Some(Err(_)) => Err(BlobError::Other(
                "blob store: the sync thread failed".into(),
            )),
        }
    }

    /// Starts syncing what was written so far, after the previous sync ended
    /// (which holds a writer faster than the disk back).
    fn sync_in_background(&mut self) -> Result<(), BlobError> {
        self.join_sync()?;
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.flush()?;
        let clone = file.get_ref().try_clone()?;
        self.sync = Some(std::thread::spawn(move || clone.sync_data()));
        self.synced_at = self.size;
        Ok(())
    }

    /// Appends a chunk.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let size = self.size + chunk.len() as u64;
        if size > self.options.max_size {
            self.discard();
            return Err(BlobError::TooLarge(self.options.max_size));
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| BlobError::Other("the writer was already closed".into()))?;
        file.write_all(chunk)?;
        self.hasher.update(chunk);
        self.size = size;
        if self.size - self.synced_at >= SYNC_EVERY {
            self.sync_in_background()?;
        }
        Ok(())
    }

    /// Checks the checksum, then makes the blob visible atomically.
    pub fn finish(mut self, expected_sha256: Option<&str>) -> Result<Metadata, BlobError> {
        self.join_sync()?;
        let mut file = self
            .file
            .take()
            .ok_or_else(|| BlobError::Other("the writer was already closed".into()))?;
        let actual = format!("{:x}", std::mem::take(&mut self.hasher).finalize());
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&actual)
        {
            drop(file);
            self.discard();
            return Err(BlobError::ChecksumMismatch {
                expected: expected.to_ascii_lowercase(),
                actual,
            });
        }
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let meta = Metadata {
            key: self.key.clone(),
            size: self.size,
            content_type: self.options.content_type.clone(),
            sha256: actual,
            created,
        };
        file.write_all(&trailer::encode(&meta)?)?;
        let file = file
            .into_inner()
            .map_err(|e| BlobError::from(e.into_error()))?;
        file.sync_all()?;
        drop(file);
        if self.options.create_only {
            match fs::hard_link(&self.tmp, &self.target) {
                Ok(()) => fs::remove_file(&self.tmp)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    self.discard();
                    return Err(BlobError::PreconditionFailed);
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            fs::rename(&self.tmp, &self.target)?;
        }
        File::open(&self.dir)?.sync_all()?;
        self.tmp = PathBuf::new();
        Ok(meta)
    }

    /// Discards everything written.
    pub fn abort(mut self) {
        self.discard();
    }

    fn discard(&mut self) {
        self.file = None;
        let _ = self.join_sync();
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
            self.tmp = PathBuf::new();
        }
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(create_only: bool) -> WriteOptions {
        WriteOptions {
            content_type: "text/plain".into(),
            create_only,
            max_size: 1 << 20,
        }
    }

    fn put(store: &FsStore, key: &str, bytes: &[u8]) -> Metadata {
        let mut w = store.writer(key, options(false)).expect("writer");
        for chunk in bytes.chunks(3) {
            w.write(chunk).expect("write");
        }
        w.finish(None).expect("finish")
    }

    #[test]
    fn write_read_stat_list_delete() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsStore::open(dir.path()).expect("open");
        let meta = put(&store, "a/b.txt", b"hello world");
        assert_eq!(meta.size, 11);
        assert_eq!(
            meta.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(store.stat("a/b.txt").expect("stat"), meta);
        let mut reader = store.reader("a/b.txt").expect("reader");
        assert_eq!(reader.read(6, 100).expect("read"), b"world");
        assert_eq!(reader.read(20, 5).expect("past the end"), b"");
        // A reader keeps its snapshot while the key is rewritten.
        put(&store, "a/b.txt", b"HELLO WORLD!");
        assert_eq!(reader.read(0, 5).expect("read"), b"hello");
        assert_eq!(
            store
                .reader("a/b.txt")
                .expect("reader")
                .read(0, 5)
                .expect("read"),
            b"HELLO"
        );
        put(&store, "a/c", b"x");
        put(&store, "b", b"y");
        let page = store.list("a/", None, 1).expect("list");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_start_after.as_deref(), Some("a/b.txt"));
        let next = store.list("a/", Some("a/b.txt"), 10).expect("list");
        assert_eq!(
            next.items
                .iter()
                .map(|m| m.key.as_str())
                .collect::<Vec<_>>(),
            ["a/c"]
        );
        assert_eq!(next.next_start_after, None);
        store.delete("a/c").expect("delete");
        assert_eq!(store.delete("a/c"), Err(BlobError::NotFound));
        assert_eq!(store.stat("a/c"), Err(BlobError::NotFound));
    }

    #[test]
    fn nothing_is_visible_or_left_behind_when_a_write_fails() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsStore::open(dir.path()).expect("open");
        put(&store, "k", b"first");
        let mut w = store.writer("k", options(false)).expect("writer");
        w.write(b"second").expect("write");
        let err = w.finish(Some(&"0".repeat(64))).expect_err("mismatch");
        assert!(matches!(err, BlobError::ChecksumMismatch { .. }));
        let mut w = store
            .writer(
                "k",
                WriteOptions {
                    max_size: 4,
                    ..options(false)
                },
            )
            .expect("writer");
        assert_eq!(w.write(b"12345"), Err(BlobError::TooLarge(4)));
        drop(w);
        let w = store.writer("k", options(false)).expect("writer");
        w.abort();
        assert_eq!(
            store
                .reader("k")
                .expect("reader")
                .read(0, 100)
                .expect("read"),
            b"first"
        );
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).expect("tmp").count(),
            0
        );
        assert_eq!(
            store.writer("k", options(true)).err(),
            Some(BlobError::PreconditionFailed)
        );
        assert_eq!(
            store
                .writer("../x", options(false))
                .err()
                .map(|e| e.to_string()),
            Some("invalid key: the key has a `..` segment".into())
        );
    }

    #[test]
    fn create_only_loses_a_race_cleanly_and_the_last_complete_write_wins() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsStore::open(dir.path()).expect("open");
        let mut first = store.writer("k", options(true)).expect("first");
        let mut second = store.writer("k", options(true)).expect("second");
        first.write(b"one").expect("write");
        second.write(b"two").expect("write");
        first.finish(None).expect("first wins");
        assert_eq!(second.finish(None), Err(BlobError::PreconditionFailed));
        let mut a = store.writer("k", options(false)).expect("a");
        let mut b = store.writer("k", options(false)).expect("b");
        a.write(b"aaaa").expect("write");
        b.write(b"bb").expect("write");
        b.finish(None).expect("b");
        a.finish(None).expect("a");
        assert_eq!(
            store
                .reader("k")
                .expect("reader")
                .read(0, 100)
                .expect("read"),
            b"aaaa"
        );
    }

    #[test]
    fn opening_clears_interrupted_uploads() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsStore::open(dir.path()).expect("open");
        let mut w = store.writer("k", options(false)).expect("writer");
        w.write(b"partial").expect("write");
        std::mem::forget(w);
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).expect("tmp").count(),
            1
        );
        let store = FsStore::open(dir.path()).expect("reopen");
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).expect("tmp").count(),
            0
        );
        assert_eq!(store.stat("k"), Err(BlobError::NotFound));
    }
}
