//! The engine layer: one wasmtime `Engine` with the pooling allocator and
//! epoch interruption, the on-disk cache of precompiled components, the
//! linker with every interface a guest may import, and fresh stores with the
//! sandbox limits applied.

pub mod admission;
pub mod bindings;
pub mod cache;
pub mod componentize;
pub mod compose;
pub mod interrupt;
pub mod limits;
pub mod state;
pub mod stdio;
pub mod watchdog;

use crate::limits::{Limits, format_size};
use admission::Admission;
use cache::{CacheError, CacheOutcome, ComponentCache};
use cloudfn_manifest::{FileMount, Manifest};
use cloudfn_services::{GrantContext, ServiceConfig, ServiceError, Services};
use interrupt::{GuestStop, Running};
use state::{Grants, HostState};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
};
use wasmtime_wasi_http::handler::ProxyPre;

pub use interrupt::EPOCH_TICK;

/// Errors building the engine or loading a component.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// wasmtime refused the configuration.
    #[error("cannot configure wasmtime: {0}")]
    Config(String),
    /// The component's `.wasm` file does not exist.
    #[error("component `{id}`: {} not found; build it first (`cloudfn build`, or `cloudfn up --build`)", path.display())]
    MissingComponent {
        /// Component id.
        id: String,
        /// Expected path.
        path: PathBuf,
    },
    /// The component could not be read or compiled.
    #[error("component `{id}`")]
    Cache {
        /// Component id.
        id: String,
        /// What went wrong.
        source: CacheError,
    },
    /// A platform service could not start.
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// The component imports something the host does not provide, or its grants are invalid.
    #[error("component `{id}`: {message}")]
    Link {
        /// Component id.
        id: String,
        /// What went wrong.
        message: String,
    },
}

/// How a guest that overruns the timeout is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// Epoch checks compiled into guest code (at function entries and loop
    /// headers) trap the one instance that overran, while others go on: for
    /// servers. They cost up to about 20% on tight loops.
    Epoch,
    /// No checks in guest code: the caller enforces the timeout itself, as
    /// `cloudfn stream` does by ending its process (one job per process).
    Process,
}

/// Which CPU the compiled code may count on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeTarget {
    /// Every feature of this machine's CPU: code for here and now
    /// (`cloudfn up`, `invoke`, `stream`, the local cache).
    #[default]
    Host,
    /// A fixed baseline of this architecture (x86-64-v3 on x86_64, LSE
    /// atomics on aarch64), so code compiled on one machine loads on any
    /// machine of that baseline: what the Lambda bootstrap's `precompiled/`
    /// holds, since the machine that builds the zip is not the one that
    /// runs it. wasmtime checks when loading that the CPU has the features.
    Baseline,
}

impl CodeTarget {
    /// The Cranelift presets and flags of the baseline on this architecture.
    fn baseline_flags() -> &'static [&'static str] {
        if cfg!(target_arch = "x86_64") {
            &["x86-64-v3"]
        } else if cfg!(target_arch = "aarch64") {
            &["has_lse"]
        } else {
            &[]
        }
    }
}

/// The shared engine, linker and limits.
pub struct Runtime {
    interruption: Interruption,
    engine: Engine,
    linker: Linker<HostState>,
    limits: Limits,
    cache: ComponentCache,
    epoch_stop: Arc<AtomicBool>,
    /// Set by [`Runtime::abandon`]: every running guest stops at its next tick.
    shutdown: Arc<AtomicBool>,
    running: Arc<Running>,
    services: Services,
    admission: Arc<Admission>,
}

/// An event handler export, pre-instantiated.
#[derive(Clone)]
pub enum RedisHandler {
    /// `fermyon:spin/inbound-redis` (spin-sdk 5 `#[redis_component]`).
    V2(crate::bindings::redis_handler_v2::RedisHandlerV2Pre<HostState>),
    /// `spin:redis/inbound-redis@3.0.0` (spin-sdk 6+ `#[redis_subscriber]`).
    V3(crate::bindings::redis_handler_v3::RedisHandlerV3Pre<HostState>),
}

impl RedisHandler {
    /// Every Redis-trigger export `instance_pre` has.
    fn detect(instance_pre: &InstancePre<HostState>) -> Vec<Self> {
        use crate::bindings::{redis_handler_v2, redis_handler_v3};
        let v2 = redis_handler_v2::RedisHandlerV2Pre::new(instance_pre.clone())
            .ok()
            .map(Self::V2);
        let v3 = redis_handler_v3::RedisHandlerV3Pre::new(instance_pre.clone())
            .ok()
            .map(Self::V3);
        v2.into_iter().chain(v3).collect()
    }

