//! Component glue: the HTTP face over `wasi:http`, streaming request bodies
//! into `cloudfn:blob/store` writers and readers into response bodies.

use crate::http_face::{self, Range, Reply, Target};
use component_http::wasi::{finish, request_path, send, start, write_fast};
use md5::{Digest, Md5};
use wasip2::http::types::{IncomingBody, IncomingRequest, Method, ResponseOutparam};
use wasip2::io::streams::StreamError;

wit_bindgen::generate!({
    path: "../../wit/blob",
    world: "blob-upload",
    generate_all,
});

use cloudfn::blob::store::{self, Metadata, WriteOptions};
use cloudfn::blob::types::Error as StoreError;

/// Bytes per chunk read from the request and written to the store.
const CHUNK: u64 = 1 << 20;
/// Bytes per read from the store when answering a GET.
const READ: u64 = 4 << 20;
/// Largest upload unless the variable `max_size` says otherwise: 1 GiB.
const DEFAULT_MAX_SIZE: u64 = 1 << 30;

struct Http;

wasip2::http::proxy::export!(Http);

impl wasip2::exports::http::incoming_handler::Guest for Http {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request_path(&request);
        let target = match http_face::target(&path) {
            Ok(target) => target,
            Err(reply) => return send(out, reply, &[]),
        };
        let headers = request.headers();
        let header = |name: &str| -> Option<String> {
            headers
                .get(name)
                .first()
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        match (request.method(), target) {
            (Method::Get, Target::Listing) => {
                let query = request
                    .path_with_query()
                    .and_then(|p| p.split_once('?').map(|(_, q)| q.to_owned()))
                    .unwrap_or_default();
                send(out, list(&query), &[]);
            }
            (Method::Put, Target::Blob(key)) => put(&request, out, &key, &header),
            (Method::Get, Target::Blob(key)) => get(out, &key, &header, true),
            (Method::Head, Target::Blob(key)) => get(out, &key, &header, false),
            (Method::Delete, Target::Blob(key)) => match store::delete(&key) {
                Ok(()) => send(
                    out,
                    Reply {
                        status: 204,
                        content_type: "text/plain",
                        body: Vec::new(),
                    },
                    &[],
                ),
                Err(e) => send(out, store_error(&e), &[]),
            },
            (_, Target::Listing) => send(
                out,
                Reply::error(405, "use GET /blobs?prefix=&start-after=&limit= to list"),
                &[("allow", "GET")],
            ),
            (_, Target::Blob(_)) => send(
                out,
                Reply::error(405, "use PUT, GET, HEAD or DELETE on /blobs/KEY"),
                &[("allow", "PUT, GET, HEAD, DELETE")],
            ),
        }
    }
}

/// The store's error as a reply.
fn store_error(error: &StoreError) -> Reply {
    match error {
        StoreError::NotFound => Reply::error(404, "no blob under this key"),
        StoreError::InvalidKey(m) => Reply::error(400, format!("invalid key: {m}")),
        StoreError::TooLarge(limit) => Reply::error(
            413,
            format!(
                "the blob exceeds the limit of {limit} bytes (the variable blob_max_size); nothing was stored"
            ),
        ),
        StoreError::ChecksumMismatch(m) => Reply::error(
            400,
            format!(
                "checksum mismatch: expected sha-256 {}, received {}; nothing was stored",
                m.expected, m.actual
            ),
        ),
        StoreError::PreconditionFailed => {
            Reply::error(412, "the key already holds a blob (If-None-Match: *)")
        }
        StoreError::Other(m) => Reply::error(500, format!("blob store: {m}")),
    }
}

fn metadata_json(m: &Metadata) -> serde_json::Value {
    serde_json::json!({
        "key": m.key,
        "size": m.size,
        "content_type": m.content_type,
        "sha256": m.sha256,
        "created": m.created,
    })
}

fn json_reply(status: u16, value: &serde_json::Value) -> Reply {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    Reply {
        status,
        content_type: "application/json",
        body,
    }
}

fn max_size() -> Result<u64, Reply> {
    match wasi::config::store::get("max_size") {
        Ok(None) => Ok(DEFAULT_MAX_SIZE),
        Ok(Some(v)) => v.trim().parse().map_err(|_| {
            Reply::error(
                500,
                format!("variable max_size = `{v}` is not a number of bytes"),
            )
        }),
        Err(e) => Err(Reply::error(
            500,
            format!("reading variable max_size: {e:?}"),
        )),
    }
}

fn list(query: &str) -> Reply {
    let q = match http_face::list_query(query) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    match store::list(&q.prefix, q.start_after.as_deref(), q.limit) {
        Ok(page) => json_reply(
            200,
            &serde_json::json!({
                "items": page.items.iter().map(metadata_json).collect::<Vec<_>>(),
                "next_start_after": page.next_start_after,
            }),
        ),
        Err(e) => store_error(&e),
    }
}

