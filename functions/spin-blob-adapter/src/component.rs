//! The exported store over `spin_sdk::key_value::Store`.

use crate::layout::{self, CHUNK, Record};
use sha2::{Digest, Sha256};
use spin_sdk::key_value::Store;
use std::cell::{Cell, RefCell};

wit_bindgen::generate!({
    path: ["../../wit/platform", "../../wit/blob", "../../wit/spin-blob-adapter"],
    world: "cloudfn:spin-blob-adapter/adapter",
    generate_all,
});

use cloudfn::blob::types::{Error, Metadata, Mismatch};
use exports::cloudfn::blob::store::{self as wit, Guest, GuestReader, GuestWriter};

struct Adapter;

fn kv() -> Result<Store, Error> {
    Store::open_default()
        .map_err(|e| Error::Other(format!("Spin key-value store `default`: {e:?}")))
}

fn kv_err(e: spin_sdk::key_value::Error) -> Error {
    Error::Other(format!("Spin key-value store: {e:?}"))
}

fn check_key(key: &str) -> Result<(), Error> {
    blob_key::validate(key).map_err(|e| Error::InvalidKey(e.to_string()))
}

fn record(store: &Store, key: &str) -> Result<Option<Record>, Error> {
    match store.get(&layout::record_key(key)).map_err(kv_err)? {
        None => Ok(None),
        Some(json) => serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| Error::Other(format!("corrupt record of `{key}`: {e}"))),
    }
}

fn metadata(r: &Record) -> Metadata {
    Metadata {
        key: r.key.clone(),
        size: r.size,
        content_type: r.content_type.clone(),
        sha256: r.sha256.clone(),
        created: r.created,
    }
}

