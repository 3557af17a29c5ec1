//! A function's own sub-paths: which endpoint a request names, or the `404`
//! or `405` that refuses it.

use crate::Reply;

/// One endpoint of a function.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<T> {
    /// The path: exact (`/image/filter`, matched with or without a trailing
    /// `/`), or a prefix with Spin's wildcard (`/blobs/...`), which matches
    /// the prefix itself and every path below it.
    pub path: &'static str,
    /// The methods it takes, as the `Allow` header lists them (`"GET, HEAD"`).
    pub allow: &'static str,
    /// Said after "use {allow}" when the method is refused (` with a JSON body`), or empty.
    pub hint: &'static str,
    /// What the function calls it.
    pub name: T,
}

/// The endpoint `method` and `path` name, with what a wildcard matched
/// below its prefix (without the leading `/`; empty for exact endpoints),
/// or the reply refusing the request: `404` saying to use `usage` when no
/// endpoint has the path, `405` with `Allow` when one has it but not the method.
/// Exact endpoints are tried before wildcards.
pub fn route<'p, T: Copy>(
    endpoints: &[Endpoint<T>],
    method: &str,
    path: &'p str,
    usage: &str,
) -> Result<(T, &'p str), Reply> {
    let exact = endpoints
        .iter()
        .filter(|e| !e.path.ends_with("/..."))
        .find(|e| path.strip_suffix('/').unwrap_or(path) == e.path)
        .map(|e| (e, ""));
    let found = exact.or_else(|| {
        endpoints.iter().find_map(|e| {
            let prefix = e.path.strip_suffix("/...")?;
            let below = path.strip_prefix(prefix)?;
            match below.strip_prefix('/') {
                Some(rest) => Some((e, rest)),
                None => below.is_empty().then_some((e, "")),
            }
        })
    });
    let Some((endpoint, rest)) = found else {
        return Err(Reply::error(
            404,
            format!("no such route {path}: use {usage}"),
        ));
    };
    if endpoint.allow.split(", ").any(|m| m == method) {
        Ok((endpoint.name, rest))
    } else {
        Err(Reply::error(
            405,
            format!(
                "{method} {path} is not allowed: use {}{}",
                endpoint.allow, endpoint.hint
            ),
        )
        .with_header("allow", endpoint.allow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum E {
        Filter,
        Ops,
        Listing,
        Blob,
    }

    const ENDPOINTS: &[Endpoint<E>] = &[
        Endpoint {
            path: "/image/filter",
            allow: "POST",
            hint: " with the image as body",
            name: E::Filter,
        },
        Endpoint {
            path: "/image/ops",
            allow: "GET, HEAD",
            hint: "",
            name: E::Ops,
        },
        Endpoint {
            path: "/blobs",
            allow: "GET",
            hint: "",
            name: E::Listing,
        },
        Endpoint {
            path: "/blobs/...",
            allow: "PUT, GET",
            hint: "",
            name: E::Blob,
        },
    ];

    fn go(method: &str, path: &'static str) -> Result<(E, &'static str), Reply> {
        route(ENDPOINTS, method, path, "the usage")
    }

    #[test]
    fn exact_paths_match_with_or_without_a_trailing_slash() {
        assert_eq!(go("POST", "/image/filter").ok(), Some((E::Filter, "")));
        assert_eq!(go("POST", "/image/filter/").ok(), Some((E::Filter, "")));
        assert_eq!(go("HEAD", "/image/ops").ok(), Some((E::Ops, "")));
        assert_eq!(
            go("GET", "/blobs/").ok(),
            Some((E::Listing, "")),
            "exact before wildcard"
        );
    }

    #[test]
    fn wildcards_pass_on_what_is_below_the_prefix_verbatim() {
        assert_eq!(
            go("PUT", "/blobs/a/b%20c/").ok(),
            Some((E::Blob, "a/b%20c/"))
        );
        assert_eq!(go("PUT", "/blobs//abs").ok(), Some((E::Blob, "/abs")));
        assert!(
            go("PUT", "/blobsx").is_err(),
            "a prefix matches whole segments"
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        let r = go("POST", "/image/elsewhere").expect_err("404");
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"no such route /image/elsewhere: use the usage\n");
        assert_eq!(go("GET", "/image/filter/x").expect_err("404").status, 404);
        let r = go("GET", "/image/filter").expect_err("405");
        assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
        assert_eq!(
            r.body,
            b"GET /image/filter is not allowed: use POST with the image as body\n"
        );
        let r = go("DELETE", "/blobs/k").expect_err("405");
        assert_eq!((r.status, r.header("allow")), (405, Some("PUT, GET")));
        assert_eq!(
            go("GE", "/image/ops").expect_err("405").status,
            405,
            "whole method names"
        );
    }
}
