//! Component glue: the HTTP face over `wasi:http`, streaming request bodies
//! into `cloudfn:blob/store` writers and readers into response bodies.

use crate::http_face::{self, Action, Range, Reply};
use cloudevent::blob_created::{self, BlobCreated};
use component_http::hex;
use component_http::wasi::{RequestBody, header, method_name, request_target, send, start};
use drive_users::auth;
use drive_users::namespace::{Namespace, user_key};
use drive_users::spin_db;
use drive_users::sql::Sql;
use drive_users::users::{self, Settings, User};
use md5::{Digest, Md5};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/blob"],
    world: "cloudfn:blob/blob-upload",
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

struct BlobUpload;

impl exports::wasi::http::incoming_handler::Guest for BlobUpload {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (path, query) = request_target(&request);
        let method = request.method();
        let method = method_name(&method);
        let headers = |name: &str| header(&request, name);
        if let Some(secret) = path.strip_prefix("/s/") {
            return share(out, method, secret, &query, &headers);
        }
        let action = match http_face::action(method, &path) {
            Ok(action) => action,
            Err(reply) => return send(out, reply),
        };
        let owner = match Owner::of(method, &headers) {
            Ok(owner) => owner,
            Err(reply) => return send(out, reply),
        };
        let stored = |key: &str| {
            owner
                .namespace
                .store_key(key)
                .ok_or_else(|| store_error(&StoreError::NotFound))
        };
        match action {
            Action::List => send(out, list(&owner.namespace, &query)),
            Action::Put(key) => match stored(&key) {
                Ok(stored) => put(&request, out, &owner, &stored, &headers),
                Err(reply) => send(out, reply),
            },
            Action::Get(key) | Action::Head(key) => match stored(&key) {
                Ok(stored) => get(out, &stored, &headers, method == "GET"),
                Err(reply) => send(out, reply),
            },
            Action::Delete(key) => send(
                out,
                match stored(&key) {
                    Ok(stored) => delete(&owner, &stored),
                    Err(reply) => reply,
                },
            ),
        }
    }
}

/// Who a request works for: a logged-in user (their namespace, their quota
/// in the credentials database) or, when the manifest allows it, anyone.
struct Owner {
    namespace: Namespace,
    quota: Option<Quota>,
}

/// A user's quota, kept in the credentials database.
struct Quota {
    db: Box<dyn Sql>,
    settings: Settings,
    user: User,
}

impl Owner {
    /// The request's owner from its credentials; `401` without them (unless
    /// the variable `anonymous` is `true`), `403` for a cross-site write.
    fn of(method: &str, headers: auth::Headers<'_>) -> Result<Self, Reply> {
        let sent = auth::bearer(headers).is_some() || auth::session_cookie(headers).is_some();
        let log_in = || {
            Reply::error(
                401,
                "the drive is per user: log in (POST /account/login) or send Authorization: Bearer TOKEN",
            )
            .with_header("www-authenticate", "Bearer realm=\"cloudfn drive\"")
        };
        if !sent {
            let anonymous = wasi::config0_2_0_rc_1::store::get("anonymous")
                .ok()
                .flatten()
                .is_some_and(|v| v.trim() == "true");
            return if anonymous {
                Ok(Owner {
                    namespace: Namespace::Anonymous,
                    quota: None,
                })
            } else {
                Err(log_in())
            };
        }
        let settings = spin_db::settings().map_err(|e| Reply::error(500, e))?;
        let db = spin_db::open().map_err(|e| Reply::error(500, e))?;
        let authed = auth::authenticate(db.as_ref(), &settings, headers)
            .map_err(|e| e.reply())?
            .ok_or_else(log_in)?;
        auth::check_cross_site(&authed, method, headers).map_err(|why| Reply::error(403, why))?;
        Ok(Owner {
            namespace: Namespace::user(&authed.user.id),
            quota: Some(Quota {
                db,
                settings,
                user: authed.user,
            }),
        })
    }
}

/// Bytes of a user's quota held for an upload in flight: given back when
/// dropped, unless the upload commits.
struct Reservation<'a> {
    quota: Option<&'a Quota>,
    bytes: i64,
}

