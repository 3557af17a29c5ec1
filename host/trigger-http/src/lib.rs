//! The HTTP trigger: accepts connections, routes each request to a component
//! by Spin's rules, and runs it in a fresh instance under the sandbox limits.

pub mod body;
pub mod dispatch;
pub mod headers;
pub mod server;

use crate::body::{Cutoff, GuardedResponseBody, LimitedRequestBody};
use crate::dispatch::{Dispatch, RequestTrace};
use crate::headers::set_spin_headers;
use bytes::Bytes;
use cloudfn_engine::admission::Admission;
use cloudfn_engine::limits::format_size;
use cloudfn_engine::state::MemoryUsage;
use cloudfn_engine::trap_of;
use cloudfn_engine::{EngineError, Runtime};
use cloudfn_manifest::Manifest;
use cloudfn_manifest::routes::Router;
use http::{Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use wasmtime::Trap;
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError};
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Errors starting the HTTP trigger.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A component could not be loaded.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A routed component has no HTTP export.
    #[error(
        "component `{id}` is routed from `{route}` but exports neither wasi:http/incoming-handler@0.2 nor wasi:http/handler@0.3"
    )]
    NotHttp {
        /// Component id.
        id: String,
        /// The route.
        route: String,
    },
    /// The listen address is taken.
    #[error("cannot listen on {addr}: the address is already in use (pick another with --listen)")]
    AddressInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// Another socket error.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The response body type of the trigger.
pub type ResponseBody = WasiBody;

/// Every routed component of one manifest, ready to serve.
pub struct HttpApp {
    runtime: Arc<Runtime>,
    router: Router<Arc<RoutedComponent>>,
    admission: Arc<Admission>,
    next_id: AtomicU64,
    /// `--body-read-timeout`, for bodies read from a socket.
    body_read_timeout: Option<Duration>,
}

/// How long a request waits for room in the memory budget before its `503`.
pub const MEMORY_WAIT: Duration = Duration::from_secs(1);

struct RoutedComponent {
    id: String,
    /// The request-body limit for this component (`--max-request-body`, or
    /// its `[component.X.tool.cloudfn] max_request_body`).
    max_request_body: u64,
    /// Its response-body limit, likewise.
    max_response_body: u64,
    /// Its memory limit, reserved in the budget while an instance runs.
    max_memory: u64,
    dispatch: Dispatch,
}

impl HttpApp {
    /// Loads every component that a `[[trigger.http]]` names.
    pub fn new(runtime: Arc<Runtime>, manifest: &Manifest) -> Result<Self, ServeError> {
        let mut loaded: BTreeMap<&str, Arc<RoutedComponent>> = BTreeMap::new();
        let mut routes = Vec::new();
        for trigger in &manifest.http_triggers {
            let routed = match loaded.get(trigger.component.as_str()) {
                Some(routed) => routed.clone(),
                None => {
                    let component = Arc::new(runtime.load(manifest, &trigger.component)?);
                    tracing::info!(component = %component.id, cache = ?component.cache_outcome, "component loaded");
                    let id = component.id.clone();
                    let max_request_body = component.max_request_body;
                    let max_response_body = component.max_response_body;
                    let max_memory = component.max_memory;
                    let dispatch = Dispatch::new(runtime.clone(), component).ok_or_else(|| {
                        ServeError::NotHttp {
                            id: trigger.component.clone(),
                            route: trigger.route.to_string(),
                        }
                    })?;
                    let routed = Arc::new(RoutedComponent {
                        id,
                        max_request_body,
                        max_response_body,
                        max_memory,
                        dispatch,
                    });
                    loaded.insert(&trigger.component, routed.clone());
                    routed
                }
            };
            routes.push((trigger.route.clone(), routed));
        }
        let admission = runtime.admission().clone();
        Ok(Self {
            runtime,
            router: Router::new(routes),
            admission,
            next_id: AtomicU64::new(1),
            body_read_timeout: None,
        })
    }

