//! What the functions' HTTP faces share: a [`Reply`] type their pure protocol
//! code returns (testable natively), and on wasm the `wasi:http` 0.2 plumbing
//! to read a request body and send a reply or stream a response.

/// A complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A 200 reply.
    pub fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            body,
        }
    }

    /// A plain-text error reply (a newline is appended).
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        let mut body = message.into().into_bytes();
        body.push(b'\n');
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

/// A size for messages: `64 MiB` when a whole number of MiB, else `2048 bytes`.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// `wasi:http` 0.2 plumbing (compiled for wasm only).
#[cfg(target_family = "wasm")]
pub mod wasi {
    use super::Reply;
    use wasip2::http::types::{
        Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
        ResponseOutparam,
    };
    use wasip2::io::streams::{InputStream, OutputStream, StreamError};

    /// The request's path, without its query.
    pub fn request_path(request: &IncomingRequest) -> String {
        let mut path = request.path_with_query().unwrap_or_default();
        if let Some(query) = path.find('?') {
            path.truncate(query);
        }
        path
    }

    /// Reads the whole body of a POST of at most `limit` bytes, or answers
    /// `405` (with `Allow: POST`; `usage` says what to send), `413` (with
    /// `too_large` as advice) or `400` itself and returns `None`.
    pub fn read_post(
        request: &IncomingRequest,
        out: ResponseOutparam,
        limit: usize,
        usage: &str,
        too_large: &str,
    ) -> Option<(Vec<u8>, ResponseOutparam)> {
        if !matches!(request.method(), Method::Post) {
            send(out, Reply::error(405, usage), &[("allow", "POST")]);
            return None;
        }
        let unavailable = || Reply::error(400, "request body unavailable");
        let Ok(body) = request.consume() else {
            send(out, unavailable(), &[]);
            return None;
        };
        let Ok(input) = body.stream() else {
            send(out, unavailable(), &[]);
            return None;
        };
        let read = read_up_to(&input, limit + 1);
        drop(input);
        let _ = IncomingBody::finish(body);
        match read {
            Ok(bytes) if bytes.len() > limit => {
                let message = format!("body over the {} limit; {too_large}", super::size(limit));
                send(out, Reply::error(413, message), &[]);
                None
            }
            Ok(bytes) => Some((bytes, out)),
            Err(message) => {
                send(out, Reply::error(400, message), &[]);
                None
            }
        }
    }

    /// Reads at most `limit` bytes of a body (read one more than your maximum to detect "too large").
    pub fn read_up_to(input: &InputStream, limit: usize) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        while bytes.len() < limit {
            match input.blocking_read((limit - bytes.len()).min(64 << 10) as u64) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(format!("reading the body failed: {}", e.to_debug_string()));
                }
            }
        }
        Ok(bytes)
    }

    /// Sends the status and headers; returns the body to stream into.
    pub fn start(
        out: ResponseOutparam,
        status: u16,
        content_type: &str,
        extra: &[(&str, &str)],
    ) -> Option<(OutgoingBody, OutputStream)> {
        let headers = Fields::new();
        let _ = headers.set("content-type", &[content_type.as_bytes().to_vec()]);
        for (k, v) in extra {
            let _ = headers.set(k, &[v.as_bytes().to_vec()]);
        }
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let body = response.body().ok()?;
        ResponseOutparam::set(out, Ok(response));
        let output = body.write().ok()?;
        Some((body, output))
    }

    /// Ends a streamed body.
    pub fn finish(body: OutgoingBody, output: OutputStream) {
        drop(output);
        let _ = OutgoingBody::finish(body, None);
    }

    /// Sends a complete reply.
    pub fn send(out: ResponseOutparam, reply: Reply, extra: &[(&str, &str)]) {
        let Some((body, output)) = start(out, reply.status, reply.content_type, extra) else {
            return;
        };
        if write_all(&output, &reply.body).is_ok() {
            finish(body, output);
        }
    }

    /// Writes `bytes` as fast as the stream takes them: as much as
    /// `check-write` permits per call (not 4 KiB at a time), waiting on the
    /// stream's pollable when it is full. Does not flush.
    pub fn write_fast(output: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
        while !bytes.is_empty() {
            let permitted = output.check_write()?;
            if permitted == 0 {
                output.subscribe().block();
                continue;
            }
            let n = bytes
                .len()
                .min(usize::try_from(permitted).unwrap_or(usize::MAX));
            output.write(&bytes[..n])?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Writes `bytes` (`blocking-write-and-flush` takes at most 4096 bytes a call).
    pub fn write_all(output: &OutputStream, bytes: &[u8]) -> Result<(), StreamError> {
        for chunk in bytes.chunks(4096) {
            output.blocking_write_and_flush(chunk)?;
        }
        Ok(())
    }
}
