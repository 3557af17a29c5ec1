//! The serving rules, independent of WASI: which embedded file a request
//! names, in which encoding, and whether the client's copy is still good.
//!
//! - Pages (`/`, `/image-lab`, `/drive`, `/inverted-index`,
//!   `/sentiment-dashboard`, `/login`, `/profile`) are `Cache-Control:
//!   no-cache`: revalidated on every load, cheaply, with their `ETag`.
//! - Assets carry their content hash in their name and are cached for a year
//!   (`immutable`).
//! - A client that accepts gzip gets the form compressed at build time
//!   (`Vary: Accept-Encoding`); its `ETag` differs from the plain form's.
//! - An unknown path gets the `404` page; a method other than `GET` or
//!   `HEAD` gets `405` with `Allow`.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The path it is served at.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its strong `ETag` (of the plain form), quoted.
    pub etag: &'static str,
    /// Named by its content hash: cacheable for ever.
    pub immutable: bool,
    /// The plain bytes.
    pub body: &'static [u8],
    /// The gzip form, when smaller than the plain one.
    pub gzip: Option<&'static [u8]>,
}

/// Every embedded file, as `build.rs` made the table.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The path of the page served, with status `404`, for unknown paths.
pub const NOT_FOUND_PAGE: &str = "/404";

/// What the rules look at in a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `HEAD`, …
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The `Accept-Encoding` header.
    pub accept_encoding: Option<&'a str>,
    /// The `If-None-Match` header.
    pub if_none_match: Option<&'a str>,
}

/// The answer: status, headers and a body borrowed from the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Further headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for `HEAD` and `304`).
    pub body: &'static [u8],
}

/// `Cache-Control` of hashed assets.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of pages: keep, but revalidate before each use.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// The embedded file at `path` (a trailing `/` is ignored), if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    ASSETS.iter().find(|a| a.path == path)
}

