//! The HTTP rules of the Cloud Drive face, as pure functions: keys from
//! paths, `Range`, conditional requests, checksum headers, listing queries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use component_http::{Endpoint, hex, percent, query, route};

pub use component_http::Reply;

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `/blobs` or `/blobs/`: the listing.
    Listing,
    /// `/blobs/{key...}`.
    Blob,
}

/// The function's endpoints.
const ENDPOINTS: &[Endpoint<Target>] = &[
    Endpoint {
        path: "/blobs",
        allow: "GET",
        hint: " /blobs?prefix=&start-after=&limit= to list",
        name: Target::Listing,
    },
    Endpoint {
        path: "/blobs/...",
        allow: "PUT, GET, HEAD, DELETE",
        hint: " on /blobs/KEY",
        name: Target::Blob,
    },
];

/// The routes, for `404` messages.
const USAGE: &str = "/blobs/KEY or /blobs?prefix=";

/// What a request asks for, its key decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `GET /blobs?…`: a listing page.
    List,
    /// `PUT /blobs/KEY`: an upload.
    Put(String),
    /// `GET /blobs/KEY`: a download.
    Get(String),
    /// `HEAD /blobs/KEY`: a download's headers.
    Head(String),
    /// `DELETE /blobs/KEY`.
    Delete(String),
}

/// Resolves a method and request path (without query) to an action, or
/// the reply refusing it: `404`, `405`, or `400` for a key that is not
/// percent-encoded UTF-8 or breaks the key rules.
pub fn action(method: &str, path: &str) -> Result<Action, Reply> {
    let (target, encoded) = route(ENDPOINTS, method, path, USAGE)?;
    if target == Target::Listing {
        return Ok(Action::List);
    }
    let key =
        percent::decode(encoded).map_err(|e| Reply::error(400, format!("invalid key: {e}")))?;
    blob_key::validate(&key).map_err(|e| Reply::error(400, format!("invalid key: {e}")))?;
    Ok(match method {
        "PUT" => Action::Put(key),
        "GET" => Action::Get(key),
        "HEAD" => Action::Head(key),
        // The only other method the endpoint allows.
        _ => Action::Delete(key),
    })
}

/// A `Range` request resolved against a blob's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// No (usable) range: the whole blob, `200`.
    Full,
    /// Bytes `start..=end`, `206`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// No byte of the blob is in range: `416`.
    Unsatisfiable,
}

/// Resolves one `Range: bytes=…` header (RFC 9110). Several ranges, other
/// units or malformed values are ignored (the whole blob is sent), as the
/// RFC allows.
pub fn range(header: Option<&str>, size: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Range::Full;
    };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Full;
    };
    let parse = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match parse(suffix) {
            Some(0) => Range::Unsatisfiable,
            Some(_) if size == 0 => Range::Unsatisfiable,
            Some(n) => Range::Partial {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            None => Range::Full,
        },
        (start, end) => {
            let Some(start) = parse(start) else {
                return Range::Full;
            };
            let end = match end {
                "" => u64::MAX,
                e => match parse(e) {
                    Some(e) if e >= start => e,
                    _ => return Range::Full,
                },
            };
            if start >= size {
                Range::Unsatisfiable
            } else {
                Range::Partial {
                    start,
                    end: end.min(size - 1),
                }
            }
        }
    }
}

/// The `ETag` of a blob: its SHA-256, quoted.
pub fn etag(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

/// Whether an `If-None-Match` header matches a blob (`*` or one of its tags; weak tags compare equal).
pub fn none_match_hits(header: &str, sha256: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == sha256)
}