fn put(
    request: &IncomingRequest,
    out: ResponseOutparam,
    key: &str,
    header: &dyn Fn(&str) -> Option<String>,
) {
    let limit = match max_size() {
        Ok(limit) => limit,
        Err(reply) => return send(out, reply, &[]),
    };
    if let Some(length) = header("content-length").and_then(|v| v.trim().parse::<u64>().ok())
        && length > limit
    {
        return send(out, store_error(&StoreError::TooLarge(limit)), &[]);
    }
    let expected_sha256 = match http_face::expected_sha256(
        header("x-checksum-sha256").as_deref(),
        header("x-amz-checksum-sha256").as_deref(),
    ) {
        Ok(v) => v,
        Err(reply) => return send(out, reply, &[]),
    };
    let expected_md5 = match http_face::content_md5(header("content-md5").as_deref()) {
        Ok(v) => v,
        Err(reply) => return send(out, reply, &[]),
    };
    let create_only = header("if-none-match").is_some_and(|v| v.trim() == "*");
    let options = WriteOptions {
        content_type: header("content-type").unwrap_or_else(|| "application/octet-stream".into()),
        create_only,
        max_size: limit,
    };
    let writer = match store::open_writer(key, &options) {
        Ok(writer) => writer,
        Err(e) => return send(out, store_error(&e), &[]),
    };
    let unavailable = || Reply::error(400, "request body unavailable");
    let Ok(body) = request.consume() else {
        return send(out, unavailable(), &[]);
    };
    let Ok(input) = body.stream() else {
        return send(out, unavailable(), &[]);
    };
    let mut md5 = expected_md5.map(|_| Md5::new());
    loop {
        match input.blocking_read(CHUNK) {
            Ok(chunk) => {
                if let Some(md5) = md5.as_mut() {
                    md5.update(&chunk);
                }
                if let Err(e) = writer.write(&chunk) {
                    // Dropping the writer discards the upload.
                    return send(out, store_error(&e), &[]);
                }
            }
            Err(StreamError::Closed) => break,
            // The client went away or the host cut the body: nothing is stored.
            Err(StreamError::LastOperationFailed(_)) => return,
        }
    }
    drop(input);
    let _ = IncomingBody::finish(body);
    if let (Some(expected), Some(md5)) = (expected_md5, md5) {
        let actual: [u8; 16] = md5.finalize().into();
        if actual != expected {
            store::Writer::abort(writer);
            return send(
                out,
                Reply::error(
                    400,
                    format!(
                        "Content-MD5 mismatch: expected {}, received {}; nothing was stored",
                        http_face::hex(&expected),
                        http_face::hex(&actual)
                    ),
                ),
                &[],
            );
        }
    }
    match store::Writer::finish(writer, expected_sha256.as_deref()) {
        Ok(meta) => {
            let etag = http_face::etag(&meta.sha256);
            send(
                out,
                json_reply(201, &metadata_json(&meta)),
                &[("etag", &etag), ("x-checksum-sha256", &meta.sha256)],
            );
        }
        Err(e) => send(out, store_error(&e), &[]),
    }
}

fn get(out: ResponseOutparam, key: &str, header: &dyn Fn(&str) -> Option<String>, with_body: bool) {
    let reader = match store::open_reader(key) {
        Ok(reader) => reader,
        Err(e) => return send(out, store_error(&e), &[]),
    };
    let meta = reader.metadata();
    let etag = http_face::etag(&meta.sha256);
    if header("if-none-match").is_some_and(|v| http_face::none_match_hits(&v, &meta.sha256)) {
        let headers = [("etag", etag.as_str())];
        return respond(out, 304, &meta.content_type, &headers, None);
    }
    let (status, start_at, len, content_range) =
        match http_face::range(header("range").as_deref(), meta.size) {
            Range::Full => (200, 0, meta.size, None),
            Range::Partial { start, end } => (
                206,
                start,
                end - start + 1,
                Some(format!("bytes {start}-{end}/{}", meta.size)),
            ),
            Range::Unsatisfiable => {
                let range = format!("bytes */{}", meta.size);
                return send(
                    out,
                    Reply::error(
                        416,
                        format!("the range is outside the blob's {} bytes", meta.size),
                    ),
                    &[("content-range", &range)],
                );
            }
        };
    let length = len.to_string();
    let mut headers = vec![
        ("content-length", length.as_str()),
        ("etag", etag.as_str()),
        ("accept-ranges", "bytes"),
        ("x-checksum-sha256", meta.sha256.as_str()),
    ];
    if let Some(range) = content_range.as_deref() {
        headers.push(("content-range", range));
    }
    let body = with_body.then_some((&reader, start_at, len));
    respond(out, status, &meta.content_type, &headers, body);
}

/// Sends status and headers, then streams `len` bytes of the reader from `start` when given.
fn respond(
    out: ResponseOutparam,
    status: u16,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Option<(&store::Reader, u64, u64)>,
) {
    let Some((response_body, output)) = start(out, status, content_type, headers) else {
        return;
    };
    if let Some((reader, start_at, len)) = body {
        let mut offset = start_at;
        let end = start_at + len;
        while offset < end {
            let chunk = match reader.read(offset, READ.min(end - offset)) {
                Ok(chunk) if !chunk.is_empty() => chunk,
                // The blob cannot shrink under a reader; stop rather than loop.
                _ => return,
            };
            if write_fast(&output, &chunk).is_err() {
                return;
            }
            offset += chunk.len() as u64;
        }
    }
    finish(response_body, output);
}
