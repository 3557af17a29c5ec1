//! Key-value stores, as Spin provides them: `fermyon:spin/key-value@2.0.0`
//! (spin-sdk 5), `wasi:keyvalue` 0.2.0-draft2 (store, atomics, batch) and
//! `spin:key-value@3.0.0` (spin-sdk 6+, async), all three over the same
//! stores.
//!
//! Grants follow Spin: a component may open the labels its
//! `key_value_stores` lists, any other label is `access-denied`, and a
//! listed label that no store defines stops the component from loading.
//! `default` is built in: an SQLite file, `sqlite_key_value.db` in the data
//! directory. The runtime config defines other labels, or moves `default` to
//! another file or to a Redis server.

mod redis;
mod sqlite;
mod wit;

use super::handles::OpenHandles;
use super::runtime_config::KeyValueStore;
use super::{GrantContext, HasService, Service, ServiceConfig};
use redis::RedisKv;
use sqlite::SqliteKv;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use wasmtime::component::Linker;

/// Most stores one instance may hold open at once (`store-table-full` beyond), as in Spin.
pub const MAX_OPEN_STORES: usize = 256;

/// A store's backend.
#[derive(Debug, Clone)]
pub enum Backend {
    /// An SQLite file.
    Sqlite(SqliteKv),
    /// A Redis server.
    Redis(RedisKv),
}

/// The labels an application's stores answer to, and their backends, opened
/// when first used and shared by every instance.
#[derive(Debug)]
pub struct Stores {
    labels: BTreeMap<String, Location>,
    /// Each location's backend, opened once: instances that start at the
    /// same moment wait for the one opening rather than race it.
    opened: Mutex<HashMap<Location, Arc<tokio::sync::OnceCell<Backend>>>>,
}

/// Where a label's data is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Location {
    Sqlite(PathBuf),
    Redis(String),
}

impl Stores {
    fn new(config: &ServiceConfig, data_dir: PathBuf) -> Self {
        let mut labels = BTreeMap::from([(
            "default".to_owned(),
            Location::Sqlite(data_dir.join("sqlite_key_value.db")),
        )]);
        for (label, store) in &config.runtime_config.key_value_stores {
            let location = match store {
                KeyValueStore::Spin(path) => Location::Sqlite(
                    path.clone()
                        .unwrap_or_else(|| data_dir.join(format!("sqlite_key_value_{label}.db"))),
                ),
                KeyValueStore::Redis(url) => Location::Redis(url.clone()),
            };
            labels.insert(label.clone(), location);
        }
        Self {
            labels,
            opened: Mutex::default(),
        }
    }

    fn is_defined(&self, label: &str) -> bool {
        self.labels.contains_key(label)
    }

    /// The backend of `label`, opening it on first use; `None` when no store has the label.
    /// A failed open is not kept: the next use tries again.
    async fn backend(&self, label: &str) -> Option<Result<Backend, String>> {
        let location = self.labels.get(label)?;
        let cell = self
            .opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(location.clone())
            .or_default()
            .clone();
        let opened = cell
            .get_or_try_init(|| async {
                match location {
                    Location::Sqlite(path) => {
                        let path = path.clone();
                        super::blocking(move || SqliteKv::open(&path))
                            .await
                            .and_then(|opened| opened.map(Backend::Sqlite))
                    }
                    Location::Redis(url) => RedisKv::new(url).map(Backend::Redis),
                }
            })
            .await;
        Some(opened.cloned())
    }
}

/// What one component may open.
#[derive(Debug, Default)]
pub struct KvGrant {
    allowed: Arc<BTreeSet<String>>,
    stores: Option<Arc<Stores>>,
}

/// One instance's view of the stores.
pub struct KvInstance {
    allowed: Arc<BTreeSet<String>>,
    stores: Option<Arc<Stores>>,
    open: OpenHandles,
}

