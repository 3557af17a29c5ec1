//! The three key-value interfaces over [`KvInstance`]: each maps the
//! shared [`OpenError`] and backend errors onto its own error type, as Spin
//! does.

use super::{CasHandle, KeyValue, KvHandle, KvInstance, OpenError};
use crate::handles::OpenHandles;
use crate::{HasService, ServiceView};
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/key-value",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/key-value.store": crate::key_value::KvHandle,
            "wasi:keyvalue/store.bucket": crate::key_value::KvHandle,
            "wasi:keyvalue/atomics.cas": crate::key_value::CasHandle,
            "spin:key-value/key-value.store": crate::key_value::KvHandle,
        },
    });
}

use generated::fermyon::spin::key_value as v2;
use generated::spin::key_value::key_value as v3;
use generated::wasi::keyvalue::{atomics, batch, store as wasi};

/// What the key-value host functions see of an instance.
pub type KvView<'a> = ServiceView<'a, KvInstance>;

/// The [`HasData`] marker of [`KvView`].
pub struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

/// Adds the three interfaces to `linker`.
pub fn add_to_linker<T: HasService<KeyValue>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    generated::KeyValue::add_to_linker::<T, HasKv>(linker, <T as HasService<KeyValue>>::view)
}

impl KvView<'_> {
    /// Opens `label` and gives the guest its handle.
    async fn open<R: 'static>(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<R>, OpenError>> {
        match self.state.open(label).await {
            Ok(handle) => Ok(Ok(self.push(handle)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn push<R: 'static>(&mut self, handle: KvHandle) -> wasmtime::Result<Resource<R>> {
        self.state.open.push(self.table, handle)
    }

    fn handle<R: 'static>(&self, resource: &Resource<R>) -> wasmtime::Result<KvHandle> {
        OpenHandles::get(self.table, resource)
    }

    fn close<R: 'static>(&mut self, resource: Resource<R>) -> wasmtime::Result<()> {
        self.state.open.close::<KvHandle, _>(self.table, resource)
    }
}

// fermyon:spin/key-value@2.0.0 (spin-sdk 5).

fn v2_error(e: OpenError) -> v2::Error {
    match e {
        OpenError::AccessDenied => v2::Error::AccessDenied,
        OpenError::NoSuchStore => v2::Error::NoSuchStore,
        OpenError::TableFull => v2::Error::StoreTableFull,
        OpenError::Other(m) => v2::Error::Other(m),
    }
}

impl v2::Host for KvView<'_> {}

impl v2::HostStore for KvView<'_> {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, v2::Error>> {
        Ok(KvView::open(self, &label).await?.map_err(v2_error))
    }

    async fn get(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v2::Error>> {
        Ok(self
            .handle(&store)?
            .get(&key)
            .await
            .map_err(v2::Error::Other))
    }

    async fn set(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        Ok(self
            .handle(&store)?
            .set(&key, value)
            .await
            .map_err(v2::Error::Other))
    }

    async fn delete(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        Ok(self
            .handle(&store)?
            .delete(vec![key])
            .await
            .map_err(v2::Error::Other))
    }

    async fn exists(
        &mut self,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v2::Error>> {
        Ok(self
            .handle(&store)?
            .exists(&key)
            .await
            .map_err(v2::Error::Other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        Ok(self.handle(&store)?.keys().await.map_err(v2::Error::Other))
    }

    async fn drop(&mut self, store: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.close(store)
    }
}

// wasi:keyvalue@0.2.0-draft2.

fn wasi_error(e: OpenError) -> wasi::Error {
    match e {
        OpenError::AccessDenied => wasi::Error::AccessDenied,
        OpenError::NoSuchStore => wasi::Error::NoSuchStore,
        OpenError::TableFull => wasi::Error::Other("too many stores open (at most 256)".into()),
        OpenError::Other(m) => wasi::Error::Other(m),
    }
}

impl wasi::Host for KvView<'_> {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, wasi::Error>> {
        Ok(KvView::open(self, &identifier).await?.map_err(wasi_error))
    }
}

impl wasi::HostBucket for KvView<'_> {
    async fn get(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .get(&key)
            .await
            .map_err(wasi::Error::Other))
    }

    async fn set(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .set(&key, value)
            .await
            .map_err(wasi::Error::Other))
    }

    async fn delete(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .delete(vec![key])
            .await
            .map_err(wasi::Error::Other))
    }

    async fn exists(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .exists(&key)
            .await
            .map_err(wasi::Error::Other))
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<KvHandle>,
        cursor: Option<String>,
    ) -> wasmtime::Result<Result<wasi::KeyResponse, wasi::Error>> {
        if cursor.is_some() {
            // Every key comes in the first response, which has no cursor.
            return Ok(Err(wasi::Error::Other(
                "list-keys: no cursor was handed out; every key comes in one response".into(),
            )));
        }
        Ok(self
            .handle(&bucket)?
            .keys()
            .await
            .map(|keys| wasi::KeyResponse { keys, cursor: None })
            .map_err(wasi::Error::Other))
    }

    async fn drop(&mut self, bucket: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.close(bucket)
    }
}