impl Reservation<'_> {
    /// Makes sure `total` bytes are held, reserving what is missing.
    fn hold(&mut self, total: u64) -> Result<(), Reply> {
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        let Some(q) = self.quota else {
            return Ok(());
        };
        if total > self.bytes {
            users::reserve(q.db.as_ref(), &q.settings, &q.user, total - self.bytes)
                .map_err(|e| e.reply())?;
            self.bytes = total;
        }
        Ok(())
    }

    /// Records the stored file: its `size` stays used, the file it replaced
    /// is given back.
    fn commit(mut self, key: &str, size: u64) -> Result<(), Reply> {
        let Some(q) = self.quota else {
            return Ok(());
        };
        self.hold(size)?;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let extra = self.bytes - size;
        self.bytes = 0;
        users::commit_file(q.db.as_ref(), &q.user.id, key, size)
            .and_then(|()| users::release(q.db.as_ref(), &q.user.id, extra))
            .map_err(|e| e.reply())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(q) = self.quota
            && self.bytes > 0
        {
            let _ = users::release(q.db.as_ref(), &q.user.id, self.bytes);
        }
    }
}

fn delete(owner: &Owner, stored: &str) -> Reply {
    let deleted = store::delete(stored);
    let forgotten = match &owner.quota {
        Some(q) => match users::remove_file(q.db.as_ref(), &q.user.id, stored) {
            Ok(had) => had,
            Err(e) => return e.reply(),
        },
        None => false,
    };
    match deleted {
        Ok(()) => Reply::new(204, "text/plain", Vec::new()),
        Err(StoreError::NotFound) if forgotten => Reply::new(204, "text/plain", Vec::new()),
        Err(e) => store_error(&e),
    }
}

/// `GET`/`HEAD /s/{secret}`: the shared file, to anyone holding the link
/// (and its password, as `X-Share-Password` or `?password=`); an unknown,
/// revoked, expired or used-up link is `404`. Each `GET` uses a download.
fn share(
    out: ResponseOutparam,
    method: &str,
    secret: &str,
    query: &str,
    headers: &dyn Fn(&str) -> Option<String>,
) {
    if method != "GET" && method != "HEAD" {
        return send(
            out,
            Reply::error(405, "a share link is read with GET or HEAD")
                .with_header("allow", "GET, HEAD"),
        );
    }
    let password = headers("x-share-password").or_else(|| {
        component_http::query::pairs(query)
            .flatten()
            .find_map(|(k, v)| (k == "password").then_some(v))
    });
    let db = match spin_db::open() {
        Ok(db) => db,
        Err(e) => return send(out, Reply::error(500, e)),
    };
    match users::open_share(db.as_ref(), secret, password.as_deref(), method == "GET") {
        Ok((user_id, key)) => {
            get(out, &user_key(&user_id, &key), headers, method == "GET");
        }
        Err(users::ShareRefusal::Gone) => send(
            out,
            Reply::error(
                404,
                "no such share link (it may have been revoked, expired or used up)",
            ),
        ),
        Err(users::ShareRefusal::Password) => send(
            out,
            Reply::error(
                401,
                "this share link needs its password: send it as X-Share-Password or ?password=",
            )
            .with_header("www-authenticate", "Share-Password"),
        ),
    }
}

export!(BlobUpload);

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

fn metadata_json(m: &Metadata, key: &str) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "size": m.size,
        "content_type": m.content_type,
        "sha256": m.sha256,
        "created": m.created,
    })
}