    /// Fails a request with `408` when its body sends nothing for `timeout`
    /// while the function waits for it (bodies from a socket; a Lambda
    /// event's body is already whole).
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = Some(timeout);
        self
    }

    /// `(route, component)` pairs, most specific first.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.router
            .routes()
            .map(|(pattern, routed)| (pattern.raw(), routed.id.as_str()))
    }

    /// Handles one request from `client`, within `--timeout`.
    ///
    /// The body may be any HTTP body: hyper's on a socket, a buffered one
    /// from a Lambda event or a test.
    pub async fn handle<B>(
        &self,
        req: http::Request<B>,
        client: SocketAddr,
    ) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes, Error = HttpError> + Send + Unpin + 'static,
    {
        self.handle_within(req, client, None).await
    }

    /// Handles one request from `client`, finishing by `budget` from now when
    /// that is sooner than `--timeout` (a Lambda invocation's remaining time).
    pub async fn handle_within<B>(
        &self,
        mut req: http::Request<B>,
        client: SocketAddr,
        budget: Option<Duration>,
    ) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes, Error = HttpError> + Send + Unpin + 'static,
    {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let limits = self.runtime.limits();
        let mut log = RequestLog {
            id,
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            component: String::new(),
            started,
        };
        let Some(route) = self.router.route(req.uri().path()) else {
            return log.plain(
                StatusCode::NOT_FOUND,
                format!("no route matches {}", req.uri().path()),
            );
        };
        let routed = route.target.clone();
        log.component = routed.id.clone();
        let max_body = routed.max_request_body;
        if let Some(length) = content_length(&req)
            && length > max_body
        {
            return log.plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body of {length} bytes exceeds the limit of {} (--max-request-body)",
                    format_size(max_body)
                ),
            );
        }
        let permit = match self
            .admission
            .admit(&routed.id, routed.max_memory, MEMORY_WAIT)
            .await
        {
            Ok(ticket) => ticket,
            Err(refusal) => {
                let mut response = log.plain(StatusCode::SERVICE_UNAVAILABLE, refusal.to_string());
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
                return response;
            }
        };
        let uri = req.uri().clone();
        set_spin_headers(req.headers_mut(), &route, &uri, client);
        let too_large = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        let stall_after = self.body_read_timeout;
        let req = req.map(|body| {
            let body = LimitedRequestBody::new(body, max_body, too_large.clone());
            match stall_after {
                Some(timeout) => body.stall_after(timeout, stalled.clone()).boxed_unsync(),
                None => body.boxed_unsync(),
            }
        });
        // The invocation's budget counts only when it is the tighter bound.
        let budget = budget.filter(|b| *b < limits.timeout);
        let deadline = tokio::time::Instant::now() + budget.unwrap_or(limits.timeout);
        let trace = Arc::new(RequestTrace::until(deadline.into_std()));
        let outcome =
            tokio::time::timeout_at(deadline, routed.dispatch.call(trace.clone(), req)).await;
        let usage = trace.usage();
        let failure = match outcome {
            // The guest may answer anything once its body stream failed at the limit.
            Ok(_) if too_large.load(Ordering::Relaxed) => Failure::BodyTooLarge(max_body),
            Ok(_) if stalled.load(Ordering::Relaxed) => {
                Failure::BodyStalled(stall_after.unwrap_or_default())
            }
            Ok(Ok((response, guest))) => {
                let status = response.status();
                let max = routed.max_response_body;
                let declared = declared_length(response.headers());
                return response.map(move |body| {
                    GuardedResponseBody::new(body, max, deadline, declared, move |bytes, cutoff| {
                        drop(guest);
                        drop(permit);
                        log.finish(status, usage.as_deref(), bytes, cutoff);
                    })
                    .boxed_unsync()
                });
            }
            Ok(Err(error)) => classify(id, &error, &trace, usage.as_deref()),
            Err(_elapsed) => Failure::Timeout(budget),
        };
        drop(permit);
        let (status, message) = failure.describe(id, &routed, limits);
        log.plain_with(status, message, usage.as_deref())
    }
}

/// Binds `addr`, turning "address in use" into a clear error.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::AddressInUse { addr }
        } else {
            ServeError::Listen { addr, source }
        }
    })
}

fn content_length<B>(req: &http::Request<B>) -> Option<u64> {
    declared_length(req.headers())
}

