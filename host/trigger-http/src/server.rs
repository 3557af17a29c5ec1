//! The socket side of the HTTP trigger: accepting connections within
//! `--max-connections`, closing those that stall (`--header-read-timeout`,
//! `--idle-timeout`), and draining on shutdown.
//!
//! Each connection's bytes pass through [`WatchedIo`], which tells its
//! [`Activity`] when a request head begins to arrive; the service tells it
//! when a request starts and when its response is done. A watchdog per
//! connection closes it when a head takes too long or no request comes, and
//! never while a request is running (the request has `--timeout`).

use crate::HttpApp;
use crate::body::Lingering;
use cloudfn_engine::limits::ConnectionLimits;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use wasmtime_wasi_http::Error as HttpError;

/// What a connection is doing, for its watchdog.
#[derive(Debug)]
struct State {
    /// Requests whose responses are not yet done.
    in_flight: usize,
    /// When the bytes of the next request head began to arrive.
    head_since: Option<Instant>,
    /// When the connection last became idle (accepted, or a response done).
    idle_since: Instant,
}

/// A connection's activity, shared by its I/O, its service and its watchdog.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stalled {
    /// A request head took longer than `--header-read-timeout`.
    Header(Duration),
    /// No request came within `--idle-timeout`.
    Idle(Duration),
}

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Header(t) => write!(
                f,
                "the request headers did not arrive within {t:?} (--header-read-timeout)"
            ),
            Self::Idle(t) => write!(f, "no request within {t:?} (--idle-timeout)"),
        }
    }
}

impl Activity {
    /// A connection accepted now: idle until bytes arrive.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                in_flight: 0,
                head_since: None,
                idle_since: Instant::now(),
            }),
            changed: Notify::new(),
        })
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().expect("activity lock"));
        self.changed.notify_one();
    }

    fn bytes_arrived(&self) {
        let mut state = self.state.lock().expect("activity lock");
        if state.in_flight == 0 && state.head_since.is_none() {
            state.head_since = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// A request's head is complete and it is being served.
    pub fn request_started(&self) {
        self.update(|s| {
            s.in_flight += 1;
            s.head_since = None;
        });
    }

    /// A response is done (sent, or abandoned).
    pub fn response_done(&self) {
        self.update(|s| {
            s.in_flight -= 1;
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
            }
        });
    }

    /// The next deadline, and what passing it means; `None` while a request runs.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Stalled)> {
        let state = self.state.lock().expect("activity lock");
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_since {
            Some(since) => (
                since + limits.header_read_timeout,
                Stalled::Header(limits.header_read_timeout),
            ),
            None => (
                state.idle_since + limits.idle_timeout,
                Stalled::Idle(limits.idle_timeout),
            ),
        })
    }

    /// Resolves when the connection has stalled past a limit.
    pub async fn stalled(&self, limits: &ConnectionLimits) -> Stalled {
        loop {
            // Registered before the state is read, so no change is missed.
            let changed = self.changed.notified();
            match self.deadline(limits) {
                None => changed.await,
                Some((deadline, why)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {
                            if self.deadline(limits).is_some_and(|(d, _)| d <= Instant::now()) {
                                return why;
                            }
                        }
                        () = changed => {}
                    }
                }
            }
        }
    }
}

/// A socket whose reads tell its [`Activity`] that bytes arrived.
pub struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that tells the connection's [`Activity`] when it is done.
struct Tracked<B> {
    inner: B,
    activity: Option<Arc<Activity>>,
}

impl<B> Tracked<B> {
    fn done(&mut self) {
        if let Some(activity) = self.activity.take() {
            activity.response_done();
        }
    }
}

impl<B> Drop for Tracked<B> {
    fn drop(&mut self) {
        self.done();
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            this.done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Accepts connections on `listener` until `shutdown` resolves, then stops
/// accepting (new connections are refused), lets every connection finish
/// the requests it is running and close, and returns once all have.
pub async fn serve(
    app: Arc<HttpApp>,
    listener: TcpListener,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let max = limits.max_connections.max(1);
    let open = Arc::new(Semaphore::new(max as usize));
    let (drain, draining) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full_since: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = open.clone().acquire_owned() => permit.expect("never closed"),
        };
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Out of descriptors, say: give connections time to close.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if open.available_permits() == 0
            && full_since.is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            tracing::warn!(
                target: "cloudfn::connection",
                "{max} connections are open (--max-connections): new ones wait in the listen backlog"
            );
            full_since = Some(Instant::now());
        }
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let limits = limits.clone();
        let draining = draining.clone();
        tokio::spawn(async move {
            connection(app, stream, client, &limits, draining).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = drain.send(true);
    // Every connection holds a permit until it ends.
    let _all = open.acquire_many(max).await.expect("never closed");
    Ok(())
}

/// Serves one connection until it ends, stalls, or is drained.
async fn connection(
    app: Arc<HttpApp>,
    stream: tokio::net::TcpStream,
    client: SocketAddr,
    limits: &ConnectionLimits,
    mut draining: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let io = hyper_util::rt::TokioIo::new(WatchedIo::new(stream, activity.clone()));
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let app = app.clone();
        let activity = service_activity.clone();
        activity.request_started();
        let req = req.map(|body: Incoming| Lingering::new(body).map_err(HttpError::from));
        async move {
            let response = app.handle(req, client).await;
            let response = response.map(|body| {
                Tracked {
                    inner: body,
                    activity: Some(activity),
                }
                .boxed_unsync()
            });
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut drained = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, %client, "connection ended with an error");
                }
                return;
            }
            why = activity.stalled(limits) => {
                tracing::info!(target: "cloudfn::connection", %client, "closed: {why}");
                return;
            }
            changed = draining.changed(), if !drained => {
                if changed.is_ok() {
                    // Finish what is running, then close.
                    conn.as_mut().graceful_shutdown();
                }
                drained = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_millis(100),
            idle_timeout: Duration::from_millis(300),
            ..ConnectionLimits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_stalls_at_the_idle_timeout() {
        let activity = Activity::new();
        let started = Instant::now();
        assert_eq!(
            activity.stalled(&limits()).await,
            Stalled::Idle(Duration::from_millis(300))
        );
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_that_began_stalls_at_the_header_timeout() {
        let activity = Activity::new();
        tokio::time::advance(Duration::from_millis(250)).await;
        activity.bytes_arrived();
        let started = Instant::now();
        assert_eq!(
            activity.stalled(&limits()).await,
            Stalled::Header(Duration::from_millis(100))
        );
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_request_never_stalls_and_idle_time_restarts_after_it() {
        let activity = Activity::new();
        activity.bytes_arrived();
        activity.request_started();
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { activity.stalled(&limits()).await })
        };
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(!watch.is_finished(), "no limit while a request runs");
        activity.response_done();
        let started = Instant::now();
        assert_eq!(
            watch.await.unwrap(),
            Stalled::Idle(Duration::from_millis(300))
        );
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }
}