/// The SHA-256 the client expects, from `x-checksum-sha256` (hex or
/// base64) or `x-amz-checksum-sha256` (base64), as lower-case hex.
pub fn expected_sha256(
    checksum: Option<&str>,
    amz_checksum: Option<&str>,
) -> Result<Option<String>, Reply> {
    let decode = |name: &str, value: &str| -> Result<String, Reply> {
        let value = value.trim();
        if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(value.to_ascii_lowercase());
        }
        match BASE64.decode(value) {
            Ok(bytes) if bytes.len() == 32 => Ok(hex(&bytes)),
            _ => Err(Reply::error(
                400,
                format!("{name} must be a SHA-256 as 64 hex digits or base64 of 32 bytes"),
            )),
        }
    };
    let a = checksum
        .map(|v| decode("x-checksum-sha256", v))
        .transpose()?;
    let b = amz_checksum
        .map(|v| decode("x-amz-checksum-sha256", v))
        .transpose()?;
    match (a, b) {
        (Some(a), Some(b)) if a != b => Err(Reply::error(
            400,
            "x-checksum-sha256 and x-amz-checksum-sha256 disagree",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// The MD5 a `Content-MD5` header announces (base64 of 16 bytes).
pub fn content_md5(header: Option<&str>) -> Result<Option<[u8; 16]>, Reply> {
    header
        .map(|value| {
            BASE64
                .decode(value.trim())
                .ok()
                .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                .ok_or_else(|| Reply::error(400, "Content-MD5 must be base64 of 16 bytes"))
        })
        .transpose()
}

/// A listing query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Keys start with this.
    pub prefix: String,
    /// Keys sort after this.
    pub start_after: Option<String>,
    /// Most entries, 1 to 1,000 (1,000 by default).
    pub limit: u32,
}

/// Most entries in one listing page.
pub const MAX_PAGE: u32 = 1000;

/// Parses `prefix=&start-after=&limit=`.
pub fn list_query(query: &str) -> Result<ListQuery, Reply> {
    let mut q = ListQuery {
        prefix: String::new(),
        start_after: None,
        limit: MAX_PAGE,
    };
    for pair in query::pairs(query) {
        let (key, value) = pair.map_err(|e| Reply::error(400, e.to_string()))?;
        match key.as_str() {
            "prefix" => q.prefix = value,
            "start-after" => q.start_after = Some(value).filter(|v| !v.is_empty()),
            "limit" => {
                q.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_PAGE).contains(l))
                    .ok_or_else(|| {
                        Reply::error(
                            400,
                            format!("limit must be an integer in 1..=1000, got `{value}`"),
                        )
                    })?;
            }
            other => {
                return Err(Reply::error(
                    400,
                    format!("unknown query parameter `{other}`: use prefix, start-after and limit"),
                ));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_to_actions_and_keys() {
        assert_eq!(action("GET", "/blobs"), Ok(Action::List));
        assert_eq!(action("GET", "/blobs/"), Ok(Action::List));
        assert_eq!(
            action("PUT", "/blobs/a/b%20c+d.txt"),
            Ok(Action::Put("a/b c+d.txt".into()))
        );
        assert_eq!(
            action("GET", "/blobs/%C3%BCber"),
            Ok(Action::Get("über".into()))
        );
        assert_eq!(action("HEAD", "/blobs/k/"), Ok(Action::Head("k/".into())));
        assert_eq!(action("DELETE", "/blobs/k"), Ok(Action::Delete("k".into())));
        for (method, path, status, message) in [
            ("GET", "/blobs//abs", 400, "starts with `/`"),
            ("GET", "/blobs/a/../b", 400, "`..` segment"),
            ("GET", "/blobs/a/%2E%2E/b", 400, "`..` segment"),
            ("GET", "/blobs/.", 400, "`.` segment"),
            ("GET", "/blobs/tab%09", 400, "control character"),
            ("GET", "/blobs/%FF", 400, "not UTF-8"),
            ("GET", "/blobs/%zz", 400, "not followed by two hex digits"),
            ("GET", "/blobsx", 404, "no such route"),
            (
                "POST",
                "/blobs/k",
                405,
                "POST /blobs/k is not allowed: use PUT, GET, HEAD, DELETE",
            ),
            (
                "PUT",
                "/blobs",
                405,
                "use GET /blobs?prefix=&start-after=&limit= to list",
            ),
        ] {
            let reply = action(method, path).expect_err(path);
            assert_eq!(reply.status, status, "{method} {path}");
            assert!(
                String::from_utf8_lossy(&reply.body).contains(message),
                "{method} {path}: {reply:?}"
            );
        }
        let long = format!("/blobs/{}", "k".repeat(1025));
        assert_eq!(action("GET", &long).expect_err("long").status, 400);
    }

    #[test]
    fn ranges() {
        let p = |start, end| Range::Partial { start, end };
        let cases = [
            (None, 10, Range::Full),
            (Some("bytes=0-0"), 10, p(0, 0)),
            (Some("bytes=2-5"), 10, p(2, 5)),
            (Some("bytes=2-"), 10, p(2, 9)),
            (Some("bytes=5-100"), 10, p(5, 9)),
            (Some("bytes=-3"), 10, p(7, 9)),
            (Some("bytes=-30"), 10, p(0, 9)),
            (Some("bytes=9-9"), 10, p(9, 9)),
            (Some("bytes=10-"), 10, Range::Unsatisfiable),
            (Some("bytes=10-20"), 10, Range::Unsatisfiable),
            (Some("bytes=-0"), 10, Range::Unsatisfiable),
            (Some("bytes=0-"), 0, Range::Unsatisfiable),
            (Some("bytes=-5"), 0, Range::Unsatisfiable),
            (Some("bytes=5-2"), 10, Range::Full),
            (Some("bytes=0-1,4-5"), 10, Range::Full),
            (Some("items=0-1"), 10, Range::Full),
            (Some("bytes=a-b"), 10, Range::Full),
            (Some("bytes=+1-2"), 10, Range::Full),
        ];
        for (header, size, expected) in cases {
            assert_eq!(range(header, size), expected, "{header:?} of {size}");
        }
    }

    #[test]
    fn conditionals_and_checksums() {
        let sha = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
        assert!(none_match_hits("*", sha));
        assert!(none_match_hits(&format!("\"x\", {}", etag(sha)), sha));
        assert!(none_match_hits(&format!("W/{}", etag(sha)), sha));
        assert!(!none_match_hits("\"other\"", sha));
        assert_eq!(expected_sha256(Some(sha), None), Ok(Some(sha.into())));
        let b64 = "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=";
        assert_eq!(expected_sha256(None, Some(b64)), Ok(Some(sha.into())));
        assert_eq!(
            expected_sha256(Some(&sha.to_uppercase()), Some(b64)),
            Ok(Some(sha.into()))
        );
        assert_eq!(
            expected_sha256(Some(&"0".repeat(64)), Some(b64))
                .expect_err("disagree")
                .status,
            400
        );
        assert_eq!(
            expected_sha256(Some("abc"), None).expect_err("bad").status,
            400
        );
        assert_eq!(
            content_md5(Some("XrY7u+Ae7tCTyyK7j1rNww==")),
            Ok(Some(
                *b"\x5e\xb6\x3b\xbb\xe0\x1e\xee\xd0\x93\xcb\x22\xbb\x8f\x5a\xcd\xc3"
            ))
        );
        assert_eq!(content_md5(Some("nope")).expect_err("bad").status, 400);
    }

    #[test]
    fn listing_queries() {
        assert_eq!(
            list_query("prefix=docs%2F&start-after=docs%2Fa&limit=2"),
            Ok(ListQuery {
                prefix: "docs/".into(),
                start_after: Some("docs/a".into()),
                limit: 2
            })
        );
        assert_eq!(list_query("").map(|q| q.limit), Ok(1000));
        assert_eq!(
            list_query("prefix=my+docs").map(|q| q.prefix),
            Ok("my docs".into())
        );
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=x",
            "colour=red",
            "prefix=%FF",
        ] {
            assert_eq!(list_query(bad).expect_err(bad).status, 400, "{bad}");
        }
    }
}
