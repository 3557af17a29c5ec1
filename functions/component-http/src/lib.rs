//! The guest plumbing every cloudfn function shares, written once:
//!
//! - [`Reply`], the complete answer a function's pure protocol code returns
//!   (so it is tested natively), with JSON and plain-text constructors;
//! - [`route()`], a function's own sub-paths and methods, with Spin's
//!   trailing `/...` wildcard, answering `404` and `405` itself;
//! - [`split_target`], [`query::pairs`] and [`percent::decode`]: the request
//!   target, its query string and percent-encoding, by the rules stated in
//!   [`percent`];
//! - [`hex`], lower-case hex for checksums;
//! - on wasm, [`wasi`]: the `wasi:http` 0.2 request-body reader, the
//!   response writer, and [`generate!`] for a function's bindings.

pub mod percent;
pub mod query;
mod reply;
mod route;
#[cfg(target_family = "wasm")]
pub mod wasi;

pub use reply::{Reply, size};
pub use route::{Endpoint, route};

/// Lower-case hex of `bytes` (`sha256` values, ETags, messages).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Splits a request target (`path-with-query`) into its path and its query
/// (without the `?`; empty when there is none).
pub fn split_target(path_with_query: &str) -> (&str, &str) {
    path_with_query
        .split_once('?')
        .unwrap_or((path_with_query, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0, 9, 10, 255, 0xab]), "00090affab");
    }

    #[test]
    fn targets_split_at_the_first_question_mark() {
        assert_eq!(split_target("/a/b"), ("/a/b", ""));
        assert_eq!(split_target("/a?x=1"), ("/a", "x=1"));
        assert_eq!(split_target("/a?x=?&y"), ("/a", "x=?&y"));
        assert_eq!(split_target("/a?"), ("/a", ""));
        assert_eq!(split_target(""), ("", ""));
    }
}
