//! The HTTP rules of the Cloud Drive face, as pure functions: keys from
//! paths, `Range`, conditional requests, checksum headers, listing queries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

pub use component_http::Reply;

/// Where blobs live in the URL space.
pub const PREFIX: &str = "/blobs";

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/blobs` or `/blobs/`: the listing.
    Listing,
    /// `/blobs/{key...}`.
    Blob(String),
}

/// Resolves a request path (without query) to the listing or a valid key.
pub fn target(path: &str) -> Result<Target, Reply> {
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Err(Reply::error(
            404,
            format!("no such route {path}: use /blobs/KEY or /blobs?prefix="),
        ));
    };
    if rest.is_empty() || rest == "/" {
        return Ok(Target::Listing);
    }
    let Some(encoded) = rest.strip_prefix('/') else {
        return Err(Reply::error(
            404,
            format!("no such route {path}: use /blobs/KEY or /blobs?prefix="),
        ));
    };
    let key = percent_decode(encoded)
        .ok_or_else(|| Reply::error(400, "invalid key: it is not UTF-8 once percent-decoded"))?;
    blob_key::validate(&key).map_err(|e| Reply::error(400, format!("invalid key: {e}")))?;
    Ok(Target::Blob(key))
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
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " "))
            .ok_or_else(|| Reply::error(400, format!("{key} is not UTF-8 once percent-decoded")))?;
        match key {
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

/// Decodes `%XX` escapes; `None` if the result is not UTF-8 or an escape is broken.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_to_keys() {
        assert_eq!(target("/blobs"), Ok(Target::Listing));
        assert_eq!(target("/blobs/"), Ok(Target::Listing));
        assert_eq!(
            target("/blobs/a/b%20c.txt"),
            Ok(Target::Blob("a/b c.txt".into()))
        );
        assert_eq!(target("/blobs/%C3%BCber"), Ok(Target::Blob("über".into())));
        for (path, status, message) in [
            ("/blobs//abs", 400, "starts with `/`"),
            ("/blobs/a/../b", 400, "`..` segment"),
            ("/blobs/a/%2E%2E/b", 400, "`..` segment"),
            ("/blobs/.", 400, "`.` segment"),
            ("/blobs/tab%09", 400, "control character"),
            ("/blobs/%FF", 400, "not UTF-8"),
            ("/blobs/%zz", 400, "not UTF-8"),
            ("/blobsx", 404, "no such route"),
        ] {
            let reply = target(path).expect_err(path);
            assert_eq!(reply.status, status, "{path}");
            assert!(
                String::from_utf8_lossy(&reply.body).contains(message),
                "{path}"
            );
        }
        let long = format!("/blobs/{}", "k".repeat(1025));
        assert_eq!(target(&long).expect_err("long").status, 400);
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
        for bad in ["limit=0", "limit=1001", "limit=x", "colour=red"] {
            assert_eq!(list_query(bad).expect_err(bad).status, 400, "{bad}");
        }
    }
}
