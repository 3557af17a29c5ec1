//! A complete reply, built by pure code and sent by [`crate::wasi::send`].

use serde::Serialize;

/// A complete reply: status, `Content-Type`, further headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Further headers (lower-case names).
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A reply with this status, type and body, and no further headers.
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    /// A 200 reply.
    pub fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Self::new(200, content_type, body)
    }

    /// A plain-text error reply (a newline is appended).
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        let mut body = message.into().into_bytes();
        body.push(b'\n');
        Self::new(status, "text/plain; charset=utf-8", body)
    }

    /// `value` as `application/json`, one line ending in a newline; a value
    /// that cannot be serialised is a `500` saying so, never an empty reply.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(mut body) => {
                body.push(b'\n');
                Self::new(status, "application/json", body)
            }
            Err(e) => Self::error(
                500,
                format!("the reply could not be serialised as JSON: {e}"),
            ),
        }
    }

    /// The reply with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of header `name` (`content-type` included).
    pub fn header(&self, name: &str) -> Option<&str> {
        if name.eq_ignore_ascii_case("content-type") {
            return Some(self.content_type);
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn errors_are_plain_text_lines() {
        let r = Reply::error(404, "no such thing");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, &b"no such thing\n"[..])
        );
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    }

    #[test]
    fn json_is_one_line_and_failure_is_a_500_not_an_empty_200() {
        let r = Reply::json(201, &serde_json::json!({"a": [1, 2]}));
        assert_eq!((r.status, r.content_type), (201, "application/json"));
        assert_eq!(r.body, b"{\"a\":[1,2]}\n");
        // serde_json refuses maps whose keys are not strings.
        let bad: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        let r = Reply::json(200, &bad);
        assert_eq!(r.status, 500);
        assert!(
            String::from_utf8_lossy(&r.body)
                .starts_with("the reply could not be serialised as JSON: "),
            "{r:?}"
        );
    }

    #[test]
    fn headers_are_kept_in_order() {
        let r = Reply::ok("text/plain", b"x".to_vec())
            .with_header("etag", "\"1\"")
            .with_header("allow", "GET");
        assert_eq!(r.header("ETag"), Some("\"1\""));
        assert_eq!(r.header("allow"), Some("GET"));
        assert_eq!(r.header("range"), None);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(2048), "2048 bytes");
        assert_eq!(size((1 << 20) + 1), "1048577 bytes");
    }
}