fn delete_chunks(store: &Store, version: &str, count: u64) {
    for n in 0..count {
        let _ = store.delete(&layout::chunk_key(version, n));
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A version name no other write uses: time, a random number (the hasher
/// seed comes from `wasi:random`) and the key.
fn fresh_version(key: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(key.as_bytes());
    format!("{}-{:016x}", now_ms(), h.finish())
}

impl Guest for Adapter {
    type Writer = Writer;
    type Reader = Reader;

    fn open_writer(key: String, options: wit::WriteOptions) -> Result<wit::Writer, Error> {
        check_key(&key)?;
        let store = kv()?;
        if options.create_only && record(&store, &key)?.is_some() {
            return Err(Error::PreconditionFailed);
        }
        Ok(wit::Writer::new(Writer {
            version: fresh_version(&key),
            key,
            options,
            store,
            hasher: RefCell::new(Sha256::new()),
            pending: RefCell::new(Vec::with_capacity(CHUNK)),
            chunks: Cell::new(0),
            size: Cell::new(0),
            done: Cell::new(false),
        }))
    }

    fn open_reader(key: String) -> Result<wit::Reader, Error> {
        check_key(&key)?;
        let store = kv()?;
        let record = record(&store, &key)?.ok_or(Error::NotFound)?;
        Ok(wit::Reader::new(Reader { store, record }))
    }

    fn stat(key: String) -> Result<Metadata, Error> {
        check_key(&key)?;
        record(&kv()?, &key)?
            .map(|r| metadata(&r))
            .ok_or(Error::NotFound)
    }

    fn list(prefix: String, start_after: Option<String>, limit: u32) -> Result<wit::Page, Error> {
        let store = kv()?;
        let mut keys: Vec<String> = store
            .get_keys()
            .map_err(kv_err)?
            .iter()
            .filter_map(|k| layout::blob_of_record(k))
            .filter(|k| k.starts_with(&prefix))
            .filter(|k| start_after.as_deref().is_none_or(|after| *k > after))
            .map(str::to_owned)
            .collect();
        keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let limit = limit.clamp(1, 1000) as usize;
        let next_start_after = (keys.len() > limit).then(|| keys[limit - 1].clone());
        keys.truncate(limit);
        let mut items = Vec::with_capacity(keys.len());
        for key in &keys {
            // Deleted between the listing and now: skip it.
            if let Some(r) = record(&store, key)? {
                items.push(metadata(&r));
            }
        }
        Ok(wit::Page {
            items,
            next_start_after,
        })
    }

    fn delete(key: String) -> Result<(), Error> {
        check_key(&key)?;
        let store = kv()?;
        let r = record(&store, &key)?.ok_or(Error::NotFound)?;
        store.delete(&layout::record_key(&key)).map_err(kv_err)?;
        delete_chunks(&store, &r.version, r.chunks());
        Ok(())
    }
}

/// A blob being written under a fresh version.
pub struct Writer {
    key: String,
    options: wit::WriteOptions,
    version: String,
    store: Store,
    hasher: RefCell<Sha256>,
    pending: RefCell<Vec<u8>>,
    chunks: Cell<u64>,
    size: Cell<u64>,
    done: Cell<bool>,
}

impl Writer {
    fn put_chunk(&self, bytes: &[u8]) -> Result<(), Error> {
        let n = self.chunks.get();
        self.store
            .set(&layout::chunk_key(&self.version, n), bytes)
            .map_err(kv_err)?;
        self.chunks.set(n + 1);
        Ok(())
    }

    fn discard(&self) {
        if !self.done.replace(true) {
            delete_chunks(&self.store, &self.version, self.chunks.get());
        }
    }

    fn complete(&self, expected: Option<String>) -> Result<Metadata, Error> {
        let tail = std::mem::take(&mut *self.pending.borrow_mut());
        if !tail.is_empty() {
            self.put_chunk(&tail)?;
        }
        let actual = format!("{:x}", self.hasher.replace(Sha256::new()).finalize());
        if let Some(expected) = expected
            && !expected.eq_ignore_ascii_case(&actual)
        {
            return Err(Error::ChecksumMismatch(Mismatch {
                expected: expected.to_ascii_lowercase(),
                actual,
            }));
        }
        let old = record(&self.store, &self.key)?;
        if self.options.create_only && old.is_some() {
            return Err(Error::PreconditionFailed);
        }
        let new = Record {
            key: self.key.clone(),
            size: self.size.get(),
            content_type: self.options.content_type.clone(),
            sha256: actual,
            created: now_ms(),
            version: self.version.clone(),
        };
        let json = serde_json::to_vec(&new).map_err(|e| Error::Other(e.to_string()))?;
        // The one step that makes the blob visible.
        self.store
            .set(&layout::record_key(&self.key), &json)
            .map_err(kv_err)?;
        self.done.set(true);
        if let Some(old) = old {
            delete_chunks(&self.store, &old.version, old.chunks());
        }
        Ok(metadata(&new))
    }
}

impl GuestWriter for Writer {
    fn write(&self, chunk: Vec<u8>) -> Result<(), Error> {
        if self.done.get() {
            return Err(Error::Other("the writer was already closed".into()));
        }
        let size = self.size.get() + chunk.len() as u64;
        if size > self.options.max_size {
            self.discard();
            return Err(Error::TooLarge(self.options.max_size));
        }
        self.size.set(size);
        self.hasher.borrow_mut().update(&chunk);
        let mut pending = self.pending.borrow_mut();
        pending.extend_from_slice(&chunk);
        while pending.len() >= CHUNK {
            let rest = pending.split_off(CHUNK);
            let full = std::mem::replace(&mut *pending, rest);
            if let Err(e) = self.put_chunk(&full) {
                drop(pending);
                self.discard();
                return Err(e);
            }
        }
        Ok(())
    }

    fn finish(this: wit::Writer, expected_sha256: Option<String>) -> Result<Metadata, Error> {
        let writer: Writer = this.into_inner();
        let result = writer.complete(expected_sha256);
        if result.is_err() {
            writer.discard();
        }
        result
    }

    fn abort(this: wit::Writer) {
        this.into_inner::<Writer>().discard();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.discard();
    }
}

/// One blob opened for reading: its record at open time.
pub struct Reader {
    store: Store,
    record: Record,
}

impl GuestReader for Reader {
    fn metadata(&self) -> Metadata {
        metadata(&self.record)
    }

    fn read(&self, offset: u64, length: u64) -> Result<Vec<u8>, Error> {
        let length = length.min(16 << 20);
        let mut out = Vec::new();
        for (n, from, to) in layout::chunk_span(self.record.size, offset, length) {
            let chunk = self
                .store
                .get(&layout::chunk_key(&self.record.version, n))
                .map_err(kv_err)?
                .ok_or_else(|| {
                    Error::Other("the blob was replaced or deleted while being read".into())
                })?;
            out.extend_from_slice(chunk.get(from..to).ok_or_else(|| {
                Error::Other("a stored chunk is shorter than its record says".into())
            })?);
        }
        Ok(out)
    }
}

export!(Adapter);
