//! Calling a component's HTTP export in a fresh instance.
//!
//! WASIp2 handlers are called directly: one store, one instance and one
//! task per request, aborted when the response ends or the request is
//! abandoned. WASIp3 handlers go through wasmtime's `ProxyHandler`, whose
//! event loop drives p3 bodies, configured to accept exactly one request per
//! instance.

use cloudfn_engine::state::{HostState, MemoryUsage};
use cloudfn_engine::{LoadedComponent, Runtime, trap_of};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut, Trap};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

/// What the host learns about one request while the guest runs it.
#[derive(Default)]
pub struct RequestTrace {
    /// When the request must be answered: its guest stops then too.
    deadline: Option<Instant>,
    usage: OnceLock<Arc<MemoryUsage>>,
    /// The error that ended the instance, when it failed before responding.
    failure: Mutex<Option<(Option<Trap>, String)>>,
}

impl RequestTrace {
    /// The trace of a request to be answered by `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline: Some(deadline),
            ..Self::default()
        }
    }

    /// Memory use of the instance that served the request, once it exists.
    pub fn usage(&self) -> Option<Arc<MemoryUsage>> {
        self.usage.get().cloned()
    }

    /// The trap that ended the instance, if any, and the full error text.
    pub fn failure(&self) -> Option<(Option<Trap>, String)> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn record_failure(&self, error: &wasmtime::Error) {
        if let Ok(mut failure) = self.failure.lock() {
            *failure = Some((trap_of(error), format!("{error:?}")));
        }
    }
}

/// Keeps a p2 guest task alive while its response streams; when dropped,
/// aborts it, and stops its guest code at the next epoch tick (an abort
/// alone reaches a task only when the guest awaits a host call).
pub struct GuestTask(Option<(tokio::task::AbortHandle, Arc<AtomicBool>)>);

impl Drop for GuestTask {
    fn drop(&mut self) {
        if let Some((task, cancelled)) = self.0.take() {
            cancelled.store(true, Ordering::Relaxed);
            task.abort();
        }
    }
}

/// How one component's HTTP export is called.
pub enum Dispatch {
    /// `wasi:http/incoming-handler@0.2`, called directly.
    P2 {
        /// Pre-instantiated proxy.
        pre: wasmtime_wasi_http::p2::bindings::ProxyPre<HostState>,
        /// Engine and limits.
        runtime: Arc<Runtime>,
        /// The component and its grants.
        component: Arc<LoadedComponent>,
    },
    /// `wasi:http/handler@0.3`, through `ProxyHandler`.
    P3(ProxyHandler<FreshInstances>),
}

impl Dispatch {
    /// The dispatch for `component`, or `None` when it has no HTTP export.
    pub fn new(runtime: Arc<Runtime>, component: Arc<LoadedComponent>) -> Option<Self> {
        match component.http.as_deref()? {
            ProxyPre::P2(pre) => Some(Dispatch::P2 {
                pre: pre.clone(),
                runtime,
                component: component.clone(),
            }),
            ProxyPre::P3(_) => Some(Dispatch::P3(ProxyHandler::new(FreshInstances {
                runtime,
                component,
            }))),
        }
    }

    /// Runs `request` in a fresh instance until the guest produces a response.
    ///
    /// The returned [`GuestTask`] must live as long as the response body.
    pub async fn call(
        &self,
        trace: Arc<RequestTrace>,
        request: http::Request<WasiBody>,
    ) -> Result<(http::Response<WasiBody>, GuestTask), wasmtime::Error> {
        match self {
            Dispatch::P3(handler) => Ok((handler.handle(trace, request).await?, GuestTask(None))),
            Dispatch::P2 {
                pre,
                runtime,
                component,
            } => {
                let mut store = runtime.new_store_until(component, trace.deadline)?;
                let cancelled = store.data().stop.cancelled.clone();
                let _ = trace.usage.set(store.data().limiter.usage());
                let (tx, rx) = tokio::sync::oneshot::channel();
                let request = store
                    .data_mut()
                    .http()
                    .new_incoming_request(Scheme::Http, request)?;
                let out = store.data_mut().http().new_response_outparam(tx)?;
                let pre = pre.clone();
                let task = tokio::spawn(async move {
                    let proxy = pre.instantiate_async(&mut store).await?;
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, request, out)
                        .await
                });
                let guard = GuestTask(Some((task.abort_handle(), cancelled)));
                match rx.await {
                    Ok(Ok(response)) => Ok((response, guard)),
                    Ok(Err(code)) => {
                        wasmtime::bail!("the guest answered with an error: {code:?}")
                    }
                    Err(_) => {
                        let error = match task.await {
                            Ok(Ok(())) => {
                                wasmtime::format_err!(
                                    "the guest returned without setting a response"
                                )
                            }
                            Ok(Err(error)) => error,
                            Err(join) => wasmtime::format_err!("guest task failed: {join}"),
                        };
                        trace.record_failure(&error);
                        Err(error)
                    }
                }
            }
        }
    }
}

/// `ProxyHandler` state that gives every request a fresh instance.
pub struct FreshInstances {
    runtime: Arc<Runtime>,
    component: Arc<LoadedComponent>,
}

impl HandlerState for FreshInstances {
    type StoreData = HostState;
    type WorkerExpiration = OneRequestExpiration;
    type WorkerState = OneRequest;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<Instance<HostState, OneRequestExpiration, OneRequest>> {
        let mut store = self.runtime.new_store(&self.component)?;
        let Some(pre) = &self.component.http else {
            wasmtime::bail!("component `{}` has no HTTP export", self.component.id);
        };
        let proxy = pre.instantiate_async(&mut store).await?;
        let timeout = self.runtime.limits().timeout;
        Ok(Instance {
            store,
            proxy,
            view: wasmtime_wasi_http::WasiHttpView::http,
            expiration: OneRequestExpiration {
                timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX / 4)),
            },
            state: OneRequest {
                timeout,
                trace: Mutex::new(None),
            },
        })
    }
}

/// Worker state: accept exactly one request, then retire the instance.
pub struct OneRequest {
    timeout: Duration,
    trace: Mutex<Option<Arc<RequestTrace>>>,
}

impl WorkerState for OneRequest {
    type StoreData = HostState;
    type RequestData = Arc<RequestTrace>;

    fn should_accept_request(&self, _concurrent: usize, total: usize) -> ShouldAccept {
        if total == 0 {
            ShouldAccept::Yes
        } else {
            ShouldAccept::Never
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<HostState>,
        trace: Arc<RequestTrace>,
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        let _ = trace.usage.set(store.data().limiter.usage());
        if let Some(deadline) = trace.deadline {
            let stop = &mut store.data_mut().stop;
            stop.deadline = stop.deadline.min(deadline);
        }
        if let Ok(mut slot) = self.trace.lock() {
            *slot = Some(trace);
        }
        Box::pin(tokio::time::sleep(self.timeout))
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(error) = result {
            let trace = self.trace.lock().ok().and_then(|t| t.clone());
            if let Some(trace) = trace {
                trace.record_failure(&error);
            }
        }
        drop(store);
    }
}

/// Worker expiration: an idle instance retires at once; a busy one at the timeout.
pub struct OneRequestExpiration {
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for OneRequestExpiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let this = self.get_mut();
        if let WorkerStatus::Idle = status {
            return Poll::Ready(());
        }
        let deadline = tokio::time::Instant::from_std(start + this.timeout);
        if this.sleep.deadline() != deadline {
            this.sleep.as_mut().reset(deadline);
        }
        this.sleep.as_mut().poll(cx)
    }
}
