//! What each store carries: WASI and `wasi:http` contexts, every service's
//! instance state, the component's grants, and the memory limiter that also
//! records peak usage.

use super::interrupt::{GuestStop, RunningGuard};
use super::stdio::GuestOutput;
use cloudfn_services::{HasServices, ServiceGrants, ServiceInstances, Services};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What the manifest grants one component. Nothing is granted by default.
#[derive(Default)]
pub struct Grants {
    /// Environment variables (`environment`).
    pub env: Vec<(String, String)>,
    /// Host directory → guest path (`files`).
    pub dirs: Vec<(PathBuf, String)>,
    /// What each platform service grants it.
    pub services: ServiceGrants,
}

/// Memory used by one instance, readable after the store is gone.
#[derive(Debug, Default)]
pub struct MemoryUsage {
    peak: AtomicU64,
    limit_hit: AtomicBool,
}

impl MemoryUsage {
    /// Largest total linear memory the instance had, in bytes.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Whether the instance asked for more than its limit.
    pub fn limit_hit(&self) -> bool {
        self.limit_hit.load(Ordering::Relaxed)
    }
}

/// Caps the total linear memory of an instance and records its peak.
#[derive(Debug)]
pub struct MemoryLimiter {
    max: u64,
    total: u64,
    usage: Arc<MemoryUsage>,
}

impl MemoryLimiter {
    /// A limiter allowing `max` bytes of linear memory in total.
    pub fn new(max: u64) -> Self {
        Self {
            max,
            total: 0,
            usage: Arc::default(),
        }
    }

    /// The shared usage record.
    pub fn usage(&self) -> Arc<MemoryUsage> {
        self.usage.clone()
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total + (desired - current) as u64;
        if total > self.max {
            self.usage.limit_hit.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        self.total = total;
        self.usage.peak.fetch_max(total, Ordering::Relaxed);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The data of every store.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    services: ServiceInstances,
    /// The memory limiter (installed with `Store::limiter`).
    pub limiter: MemoryLimiter,
    /// When the guest must stop (read at every epoch tick).
    pub stop: GuestStop,
    /// Counts this instance among the running ones while the store lives.
    _running: RunningGuard,
}

impl HostState {
    /// Fresh state for one instance with the given grants, stopping as
    /// `stop` says and counted in the running instances by `running`.
    pub fn new(
        grants: &Grants,
        services: &Services,
        max_memory: u64,
        stop: GuestStop,
        running: RunningGuard,
    ) -> wasmtime::Result<Self> {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(GuestOutput::Stdout).stderr(GuestOutput::Stderr);
        for (k, v) in &grants.env {
            wasi.env(k, v);
        }
        for (host, guest) in &grants.dirs {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)?;
        }
        services.configure_wasi(&grants.services, &mut wasi);
        Ok(Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            services: services.instances(&grants.services),
            limiter: MemoryLimiter::new(max_memory),
            stop,
            _running: running,
        })
    }
}

impl HasServices for HostState {
    fn services(&mut self) -> (&mut ServiceInstances, &mut ResourceTable) {
        (&mut self.services, &mut self.table)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.services.outbound_http,
        }
    }
}