    /// The interface, as Spin names it.
    pub fn interface(&self) -> &'static str {
        match self {
            Self::V2(_) => "fermyon:spin/inbound-redis",
            Self::V3(_) => "spin:redis/inbound-redis@3.0.0",
        }
    }
}

/// A component ready to instantiate, with what its manifest grants it.
pub struct LoadedComponent {
    /// The component id in the manifest.
    pub id: String,
    /// The compiled component.
    pub component: Component,
    /// Pre-instantiated with all imports resolved.
    pub instance_pre: InstancePre<HostState>,
    /// Present when the component exports `wasi:http` (p2 or p3).
    pub http: Option<Arc<ProxyPre<HostState>>>,
    /// The Redis-trigger interfaces it exports (Spin refuses a component
    /// with more than one; so does the Redis trigger).
    pub redis_handlers: Vec<RedisHandler>,
    /// What it may touch.
    pub grants: Grants,
    /// Where the compiled code came from.
    pub cache_outcome: CacheOutcome,
    /// Its request-body limit: `--max-request-body`, or the manifest's
    /// `[component.X.tool.cloudfn] max_request_body` (for functions made to
    /// take large uploads).
    pub max_request_body: u64,
    /// Its response-body limit: `--max-response-body`, or the manifest's
    /// `[component.X.tool.cloudfn] max_response_body`.
    pub max_response_body: u64,
    /// Its linear-memory limit, reserved in the memory budget while an
    /// instance runs: `--max-memory`, or the manifest's
    /// `[component.X.tool.cloudfn] max_memory` (no more than `--max-memory`,
    /// the size of the pool's memory slots).
    pub max_memory: u64,
}