impl atomics::Host for KvView<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, wasi::Error>> {
        Ok(match self.handle(&bucket)?.increment(&key, delta).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(m)) | Err(m) => Err(wasi::Error::Other(m)),
        })
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let cas = self.table.delete(cas)?;
        match cas.store.swap(&cas.key, cas.expected.clone(), value).await {
            Ok(true) => Ok(Ok(())),
            // The value changed since `new`: a fresh operation from the current value.
            Ok(false) => match cas.store.get(&cas.key).await {
                Ok(expected) => {
                    let retry = self.table.push(CasHandle { expected, ..cas })?;
                    Ok(Err(atomics::CasError::CasFailed(retry)))
                }
                Err(m) => Ok(Err(atomics::CasError::StoreError(wasi::Error::Other(m)))),
            },
            Err(m) => Ok(Err(atomics::CasError::StoreError(wasi::Error::Other(m)))),
        }
    }
}

impl atomics::HostCas for KvView<'_> {
    async fn new(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<CasHandle>, wasi::Error>> {
        let store = self.handle(&bucket)?;
        match store.get(&key).await {
            Ok(expected) => Ok(Ok(self.table.push(CasHandle {
                store,
                key,
                expected,
            })?)),
            Err(m) => Ok(Err(wasi::Error::Other(m))),
        }
    }

    async fn current(
        &mut self,
        cas: Resource<CasHandle>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wasi::Error>> {
        Ok(Ok(self.table.get(&cas)?.expected.clone()))
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for KvView<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .get_many(keys)
            .await
            .map_err(wasi::Error::Other))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvHandle>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .set_many(pairs)
            .await
            .map_err(wasi::Error::Other))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), wasi::Error>> {
        Ok(self
            .handle(&bucket)?
            .delete(keys)
            .await
            .map_err(wasi::Error::Other))
    }
}

// spin:key-value@3.0.0 (spin-sdk 6+): async functions, reaching the
// instance through the accessor between awaits.

fn v3_error(e: OpenError) -> v3::Error {
    match e {
        OpenError::AccessDenied => v3::Error::AccessDenied,
        OpenError::NoSuchStore => v3::Error::NoSuchStore,
        OpenError::TableFull => v3::Error::StoreTableFull,
        OpenError::Other(m) => v3::Error::Other(m),
    }
}

fn v3_handle<T>(
    accessor: &Accessor<T, HasKv>,
    store: &Resource<KvHandle>,
) -> wasmtime::Result<KvHandle> {
    accessor.with(|mut access| access.get().handle(store))
}

impl v3::Host for KvView<'_> {}

impl v3::HostStore for KvView<'_> {
    async fn drop(&mut self, store: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.close(store)
    }
}

impl<T> v3::HostStoreWithStore<T> for HasKv {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, v3::Error>> {
        let opening = accessor.with(|mut access| {
            let state = &access.get().state;
            KvInstance {
                allowed: state.allowed.clone(),
                stores: state.stores.clone(),
                open: state.open,
            }
        });
        match opening.open(&label).await {
            Ok(handle) => accessor.with(|mut access| access.get().push(handle).map(Ok)),
            Err(e) => Ok(Err(v3_error(e))),
        }
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v3::Error>> {
        Ok(v3_handle(accessor, &store)?
            .get(&key)
            .await
            .map_err(v3::Error::Other))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        Ok(v3_handle(accessor, &store)?
            .set(&key, value)
            .await
            .map_err(v3::Error::Other))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        Ok(v3_handle(accessor, &store)?
            .delete(vec![key])
            .await
            .map_err(v3::Error::Other))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v3::Error>> {
        Ok(v3_handle(accessor, &store)?
            .exists(&key)
            .await
            .map_err(v3::Error::Other))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<KvHandle>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), v3::Error>>)> {
        let (keys, result) = match v3_handle(accessor, &store)?.keys().await {
            Ok(keys) => (keys, Ok(())),
            Err(m) => (Vec::new(), Err(v3::Error::Other(m))),
        };
        accessor.with(|mut access| {
            Ok((
                StreamReader::new(&mut access, keys)?,
                FutureReader::new(&mut access, async move { wasmtime::error::Ok(result) })?,
            ))
        })
    }
}