/// A `Content-Length` header's value.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a request did not produce a response.
#[derive(Debug)]
enum Failure {
    /// Past `--timeout`, or past the invocation's budget when given.
    Timeout(Option<Duration>),
    BodyTooLarge(u64),
    /// The client sent no body bytes for this long while the guest waited.
    BodyStalled(Duration),
    MemoryLimit,
    StackOverflow,
    Capacity(String),
    Guest(String),
}

impl Failure {
    fn describe(
        &self,
        id: u64,
        routed: &RoutedComponent,
        limits: &cloudfn_engine::limits::Limits,
    ) -> (StatusCode, String) {
        let component = routed.id.as_str();
        match self {
            Failure::Timeout(None) => (
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "request {id}: component `{component}` did not finish within {:?} (--timeout)",
                    limits.timeout
                ),
            ),
            Failure::Timeout(Some(budget)) => (
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "request {id}: component `{component}` did not finish within the invocation's remaining {budget:?}"
                ),
            ),
            Failure::BodyTooLarge(max_body) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request {id}: request body exceeds the limit of {} (--max-request-body)",
                    format_size(*max_body)
                ),
            ),
            Failure::BodyStalled(timeout) => (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request {id}: the request body sent nothing for {timeout:?} (--body-read-timeout)"
                ),
            ),
            Failure::MemoryLimit => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "request {id}: component `{component}` exceeded its memory limit of {}",
                    limits.describe_memory_limit(routed.max_memory)
                ),
            ),
            Failure::StackOverflow => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "request {id}: component `{component}` overflowed its stack of {} (--max-stack)",
                    format_size(limits.max_stack)
                ),
            ),
            Failure::Capacity(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("request {id}: no instance slot for component `{component}`: {e}"),
            ),
            Failure::Guest(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("request {id}: component `{component}` failed: {e}"),
            ),
        }
    }
}

fn classify(
    id: u64,
    error: &wasmtime::Error,
    trace: &RequestTrace,
    usage: Option<&MemoryUsage>,
) -> Failure {
    if error.is::<ExpirationError>() {
        return Failure::Timeout(None);
    }
    if usage.is_some_and(MemoryUsage::limit_hit) {
        return Failure::MemoryLimit;
    }
    if let Some(e) = error.downcast_ref::<InstantiationError<Arc<RequestTrace>>>() {
        return Failure::Capacity(format!("{:#}", e.error));
    }
    let recorded = trace.failure();
    let trap = trap_of(error).or_else(|| recorded.as_ref().and_then(|(trap, _)| *trap));
    tracing::warn!(
        id,
        error = %recorded.map_or_else(|| format!("{error:?}"), |(_, detail)| detail),
        "guest failed"
    );
    match trap {
        Some(Trap::Interrupt) => Failure::Timeout(None),
        Some(Trap::StackOverflow) => Failure::StackOverflow,
        Some(trap) => Failure::Guest(format!("trapped: {trap}")),
        None => Failure::Guest(error.to_string()),
    }
}

/// The one log line each request gets.
struct RequestLog {
    id: u64,
    method: String,
    path: String,
    component: String,
    started: Instant,
}

impl RequestLog {
    fn plain(self, status: StatusCode, message: String) -> Response<ResponseBody> {
        self.plain_with(status, message, None)
    }

    fn plain_with(
        self,
        status: StatusCode,
        message: String,
        usage: Option<&MemoryUsage>,
    ) -> Response<ResponseBody> {
        if status.is_server_error() {
            tracing::warn!(id = self.id, "{message}");
        }
        self.finish(status, usage, message.len() as u64 + 1, None);
        let mut response = Response::new(
            Full::new(Bytes::from(message + "\n"))
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }

    fn finish(
        &self,
        status: StatusCode,
        usage: Option<&MemoryUsage>,
        bytes: u64,
        cutoff: Option<Cutoff>,
    ) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let peak_memory = usage.map_or(0, MemoryUsage::peak);
        tracing::info!(
            target: "cloudfn::request",
            id = self.id,
            method = %self.method,
            path = %self.path,
            component = %self.component,
            status = status.as_u16(),
            duration_ms = format_args!("{duration_ms:.3}"),
            peak_memory,
            bytes,
            cutoff = ?cutoff,
        );
    }
}