fn max_size() -> Result<u64, Reply> {
    match wasi::config0_2_0_rc_1::store::get("max_size") {
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

fn list(namespace: &Namespace, query: &str) -> Reply {
    let q = match http_face::list_query(query) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    let Some(prefix) = namespace.store_key(&q.prefix) else {
        return Reply::json(
            200,
            &serde_json::json!({ "items": [], "next_start_after": null }),
        );
    };
    let start_after = q
        .start_after
        .as_deref()
        .and_then(|s| namespace.store_key(s));
    match store::list(&prefix, start_after.as_deref(), q.limit) {
        Ok(page) => Reply::json(
            200,
            &serde_json::json!({
                "items": page
                    .items
                    .iter()
                    .filter_map(|m| Some(metadata_json(m, namespace.visible_key(&m.key)?)))
                    .collect::<Vec<_>>(),
                "next_start_after": page
                    .next_start_after
                    .as_deref()
                    .and_then(|k| namespace.visible_key(k)),
            }),
        ),
        Err(e) => store_error(&e),
    }
}

fn put(
    request: &IncomingRequest,
    out: ResponseOutparam,
    owner: &Owner,
    key: &str,
    header: &dyn Fn(&str) -> Option<String>,
) {
    let mut reservation = Reservation {
        quota: owner.quota.as_ref(),
        bytes: 0,
    };
    let limit = match max_size() {
        Ok(limit) => limit,
        Err(reply) => return send(out, reply),
    };
    if let Some(length) = header("content-length").and_then(|v| v.trim().parse::<u64>().ok()) {
        if length > limit {
            return send(out, store_error(&StoreError::TooLarge(limit)));
        }
        // The whole upload is held against the quota before a byte is stored.
        if let Err(reply) = reservation.hold(length) {
            return send(out, reply);
        }
    }
    let expected_sha256 = match http_face::expected_sha256(
        header("x-checksum-sha256").as_deref(),
        header("x-amz-checksum-sha256").as_deref(),
    ) {
        Ok(v) => v,
        Err(reply) => return send(out, reply),
    };
    let expected_md5 = match http_face::content_md5(header("content-md5").as_deref()) {
        Ok(v) => v,
        Err(reply) => return send(out, reply),
    };
    let create_only = header("if-none-match").is_some_and(|v| v.trim() == "*");
    let options = WriteOptions {
        content_type: header("content-type").unwrap_or_else(|| "application/octet-stream".into()),
        create_only,
        max_size: limit,
    };
    let writer = match store::open_writer(key, &options) {
        Ok(writer) => writer,
        Err(e) => return send(out, store_error(&e)),
    };
    let body = match RequestBody::open(request) {
        Ok(body) => body,
        Err(reply) => return send(out, reply),
    };
    let mut md5 = expected_md5.map(|_| Md5::new());
    let mut received: u64 = 0;
    loop {
        match body.chunk(CHUNK) {
            Ok(Some(chunk)) => {
                received += chunk.len() as u64;
                // A body of unknown length is held as it arrives.
                if let Err(reply) = reservation.hold(received) {
                    store::Writer::abort(writer);
                    return send(out, reply);
                }
                if let Some(md5) = md5.as_mut() {
                    md5.update(&chunk);
                }
                if let Err(e) = writer.write(&chunk) {
                    // Dropping the writer discards the upload.
                    return send(out, store_error(&e));
                }
            }
            Ok(None) => break,
            // The client went away or the host cut the body (and answers
            // itself): dropping the writer stores nothing.
            Err(_) => return,
        }
    }
    drop(body);
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
                        hex(&expected),
                        hex(&actual)
                    ),
                ),
            );
        }
    }
    let visible = owner.namespace.visible_key(key).unwrap_or(key).to_owned();
    match store::Writer::finish(writer, expected_sha256.as_deref()) {
        Ok(meta) => send(
            out,
            match reservation
                .commit(&meta.key, meta.size)
                .and_then(|()| announce(&meta))
            {
                Ok(()) => Reply::json(201, &metadata_json(&meta, &visible))
                    .with_header("etag", http_face::etag(&meta.sha256))
                    .with_header("x-checksum-sha256", meta.sha256.clone()),
                Err(reply) => reply,
            },
        ),
        Err(e) => send(out, store_error(&e)),
    }
}

/// Publishes the `blob-created` event of a completed upload to the Redis
/// address in the variable `events_address` (none, or empty: no event).
/// A failure is a `503`: the blob is stored, and repeating the PUT stores
/// the same bytes again and publishes.
fn announce(meta: &Metadata) -> Result<(), Reply> {
    let address = match wasi::config0_2_0_rc_1::store::get("events_address") {
        Ok(Some(address)) if !address.trim().is_empty() => address,
        Ok(_) => return Ok(()),
        Err(e) => {
            return Err(Reply::error(
                500,
                format!("reading variable events_address: {e:?}"),
            ));
        }
    };
    let event = BlobCreated {
        key: meta.key.clone(),
        size: meta.size,
        sha256: meta.sha256.clone(),
        content_type: meta.content_type.clone(),
        created: meta.created,
    }
    .to_event();
    fermyon::spin::redis::Connection::open(&address)
        .and_then(|connection| connection.publish(blob_created::CHANNEL, &event.to_json()))
        .map_err(|e| {
            Reply::error(
                503,
                format!(
                    "the blob was stored (sha-256 {}), but its {} event could not be published to {address}: {e:?}; repeat the PUT",
                    meta.sha256,
                    blob_created::CHANNEL
                ),
            )
        })
}

fn get(out: ResponseOutparam, key: &str, header: &dyn Fn(&str) -> Option<String>, with_body: bool) {
    let reader = match store::open_reader(key) {
        Ok(reader) => reader,
        Err(e) => return send(out, store_error(&e)),
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
                    )
                    .with_header("content-range", range),
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
    let Some(mut response) = start(out, status, content_type, headers) else {
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
            if response.write(&chunk).is_err() {
                return;
            }
            offset += chunk.len() as u64;
        }
    }
    response.finish();
}
