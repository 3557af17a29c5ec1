//! `cloudfn:blob/store` for guests, over the host's blob store.

use super::{Blob, BlobReader, BlobStore, BlobWriter};
use super::{BlobError, Metadata};
use crate::HasService;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/blob"],
        world: "cloudfn:blob/store-client",
        imports: { default: trappable },
        with: {
            "cloudfn:blob/store.writer": crate::blob::BlobWriter,
            "cloudfn:blob/store.reader": crate::blob::BlobReader,
        },
    });
}

use generated::cloudfn::blob::{store, types};

/// What a guest's blob calls see: its store (when granted) and its resources.
pub struct BlobView<'a> {
    /// The store, if the manifest grants one.
    pub store: Option<&'a Arc<BlobStore>>,
    /// The instance's resource table (writers live there).
    pub table: &'a mut ResourceTable,
}

struct HasBlob;

impl HasData for HasBlob {
    type Data<'a> = BlobView<'a>;
}

/// Adds `cloudfn:blob/store` (and its types) to `linker`.
pub fn add_to_linker<T: HasService<Blob>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    fn view<T: HasService<Blob>>(data: &mut T) -> BlobView<'_> {
        let view = data.view();
        BlobView {
            store: view.state.as_ref(),
            table: view.table,
        }
    }
    store::add_to_linker::<T, HasBlob>(linker, view::<T>)?;
    types::add_to_linker::<T, HasBlob>(linker, view::<T>)
}

fn to_wit(error: BlobError) -> types::Error {
    match error {
        BlobError::NotFound => types::Error::NotFound,
        BlobError::InvalidKey(m) => types::Error::InvalidKey(m),
        BlobError::TooLarge(n) => types::Error::TooLarge(n),
        BlobError::ChecksumMismatch { expected, actual } => {
            types::Error::ChecksumMismatch(types::Mismatch { expected, actual })
        }
        BlobError::PreconditionFailed => types::Error::PreconditionFailed,
        BlobError::Other(m) => types::Error::Other(m),
    }
}

fn meta_to_wit(m: Metadata) -> types::Metadata {
    types::Metadata {
        key: m.key,
        size: m.size,
        content_type: m.content_type,
        sha256: m.sha256,
        created: m.created,
    }
}

const NOT_GRANTED: &str = "no blob store granted to this component: add key_value_stores = [\"default\"] to its manifest entry";

impl BlobView<'_> {
    fn store(&self) -> Result<&Arc<BlobStore>, types::Error> {
        self.store
            .ok_or_else(|| types::Error::Other(NOT_GRANTED.to_owned()))
    }
}

impl types::Host for BlobView<'_> {}

impl store::Host for BlobView<'_> {
    fn open_writer(
        &mut self,
        key: String,
        options: store::WriteOptions,
    ) -> wasmtime::Result<Result<Resource<BlobWriter>, types::Error>> {
        let writer = match self.store() {
            Ok(store) => store.writer(
                &key,
                super::WriteOptions {
                    content_type: options.content_type,
                    create_only: options.create_only,
                    max_size: options.max_size,
                },
            ),
            Err(e) => return Ok(Err(e)),
        };
        match writer {
            Ok(writer) => Ok(Ok(self.table.push(writer)?)),
            Err(e) => Ok(Err(to_wit(e))),
        }
    }

    fn open_reader(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Resource<BlobReader>, types::Error>> {
        match self.store().and_then(|s| s.reader(&key).map_err(to_wit)) {
            Ok(reader) => Ok(Ok(self.table.push(reader)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn stat(&mut self, key: String) -> wasmtime::Result<Result<types::Metadata, types::Error>> {
        Ok(self
            .store()
            .and_then(|s| s.stat(&key).map(meta_to_wit).map_err(to_wit)))
    }

    fn list(
        &mut self,
        prefix: String,
        start_after: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<store::Page, types::Error>> {
        Ok(self.store().and_then(|s| {
            s.list(&prefix, start_after.as_deref(), limit)
                .map(|page| store::Page {
                    items: page.items.into_iter().map(meta_to_wit).collect(),
                    next_start_after: page.next_start_after,
                })
                .map_err(to_wit)
        }))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), types::Error>> {
        Ok(self.store().and_then(|s| s.delete(&key).map_err(to_wit)))
    }
}

impl store::HostReader for BlobView<'_> {
    fn metadata(&mut self, reader: Resource<BlobReader>) -> wasmtime::Result<types::Metadata> {
        Ok(meta_to_wit(self.table.get(&reader)?.metadata().clone()))
    }

    fn read(
        &mut self,
        reader: Resource<BlobReader>,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Result<Vec<u8>, types::Error>> {
        // One call returns at most 16 MiB; callers loop.
        let length = length.min(16 << 20);
        Ok(self
            .table
            .get_mut(&reader)?
            .read(offset, length)
            .map_err(to_wit))
    }

    fn drop(&mut self, reader: Resource<BlobReader>) -> wasmtime::Result<()> {
        self.table.delete(reader)?;
        Ok(())
    }
}

impl store::HostWriter for BlobView<'_> {
    fn write(
        &mut self,
        writer: Resource<BlobWriter>,
        chunk: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::Error>> {
        Ok(self.table.get_mut(&writer)?.write(&chunk).map_err(to_wit))
    }

    fn finish(
        &mut self,
        writer: Resource<BlobWriter>,
        expected_sha256: Option<String>,
    ) -> wasmtime::Result<Result<types::Metadata, types::Error>> {
        let writer = self.table.delete(writer)?;
        Ok(writer
            .finish(expected_sha256.as_deref())
            .map(meta_to_wit)
            .map_err(to_wit))
    }

    fn abort(&mut self, writer: Resource<BlobWriter>) -> wasmtime::Result<()> {
        self.table.delete(writer)?.abort();
        Ok(())
    }

    fn drop(&mut self, writer: Resource<BlobWriter>) -> wasmtime::Result<()> {
        // Dropping an unfinished writer discards its upload.
        self.table.delete(writer)?;
        Ok(())
    }
}