impl Runtime {
    /// Builds the engine for these limits, with epoch interruption; `cache_dir`
    /// of `None` disables the disk cache.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, EngineError> {
        Self::with_interruption(limits, cache_dir, Interruption::Epoch)
    }

    /// Builds the engine for these limits, stopping overrunning guests as `interruption` says.
    pub fn with_interruption(
        limits: Limits,
        cache_dir: Option<PathBuf>,
        interruption: Interruption,
    ) -> Result<Self, EngineError> {
        Self::for_target(limits, cache_dir, interruption, CodeTarget::Host)
    }

    /// Builds the engine for these limits, compiling for `target`.
    pub fn for_target(
        limits: Limits,
        cache_dir: Option<PathBuf>,
        interruption: Interruption,
        target: CodeTarget,
    ) -> Result<Self, EngineError> {
        let config_err = |e: wasmtime::Error| EngineError::Config(format!("{e:#}"));
        if limits.max_total_memory.0 < limits.max_memory {
            return Err(EngineError::Config(format!(
                "--max-total-memory {} cannot hold one instance of --max-memory {}",
                limits.max_total_memory,
                format_size(limits.max_memory)
            )));
        }
        let mut pool = PoolingAllocationConfig::new();
        let slots = limits.max_concurrent.max(1) + 8;
        pool.total_component_instances(slots)
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .total_stacks(slots)
            .max_memories_per_component(4)
            .max_memory_size(usize::try_from(limits.max_memory).unwrap_or(usize::MAX))
            // Reset a freed slot in place instead of returning its pages to
            // the kernel: PAGEMAP_SCAN (Linux 6.7+) finds the pages the guest
            // dirtied in the first 4 MiB and only those are memset back, so
            // there is no madvise, no cross-core TLB shootdown and no page
            // fault on the next instantiation. This about doubles requests
            // per second on small handlers (see README, Performance). Cost:
            // up to 4 MiB stays resident per warm slot. Older kernels fall
            // back to memsetting the whole region.
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .wasm_component_model_async(true)
            .epoch_interruption(interruption == Interruption::Epoch)
            .max_wasm_stack(usize::try_from(limits.max_stack).unwrap_or(usize::MAX))
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if target == CodeTarget::Baseline {
            // Naming the target stops wasmtime inferring this CPU's features.
            config
                .target(&target_lexicon::HOST.to_string())
                .map_err(config_err)?;
            for flag in CodeTarget::baseline_flags() {
                // SAFETY: each flag names CPU features (a Cranelift preset);
                // wasmtime refuses to load code compiled with them on a CPU
                // that lacks any, so no code runs where it cannot.
                #[allow(unsafe_code)]
                unsafe {
                    config.cranelift_flag_enable(flag);
                }
            }
        }
        let engine = Engine::new(&config).map_err(config_err)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(config_err)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(config_err)?;
        wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(config_err)?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(config_err)?;
        Services::add_to_linker(&mut linker).map_err(config_err)?;

        let epoch_stop = Arc::new(AtomicBool::new(false));
        if interruption == Interruption::Epoch {
            interrupt::start_ticker(engine.weak(), epoch_stop.clone())
                .map_err(|e| EngineError::Config(format!("cannot start epoch thread: {e}")))?;
        }

        Ok(Self {
            interruption,
            engine,
            linker,
            admission: Arc::new(Admission::new(
                limits.max_concurrent,
                limits.max_total_memory.0,
            )),
            limits,
            cache: ComponentCache::new(cache_dir),
            epoch_stop,
            shutdown: Arc::default(),
            running: Arc::default(),
            services: Services::new(&ServiceConfig::default())?,
        })
    }

    /// Configures the platform services (data directory, blob store, …).
    pub fn configure_services(&mut self, config: &ServiceConfig) -> Result<(), EngineError> {
        self.services = Services::new(config)?;
        Ok(())
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The instance slots (`--max-concurrent`) and the memory budget
    /// (`--max-total-memory`), shared by every trigger: HTTP requests and
    /// event deliveries draw on the same instance slots of the pool.
    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// Compiles (or loads from cache) and links component `id` of `manifest`.
    pub fn load(&self, manifest: &Manifest, id: &str) -> Result<LoadedComponent, EngineError> {
        let link_err = |message: String| EngineError::Link {
            id: id.to_owned(),
            message,
        };
        let entry = manifest
            .components
            .get(id)
            .ok_or_else(|| link_err("not defined in the manifest".into()))?;
        let path = manifest.source_path(entry);
        let services = self
            .services
            .grants(&GrantContext {
                manifest,
                id,
                component: entry,
            })
            .map_err(|e| link_err(e.to_string()))?;
        let grants = Grants {
            env: entry
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            dirs: entry
                .files
                .iter()
                .map(|mount| match mount {
                    FileMount::Path(p) => (manifest.dir.join(p), format!("/{}", p.trim_start_matches('/'))),
                    FileMount::Mapping {
                        source,
                        destination,
                    } => (manifest.dir.join(source), destination.clone()),
                })
                .map(|(host, guest)| {
                    if host.is_dir() {
                        Ok((host, guest))
                    } else {
                        Err(link_err(format!(
                            "files: {} is not a directory (cloudfn mounts directories; glob patterns are not supported)",
                            host.display()
                        )))
                    }
                })
                .collect::<Result<_, _>>()?,
            services,
        };
        let size_override = |name: &str, default: u64| -> Result<u64, EngineError> {
            match entry
                .tool
                .as_ref()
                .and_then(|t| t.get("cloudfn"))
                .and_then(|c| c.get(name))
            {
                None => Ok(default),
                Some(toml::Value::String(size)) => crate::limits::parse_size(size)
                    .map_err(|e| link_err(format!("tool.cloudfn.{name}: {e}"))),
                Some(other) => Err(link_err(format!(
                    "tool.cloudfn.{name} must be a size such as \"1GiB\", not {other}"
                ))),
            }
        };
        let max_request_body = size_override("max_request_body", self.limits.max_request_body)?;
        let max_response_body = size_override("max_response_body", self.limits.max_response_body)?;
        let max_memory = size_override("max_memory", self.limits.max_memory)?;
        if max_memory > self.limits.max_memory {
            return Err(link_err(format!(
                "tool.cloudfn.max_memory = {} exceeds --max-memory {}, the most an instance may have: raise --max-memory",
                format_size(max_memory),
                format_size(self.limits.max_memory)
            )));
        }
        if !path.exists() {
            return Err(EngineError::MissingComponent {
                id: id.to_owned(),
                path,
            });
        }
        let bytes = compose::component_bytes(manifest, id, entry).map_err(link_err)?;
        let mut loaded = self.link(id, &path, &bytes, grants)?;
        loaded.max_request_body = max_request_body;
        loaded.max_response_body = max_response_body;
        loaded.max_memory = max_memory;
        Ok(loaded)
    }

    /// Compiles (or loads from cache) and links the component at `path`, granting it `grants`.
    pub fn load_file(
        &self,
        id: &str,
        path: &std::path::Path,
        grants: Grants,
    ) -> Result<LoadedComponent, EngineError> {
        if !path.exists() {
            return Err(EngineError::MissingComponent {
                id: id.to_owned(),
                path: path.to_owned(),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| EngineError::Cache {
            id: id.to_owned(),
            source: CacheError::ReadWasm {
                path: path.to_owned(),
                source,
            },
        })?;
        let bytes =
            componentize::componentize(path, bytes).map_err(|message| EngineError::Link {
                id: id.to_owned(),
                message,
            })?;
        self.link(id, path, &bytes, grants)
    }

    /// Compiles (or loads from cache) and links the component `bytes` (from `path`).
    fn link(
        &self,
        id: &str,
        path: &std::path::Path,
        bytes: &[u8],
        grants: Grants,
    ) -> Result<LoadedComponent, EngineError> {
        let link_err = |message: String| EngineError::Link {
            id: id.to_owned(),
            message,
        };
        let (component, cache_outcome) =
            self.cache
                .load_bytes(&self.engine, path, bytes)
                .map_err(|source| EngineError::Cache {
                    id: id.to_owned(),
                    source,
                })?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| link_err(format!("{e:#}")))?;
        let http = match wasmtime_wasi_http::p3::bindings::ServicePre::new(instance_pre.clone()) {
            Ok(pre) => Some(Arc::new(ProxyPre::P3(pre))),
            Err(_) => wasmtime_wasi_http::p2::bindings::ProxyPre::new(instance_pre.clone())
                .ok()
                .map(|pre| Arc::new(ProxyPre::P2(pre))),
        };
        let redis_handlers = RedisHandler::detect(&instance_pre);
        Ok(LoadedComponent {
            id: id.to_owned(),
            component,
            instance_pre,
            http,
            redis_handlers,
            grants,
            cache_outcome,
            max_request_body: self.limits.max_request_body,
            max_response_body: self.limits.max_response_body,
            max_memory: self.limits.max_memory,
        })
    }

    /// A fresh store for one instance of `component`, with the memory limit,
    /// whose guest stops at the timeout (`--timeout`) from now.
    pub fn new_store(&self, component: &LoadedComponent) -> wasmtime::Result<Store<HostState>> {
        self.new_store_until(component, None)
    }

    /// A fresh store whose guest stops at `deadline` (a request's, an
    /// invocation's) or at the timeout from now, whichever comes first.
    /// Under [`Interruption::Epoch`] the guest checks its [`GuestStop`]
    /// (`store.data().stop`) once an [`EPOCH_TICK`].
    pub fn new_store_until(
        &self,
        component: &LoadedComponent,
        deadline: Option<Instant>,
    ) -> wasmtime::Result<Store<HostState>> {
        let timeout = Instant::now() + self.limits.timeout;
        let deadline = deadline.map_or(timeout, |d| d.min(timeout));
        let state = HostState::new(
            &component.grants,
            &self.services,
            component.max_memory,
            GuestStop::at(deadline),
            self.running.enter(&component.id),
        )?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if self.interruption == Interruption::Epoch {
            let shutdown = self.shutdown.clone();
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |store| {
                interrupt::check(&store.data().stop, &shutdown)
            });
        }
        Ok(store)
    }

    /// For a shutdown past its drain: every guest still running stops at its
    /// next epoch tick with [`interrupt::Abandoned`], and so does every guest
    /// started from now on. Returns the instances alive, per component.
    pub fn abandon(&self) -> BTreeMap<String, usize> {
        self.shutdown.store(true, Ordering::Relaxed);
        self.running.snapshot()
    }

    /// The instances alive, per component.
    pub fn running(&self) -> &Running {
        &self.running
    }

    /// How this runtime stops guests at the timeout.
    pub fn interruption(&self) -> Interruption {
        self.interruption
    }

    /// A one-line description of the limits, for start-up logs.
    pub fn describe_limits(&self) -> String {
        let l = &self.limits;
        format!(
            "memory {} per instance, {} in all, timeout {:?}, stack {}, request body {}, response body {}, {} concurrent instances",
            format_size(l.max_memory),
            l.max_total_memory,
            l.timeout,
            format_size(l.max_stack),
            format_size(l.max_request_body),
            format_size(l.max_response_body),
            l.max_concurrent
        )
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.epoch_stop.store(true, Ordering::Relaxed);
    }
}

/// The trap at the root of `error`, if it is one.
pub fn trap_of(error: &wasmtime::Error) -> Option<wasmtime::Trap> {
    error.downcast_ref::<wasmtime::Trap>().copied().or_else(|| {
        error
            .chain()
            .find_map(|cause| cause.downcast_ref::<wasmtime::Trap>().copied())
    })
}