/// Why a store could not be opened (each interface maps it onto its own error type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The label is not in the component's `key_value_stores`.
    AccessDenied,
    /// No store has the label.
    NoSuchStore,
    /// The instance holds [`MAX_OPEN_STORES`] open stores.
    TableFull,
    /// The backend could not be opened.
    Other(String),
}

impl KvInstance {
    /// Opens `label` for the guest.
    async fn open(&self, label: &str) -> Result<KvHandle, OpenError> {
        if !self.allowed.contains(label) {
            return Err(OpenError::AccessDenied);
        }
        if self.open.reached(MAX_OPEN_STORES) {
            return Err(OpenError::TableFull);
        }
        let stores = self.stores.as_ref().ok_or(OpenError::NoSuchStore)?;
        let backend = stores
            .backend(label)
            .await
            .ok_or(OpenError::NoSuchStore)?
            .map_err(OpenError::Other)?;
        Ok(KvHandle {
            backend,
            label: label.to_owned(),
        })
    }
}

/// An open store: what the guest's store, bucket and handle resources are.
#[derive(Debug, Clone)]
pub struct KvHandle {
    backend: Backend,
    label: String,
}

/// A compare-and-swap in progress: the value `key` had when it began.
#[derive(Debug)]
pub struct CasHandle {
    store: KvHandle,
    key: String,
    expected: Option<Vec<u8>>,
}

/// The service.
pub struct KeyValue {
    config: ServiceConfig,
    stores: OnceLock<Arc<Stores>>,
}

impl Service for KeyValue {
    type Grant = KvGrant;
    type Instance = KvInstance;

    fn new(config: &ServiceConfig) -> Result<Self, String> {
        Ok(Self {
            config: config.clone(),
            stores: OnceLock::new(),
        })
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<KvGrant, String> {
        let labels = &ctx.component.key_value_stores;
        if labels.is_empty() {
            return Ok(KvGrant::default());
        }
        let stores = self
            .stores
            .get_or_init(|| {
                Arc::new(Stores::new(
                    &self.config,
                    self.config.data_dir(ctx.manifest),
                ))
            })
            .clone();
        if let Some(unknown) = labels.iter().find(|l| !stores.is_defined(l)) {
            return Err(format!(
                "key_value_stores: no store is labelled `{unknown}`: `default` is built in; define others as [key_value_store.{unknown}] in the runtime config file (--runtime-config-file)"
            ));
        }
        Ok(KvGrant {
            allowed: Arc::new(labels.iter().cloned().collect()),
            stores: Some(stores),
        })
    }

    fn instance(&self, grant: &KvGrant) -> KvInstance {
        KvInstance {
            allowed: grant.allowed.clone(),
            stores: grant.stores.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}

impl KvHandle {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.get(&self.label, key).await,
            Backend::Redis(r) => r.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite(s) => s.set(&self.label, key, value).await,
            Backend::Redis(r) => r.set(key, value).await,
        }
    }

    async fn delete(&self, keys: Vec<String>) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite(s) => s.delete(&self.label, keys).await,
            Backend::Redis(r) => r.delete(keys).await,
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.exists(&self.label, key).await,
            Backend::Redis(r) => r.exists(key).await,
        }
    }

    async fn keys(&self) -> Result<Vec<String>, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.keys(&self.label).await,
            Backend::Redis(r) => r.keys().await,
        }
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.get_many(&self.label, keys).await,
            Backend::Redis(r) => r.get_many(keys).await,
        }
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite(s) => s.set_many(&self.label, pairs).await,
            Backend::Redis(r) => r.set_many(pairs).await,
        }
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<Result<i64, String>, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.increment(&self.label, key, delta).await,
            Backend::Redis(r) => r.increment(key, delta).await,
        }
    }

    async fn swap(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String> {
        match &self.backend {
            Backend::Sqlite(s) => s.swap(&self.label, key, expected, value).await,
            Backend::Redis(r) => r.swap(key, expected, value).await,
        }
    }
}
