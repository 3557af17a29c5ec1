//! Platform services: what guests import beyond WASI and `wasi:http`.
//!
//! This layer sits under the engine: the engine's linker wires these in, and
//! nothing here knows about stores, requests or triggers.
//!
//! Each service is one type implementing [`Service`], as Spin's factors are:
//! it reads its grant from the manifest when a component is loaded, builds
//! its state for each fresh instance, and links its interfaces. Adding a
//! service is its module and one line in the [`services!`] list below; the
//! engine handles all of them together through [`Services`].

pub mod allowed_hosts;
pub mod blob;
pub mod handles;
pub mod key_value;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod postgres;
pub mod redis;
pub mod runtime_config;
pub mod sockets;
pub mod sqlite;
pub mod variables;

use cloudfn_manifest::{Component, Manifest};
use std::path::PathBuf;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::WasiCtxBuilder;

/// How the services reach their data, set once per runtime.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// Where the embedded stores keep their files (`--data-dir`);
    /// `.cloudfn/data` beside the manifest when `None`.
    pub data_dir: Option<PathBuf>,
    /// The blob store's S3 bucket (`--blob-store s3://…`) instead of files.
    pub blob_url: Option<String>,
    /// The stores the runtime config file defines (`--runtime-config-file`).
    pub runtime_config: runtime_config::RuntimeConfig,
    /// What serves the Redis addresses of the manifest's `[[trigger.redis]]`.
    pub event_routes: cloudfn_events::Routes,
}

impl ServiceConfig {
    /// The data directory of `manifest`'s application.
    pub fn data_dir(&self, manifest: &Manifest) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| manifest.dir.join(".cloudfn/data"))
    }
}

/// What a service reads when it grants one component.
pub struct GrantContext<'a> {
    /// The application.
    pub manifest: &'a Manifest,
    /// The component's id.
    pub id: &'a str,
    /// The component's manifest entry.
    pub component: &'a Component,
}

/// One service's state in one instance, beside the instance's resource table.
pub struct ServiceView<'a, S> {
    /// The service's instance state.
    pub state: &'a mut S,
    /// The instance's resource table (handles the guest holds).
    pub table: &'a mut ResourceTable,
}

/// Store data that carries every service's instance state (the engine's host state).
pub trait HasServices: Send + 'static {
    /// Every service's instance state and the resource table.
    fn services(&mut self) -> (&mut ServiceInstances, &mut ResourceTable);
}

/// Store data that reaches service `S`'s instance state; every
/// [`HasServices`] does, for every service.
pub trait HasService<S: Service>: Send + 'static {
    /// `S`'s state in this instance, with the resource table.
    fn view(&mut self) -> ServiceView<'_, S::Instance>;
}

/// One platform service.
pub trait Service: Sized + Send + Sync + 'static {
    /// What the manifest grants one component; the default grants nothing.
    type Grant: Default + Send + Sync + 'static;
    /// The service's state in one instance.
    type Instance: Send + 'static;

    /// The service for a runtime configured with `config`.
    fn new(config: &ServiceConfig) -> Result<Self, String>;

    /// Reads what the manifest grants `ctx.component`, or says what is wrong
    /// with it (the component then does not load).
    fn grant(&self, ctx: &GrantContext<'_>) -> Result<Self::Grant, String>;

    /// Fresh state for one instance of a component granted `grant`.
    fn instance(&self, grant: &Self::Grant) -> Self::Instance;

    /// Adds to an instance's WASI context what `grant` allows (`wasi:sockets`).
    fn configure_wasi(&self, _grant: &Self::Grant, _wasi: &mut WasiCtxBuilder) {}

    /// Links the service's interfaces; host functions reach the instance
    /// state through [`HasService::view`].
    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()>;
}

/// Runs blocking I/O (SQLite) for an async host call on tokio's blocking
/// pool, so no executor thread waits on it.
pub async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("a blocking call stopped: {e}"))
}

/// A service that could not start, or a component it refuses.
#[derive(Debug, thiserror::Error)]
#[error("{service}: {message}")]
pub struct ServiceError {
    /// The service (its field in [`Services`]).
    pub service: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Declares the services: one `field: Type` line each.
macro_rules! services {
    ($($(#[doc = $doc:literal])* $field:ident: $service:ty,)*) => {
        /// Every platform service, built once per runtime.
        pub struct Services {
            $($(#[doc = $doc])* pub $field: $service,)*
        }

        /// What the manifest grants one component, service by service.
        #[derive(Default)]
        pub struct ServiceGrants {
            $($(#[doc = $doc])* pub $field: <$service as Service>::Grant,)*
        }

        /// Every service's state in one instance.
        pub struct ServiceInstances {
            $($(#[doc = $doc])* pub $field: <$service as Service>::Instance,)*
        }

        impl Services {
            /// Builds every service for `config`.
            pub fn new(config: &ServiceConfig) -> Result<Self, ServiceError> {
                Ok(Self {
                    $($field: <$service as Service>::new(config).map_err(|message| ServiceError {
                        service: stringify!($field),
                        message,
                    })?,)*
                })
            }

            /// What the manifest grants one component.
            pub fn grants(&self, ctx: &GrantContext<'_>) -> Result<ServiceGrants, ServiceError> {
                Ok(ServiceGrants {
                    $($field: self.$field.grant(ctx).map_err(|message| ServiceError {
                        service: stringify!($field),
                        message,
                    })?,)*
                })
            }

            /// Fresh state for one instance.
            pub fn instances(&self, grants: &ServiceGrants) -> ServiceInstances {
                ServiceInstances {
                    $($field: self.$field.instance(&grants.$field),)*
                }
            }

            /// Adds to an instance's WASI context what the services grant.
            pub fn configure_wasi(&self, grants: &ServiceGrants, wasi: &mut WasiCtxBuilder) {
                $(self.$field.configure_wasi(&grants.$field, wasi);)*
            }

            /// Links every service's interfaces.
            pub fn add_to_linker<T: HasServices>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
                $(<$service as Service>::add_to_linker::<T>(linker)?;)*
                Ok(())
            }
        }

        $(impl<T: HasServices> HasService<$service> for T {
            fn view(&mut self) -> ServiceView<'_, <$service as Service>::Instance> {
                let (instances, table) = self.services();
                ServiceView { state: &mut instances.$field, table }
            }
        })*
    };
}

services! {
    /// Outgoing `wasi:http` requests (`allowed_outbound_hosts`).
    outbound_http: outbound::OutboundHttp,
    /// Spin variables (`[variables]`, `variables`).
    variables: variables::Variables,
    /// The blob store (`cloudfn:blob/store`).
    blob: blob::Blob,
    /// Key-value stores (`key_value_stores`).
    key_value: key_value::KeyValue,
    /// SQLite databases (`sqlite_databases`).
    sqlite: sqlite::Sqlite,
    /// Outbound Redis (`allowed_outbound_hosts`).
    redis: redis::Redis,
    /// Outbound PostgreSQL (`allowed_outbound_hosts`).
    postgres: postgres::Postgres,
    /// Outbound MySQL (`allowed_outbound_hosts`).
    mysql: mysql::Mysql,
    /// Outbound MQTT (`allowed_outbound_hosts`).
    mqtt: mqtt::Mqtt,
    /// Outbound TCP and UDP through `wasi:sockets` (`allowed_outbound_hosts`).
    sockets: sockets::Sockets,
}
