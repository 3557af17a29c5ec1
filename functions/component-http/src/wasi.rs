//! `wasi:http` 0.2 plumbing (compiled for wasm only): the request's method,
//! target and body, and the response, complete or streamed.

use crate::{Endpoint, Reply};
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

/// Generates a function's bindings with `wit_bindgen::generate!`, taking its
/// options, and maps the `wasi:http` 0.2 types that the world's handler
/// export (`cloudfn:platform/http-function`) uses onto the `wasip2` crate's,
/// so the handler's request and response work with this module. The calling
/// crate depends on `wit-bindgen` and `wasip2`.
///
/// ```ignore
/// component_http::generate!({
///     path: ["../../wit/platform", "../../wit/sentiment"],
///     world: "cloudfn:sentiment/sentiment",
/// });
/// ```
#[macro_export]
macro_rules! generate {
    ({ $($option:tt)* }) => {
        wit_bindgen::generate!({
            with: {
                "wasi:http/types@0.2.12": wasip2::http::types,
                "wasi:io/error@0.2.12": wasip2::io::error,
                "wasi:io/poll@0.2.12": wasip2::io::poll,
                "wasi:io/streams@0.2.12": wasip2::io::streams,
                "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
            },
            $($option)*
        });
    };
}

/// The method's name: `GET`, …, or an extension method as sent.
pub fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(name) => name,
    }
}

/// The request's path and query (see [`crate::split_target`]).
pub fn request_target(request: &IncomingRequest) -> (String, String) {
    let target = request.path_with_query().unwrap_or_default();
    let (path, query) = crate::split_target(&target);
    (path.to_owned(), query.to_owned())
}

/// Routes `request` among `endpoints` (see [`crate::route()`]): the name of
/// the endpoint and the query string, or the reply refusing the request.
pub fn route_request<T: Copy>(
    request: &IncomingRequest,
    endpoints: &[Endpoint<T>],
    usage: &str,
) -> Result<(T, String), Reply> {
    let (path, query) = request_target(request);
    let method = request.method();
    let (name, _) = crate::route(endpoints, method_name(&method), &path, usage)?;
    Ok((name, query))
}

/// The first value of a request header, as text (lossy).
pub fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Why a request body stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading the body failed: {0}")]
pub struct BodyError(String);

/// A request body being read. The client going away, or the host cutting
/// the body at its size limit, is a [`BodyError`].
pub struct RequestBody {
    // Fields drop in order: the stream before the body it belongs to.
    stream: InputStream,
    _body: IncomingBody,
}

impl RequestBody {
    /// Opens the body of `request`, or the `400` reply saying it is unavailable.
    pub fn open(request: &IncomingRequest) -> Result<Self, Reply> {
        let unavailable = || Reply::error(400, "request body unavailable");
        let body = request.consume().map_err(|()| unavailable())?;
        let stream = body.stream().map_err(|()| unavailable())?;
        Ok(Self {
            stream,
            _body: body,
        })
    }

    /// The next chunk of at most `max` bytes, waiting for it; `None` at the end.
    pub fn chunk(&self, max: u64) -> Result<Option<Vec<u8>>, BodyError> {
        match self.stream.blocking_read(max) {
            Ok(chunk) => Ok(Some(chunk)),
            Err(StreamError::Closed) => Ok(None),
            Err(StreamError::LastOperationFailed(e)) => Err(BodyError(e.to_debug_string())),
        }
    }

    /// The whole body, or the reply refusing it: `413` past `limit` bytes
    /// (naming the limit, then `too_large` as advice), `400` when it fails.
    pub fn read_all(&self, limit: usize, too_large: &str) -> Result<Vec<u8>, Reply> {
        let mut bytes = Vec::new();
        // One byte past the limit tells "too large" from "exactly the limit".
        while bytes.len() <= limit {
            let want = (limit.saturating_add(1) - bytes.len()).min(64 << 10) as u64;
            match self.chunk(want) {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => return Ok(bytes),
                Err(e) => return Err(Reply::error(400, e.to_string())),
            }
        }
        Err(Reply::error(
            413,
            format!("body over the {} limit; {too_large}", crate::size(limit)),
        ))
    }
}

/// A response body being streamed. Dropping it without [`ResponseBody::finish`]
/// ends the response with an error, so the client sees it cut off rather
/// than a short body that looks complete.
pub struct ResponseBody {
    // Fields drop in order: the stream before the body it belongs to.
    stream: OutputStream,
    body: OutgoingBody,
}

impl ResponseBody {
    /// Writes `bytes` as fast as the stream takes them: as much as
    /// `check-write` permits per call, waiting when the stream is full.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        while !bytes.is_empty() {
            let permitted = self.stream.check_write()?;
            if permitted == 0 {
                self.stream.subscribe().block();
                continue;
            }
            let n = bytes
                .len()
                .min(usize::try_from(permitted).unwrap_or(usize::MAX));
            self.stream.write(&bytes[..n])?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Ends the body: the response is complete.
    pub fn finish(self) {
        let Self { stream, body } = self;
        drop(stream);
        // It fails only when the bytes written disagree with a
        // `content-length` header; the host then aborts the response and
        // logs it, so there is nothing left to tell the client here.
        OutgoingBody::finish(body, None).ok();
    }
}

/// The response head, or what is wrong with it.
fn head(
    status: u16,
    content_type: &str,
    headers: &[(&str, &str)],
) -> Result<OutgoingResponse, String> {
    let fields = Fields::new();
    for (name, value) in [("content-type", content_type)].iter().chain(headers) {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("header {name}: {value:?} is refused ({e:?})"))?;
    }
    let response = OutgoingResponse::new(fields);
    response
        .set_status_code(status)
        .map_err(|()| format!("{status} is not an HTTP status"))?;
    Ok(response)
}

/// Sends `response` and opens its body.
fn open(out: ResponseOutparam, response: OutgoingResponse) -> Option<ResponseBody> {
    // Both fail only when called twice on the same response.
    let body = response.body().ok()?;
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().ok()?;
    Some(ResponseBody { stream, body })
}

/// Sends the status and headers and returns the body to stream into. A
/// status or header the host refuses (a value that is not valid HTTP) is
/// answered with a `500` naming it instead, and `None` returned.
pub fn start(
    out: ResponseOutparam,
    status: u16,
    content_type: &str,
    headers: &[(&str, &str)],
) -> Option<ResponseBody> {
    match head(status, content_type, headers) {
        Ok(response) => open(out, response),
        Err(message) => {
            let reply = Reply::error(
                500,
                format!("the function built an invalid response: {message}"),
            );
            let mut body = open(out, head(reply.status, reply.content_type, &[]).ok()?)?;
            body.write(&reply.body).ok()?;
            body.finish();
            None
        }
    }
}

/// Sends a complete reply.
pub fn send(out: ResponseOutparam, reply: Reply) {
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let Some(mut body) = start(out, reply.status, reply.content_type, &headers) else {
        return;
    };
    if body.write(&reply.body).is_ok() {
        body.finish();
    }
}
