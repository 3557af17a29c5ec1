//! Body wrappers that enforce the request- and response-size limits and the
//! request deadline while bytes stream, and report when a response is done.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Most request bytes read and dropped after the function answered without
/// reading them all.
pub const LINGER_BYTES: u64 = 16 << 20;
/// Longest time spent reading them.
pub const LINGER_TIME: Duration = Duration::from_secs(5);
/// Longest wait for the client's next bytes while reading them (a client
/// that stalled is let go at once, as it would have been).
pub const LINGER_SILENCE: Duration = Duration::from_secs(1);

/// A request body that, dropped before its end, goes on reading (and
/// dropping) what the client still sends, up to [`LINGER_BYTES`] within
/// [`LINGER_TIME`], and while it sends something at least every
/// [`LINGER_SILENCE`], before the connection is let go.
///
/// A function may answer before it reads the body: a `413` from the
/// `Content-Length`, a `507` over quota, a `401`. Closing the socket with
/// the client's bytes unread makes the kernel reset the connection, and a
/// client still sending (a browser's upload, curl) then loses the answer
/// and sees "connection reset" instead. Reading on a little, as web
/// servers do (nginx's lingering close), lets the answer arrive; a small
/// remainder even keeps the connection alive.
pub struct Lingering<B: Body<Data = Bytes> + Send + Unpin + 'static> {
    inner: Option<B>,
}

impl<B: Body<Data = Bytes> + Send + Unpin + 'static> Lingering<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Self {
        Self { inner: Some(inner) }
    }
}

impl<B: Body<Data = Bytes> + Send + Unpin + 'static> Body for Lingering<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.get_mut().inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl<B: Body<Data = Bytes> + Send + Unpin + 'static> Drop for Lingering<B> {
    fn drop(&mut self) {
        let Some(mut rest) = self.inner.take().filter(|b| !b.is_end_stream()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let read_on = async {
                let mut read = 0u64;
                while let Ok(Some(Ok(frame))) = tokio::time::timeout(
                    LINGER_SILENCE,
                    std::future::poll_fn(|cx| Pin::new(&mut rest).poll_frame(cx)),
                )
                .await
                {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if read > LINGER_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(LINGER_TIME, read_on).await;
        });
    }
}

/// A request body that fails once more than `limit` bytes arrive, and flags
/// it; with [`Self::stall_after`], also once the client sends nothing for a
/// while as the function waits for it.
///
/// `B` is any body whose errors are HTTP errors: hyper's `Incoming` on a
/// socket (mapped with `HttpError::from`), or a buffered body from a Lambda
/// event or a test.
pub struct LimitedRequestBody<B> {
    inner: B,
    limit: u64,
    seen: u64,
    exceeded: Arc<AtomicBool>,
    stall: Option<StallWatch>,
}

/// How long a read may wait for the client, and the flag set when it waited longer.
struct StallWatch {
    timeout: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// A read is waiting (the timer runs from when it began).
    waiting: bool,
    stalled: Arc<AtomicBool>,
}

impl<B> LimitedRequestBody<B> {
    /// Wraps `inner`; `exceeded` is set when the limit is crossed.
    pub fn new(inner: B, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            limit,
            seen: 0,
            exceeded,
            stall: None,
        }
    }

    /// Fails the body, and sets `stalled`, when a read waits more than
    /// `timeout` for the client's next bytes (`--body-read-timeout`). Time
    /// the function spends not reading does not count.
    pub fn stall_after(mut self, timeout: Duration, stalled: Arc<AtomicBool>) -> Self {
        self.stall = Some(StallWatch {
            timeout,
            timer: Box::pin(tokio::time::sleep(timeout)),
            waiting: false,
            stalled,
        });
        self
    }
}

impl<B> Body for LimitedRequestBody<B>
where
    B: Body<Data = Bytes, Error = HttpError> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(watch) = &mut this.stall {
            if polled.is_pending() {
                if !watch.waiting {
                    watch.waiting = true;
                    let deadline = tokio::time::Instant::now() + watch.timeout;
                    watch.timer.as_mut().reset(deadline);
                }
                if watch.timer.as_mut().poll(cx).is_ready() {
                    watch.stalled.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)));
                }
            } else {
                watch.waiting = false;
            }
        }
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.limit {
                        this.exceeded.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(HttpError::HttpRequestBodySize(Some(
                            this.seen,
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why a response body stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// The guest wrote more than the response limit.
    TooLarge,
    /// The request deadline passed while the body was streaming.
    Deadline,
    /// The guest's body stream failed.
    GuestError,
    /// The client closed the connection before the end.
    ClientGone,
}

/// Called once when a response body ends: bytes sent, and why it stopped early if it did.
type OnDone = Box<dyn FnOnce(u64, Option<Cutoff>) + Send>;

/// A response body that stops at the size limit or the deadline and calls
/// `on_done` exactly once, with the bytes sent and any cutoff, when it ends or
/// is dropped.
pub struct GuardedResponseBody {
    inner: WasiBody,
    limit: u64,
    sent: u64,
    /// The response's `Content-Length`: once that many bytes are sent the
    /// server stops polling and drops the body, which is a complete response.
    declared: Option<u64>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    on_done: Option<OnDone>,
}

impl GuardedResponseBody {
    /// Wraps `inner`.
    pub fn new(
        inner: WasiBody,
        limit: u64,
        deadline: tokio::time::Instant,
        declared: Option<u64>,
        on_done: impl FnOnce(u64, Option<Cutoff>) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            limit,
            sent: 0,
            declared,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            on_done: Some(Box::new(on_done)),
        }
    }

    fn finish(&mut self, cutoff: Option<Cutoff>) {
        if let Some(done) = self.on_done.take() {
            done(self.sent, cutoff);
        }
    }
}

impl Body for GuardedResponseBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        if this.on_done.is_none() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent += data.len() as u64;
                    if this.sent > this.limit {
                        this.finish(Some(Cutoff::TooLarge));
                        return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(Some(
                            this.sent,
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(Some(Cutoff::GuestError));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finish(None);
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.finish(Some(Cutoff::Deadline));
                    return Poll::Ready(Some(Err(HttpError::HttpResponseTimeout)));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.on_done.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for GuardedResponseBody {
    fn drop(&mut self) {
        // Client went away before the end: the request still gets its log line.
        let complete = self.inner.is_end_stream() || self.declared == Some(self.sent);
        self.finish(if complete {
            None
        } else {
            Some(Cutoff::ClientGone)
        });
    }
}