/// The answer to `request`.
pub fn respond(request: &Request) -> Response {
    let head_only = match request.method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            return Response {
                status: 405,
                content_type: "text/plain; charset=utf-8",
                headers: vec![("allow", "GET, HEAD".to_owned())],
                body: b"the web pages take GET and HEAD only\n",
            };
        }
    };
    let (status, asset) = match find(request.path) {
        Some(asset) if asset.path != NOT_FOUND_PAGE => (200, asset),
        _ => (404, find(NOT_FOUND_PAGE).expect("the 404 page is embedded")),
    };
    let gzip = asset
        .gzip
        .filter(|_| request.accept_encoding.is_some_and(accepts_gzip));
    let etag = match gzip {
        Some(_) => format!("{}-gz\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.to_owned(),
    };
    let cache = if asset.immutable {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let mut headers = vec![
        ("etag", etag.clone()),
        ("cache-control", cache.to_owned()),
        ("vary", "Accept-Encoding".to_owned()),
    ];
    if status == 200
        && request
            .if_none_match
            .is_some_and(|v| matches_etag(v, &etag))
    {
        return Response {
            status: 304,
            content_type: asset.content_type,
            headers,
            body: b"",
        };
    }
    let body = gzip.unwrap_or(asset.body);
    if gzip.is_some() {
        headers.push(("content-encoding", "gzip".to_owned()));
    }
    headers.push(("x-content-type-options", "nosniff".to_owned()));
    if !head_only {
        headers.push(("content-length", body.len().to_string()));
    }
    Response {
        status,
        content_type: asset.content_type,
        headers,
        body: if head_only { b"" } else { body },
    }
}

/// Whether an `Accept-Encoding` value accepts gzip (RFC 9110 §12.5.3):
/// `gzip`, `x-gzip` or `*` with a weight above zero.
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    let mut gzip = None;
    let mut star = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
            })
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(weight > 0.0),
            "*" => star = Some(weight > 0.0),
            _ => {}
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, RFC 9110
/// §13.1.2: `W/` is ignored; `*` matches any current representation).
pub fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|candidate| {
        let candidate = candidate.trim();
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response {
        respond(&Request {
            method: "GET",
            path,
            accept_encoding: None,
            if_none_match: None,
        })
    }

    fn header<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
        response
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    const PAGES: [&str; 5] = [
        "/",
        "/image-lab",
        "/drive",
        "/inverted-index",
        "/sentiment-dashboard",
    ];

    #[test]
    fn every_page_is_html_revalidated_and_names_only_embedded_assets() {
        for page in PAGES {
            let response = get(page);
            assert_eq!(response.status, 200, "{page}");
            assert_eq!(response.content_type, "text/html; charset=utf-8");
            assert_eq!(header(&response, "cache-control"), Some(CACHE_REVALIDATE));
            let html = std::str::from_utf8(response.body).expect("UTF-8");
            assert!(!html.contains("{{"), "{page}: a placeholder left");
            for link in html.split("\"/assets/").skip(1) {
                let path = format!("/assets/{}", &link[..link.find('"').expect("quoted")]);
                let asset = find(&path).unwrap_or_else(|| panic!("{page}: {path} missing"));
                assert!(asset.immutable, "{path}");
            }
            assert!(
                html.contains("aria-current=\"page\""),
                "{page}: no current link"
            );
        }
    }

    #[test]
    fn hashed_assets_are_cached_for_a_year_with_their_type() {
        let css = ASSETS
            .iter()
            .find(|a| a.path.ends_with(".css"))
            .expect("a stylesheet");
        let response = get(css.path);
        assert_eq!(response.status, 200);
        assert_eq!(response.content_type, "text/css; charset=utf-8");
        assert_eq!(header(&response, "cache-control"), Some(CACHE_IMMUTABLE));
        assert_eq!(response.body, css.body);
    }

    #[test]
    fn unknown_paths_get_the_404_page_and_other_methods_405() {
        for path in ["/nope", "/assets/app.css", "/404", "/drive/x"] {
            let response = get(path);
            assert_eq!(response.status, 404, "{path}");
            assert!(std::str::from_utf8(response.body).unwrap().contains("<h1"));
        }
        let response = respond(&Request {
            method: "POST",
            path: "/",
            accept_encoding: None,
            if_none_match: None,
        });
        assert_eq!(response.status, 405);
        assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
    }

    #[test]
    fn gzip_is_served_to_clients_that_accept_it_with_its_own_etag() {
        let request = |accept: &'static str| Request {
            method: "GET",
            path: "/",
            accept_encoding: Some(accept),
            if_none_match: None,
        };
        let zipped = respond(&request("gzip, deflate, br"));
        assert_eq!(header(&zipped, "content-encoding"), Some("gzip"));
        assert_eq!(&zipped.body[..2], &[0x1f, 0x8b]);
        let plain = respond(&request("gzip;q=0, identity"));
        assert_eq!(header(&plain, "content-encoding"), None);
        assert_ne!(header(&zipped, "etag"), header(&plain, "etag"));
        assert!(zipped.body.len() < plain.body.len());
    }

    #[test]
    fn a_matching_if_none_match_is_304_without_a_body() {
        let etag = header(&get("/drive"), "etag").unwrap().to_owned();
        for value in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
            let response = respond(&Request {
                method: "GET",
                path: "/drive",
                accept_encoding: None,
                if_none_match: Some(&value),
            });
            assert_eq!(response.status, 304, "{value}");
            assert!(response.body.is_empty());
            assert_eq!(header(&response, "etag"), Some(etag.as_str()));
        }
        let stale = respond(&Request {
            method: "GET",
            path: "/drive",
            accept_encoding: None,
            if_none_match: Some("\"stale\""),
        });
        assert_eq!(stale.status, 200);
    }

    #[test]
    fn head_has_the_headers_and_no_body() {
        let response = respond(&Request {
            method: "HEAD",
            path: "/",
            accept_encoding: None,
            if_none_match: None,
        });
        assert_eq!(response.status, 200);
        assert!(response.body.is_empty());
        assert!(header(&response, "etag").is_some());
    }

    #[test]
    fn accept_encoding_weights_are_read() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("*;q=0.5, gzip;q=0"));
        assert!(!accepts_gzip("br, identity"));
    }
}
