//! The HTTP face, as pure functions from request parts to a [`Reply`]:
//! `POST /image/filter?ops=…&format=…&quality=…`, `POST /image/info`,
//! `GET /image/ops`.

use crate::decode::{self, Limits};
use crate::error::FilterError;
use crate::format::Format;
use crate::ops::{self, Op};
use crate::pipeline::{self, OutputOptions};
use image::ColorType;

pub use component_http::Reply;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /image/filter`.
    Filter,
    /// `POST /image/info`.
    Info,
    /// `GET /image/ops`.
    Ops,
}

/// The routes, for 404 messages.
pub const USAGE: &str = "POST /image/filter?ops=grayscale,blur:2&format=jpeg&quality=85 with the image as body, POST /image/info with the image as body, or GET /image/ops";

/// Resolves a method and path to a route, or the reply refusing it.
pub fn route(method: &str, path: &str) -> Result<Route, (Reply, Option<&'static str>)> {
    let path = path.trim_end_matches('/');
    let (route, allow) = match path {
        "/image/filter" => (Route::Filter, "POST"),
        "/image/info" => (Route::Info, "POST"),
        "/image/ops" => (Route::Ops, "GET, HEAD"),
        _ => {
            return Err((
                Reply::error(404, format!("no such route {path}: use {USAGE}")),
                None,
            ));
        }
    };
    let allowed = match route {
        Route::Ops => method == "GET" || method == "HEAD",
        _ => method == "POST",
    };
    if allowed {
        Ok(route)
    } else {
        Err((
            Reply::error(405, format!("{method} {path} is not allowed: use {allow}")),
            Some(allow),
        ))
    }
}

/// The reply to `GET /image/ops`.
pub fn ops_reply() -> Reply {
    let mut body = serde_json::to_vec_pretty(&ops::catalog_json()).unwrap_or_default();
    body.push(b'\n');
    Reply::ok("application/json", body)
}

/// The query options of `/image/filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterQuery {
    /// The pipeline.
    pub ops: Vec<Op>,
    /// Output options.
    pub output: OutputOptions,
}

/// Parses `ops=…&format=…&quality=…` (percent-encoded or not).
pub fn parse_query(query: &str) -> Result<FilterQuery, FilterError> {
    let mut parsed = FilterQuery {
        ops: Vec::new(),
        output: OutputOptions::default(),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "ops" => parsed.ops.extend(Op::parse_list(&value)?),
            "format" => parsed.output.format = Some(Format::parse(&value)?),
            "quality" => {
                let quality = value.parse::<u8>().ok().filter(|q| (1..=100).contains(q));
                parsed.output.quality = Some(quality.ok_or_else(|| {
                    FilterError::InvalidOutput(format!(
                        "quality must be an integer in 1..=100, got `{value}`"
                    ))
                })?);
            }
            other => {
                return Err(FilterError::InvalidOutput(format!(
                    "unknown query parameter `{other}`: use ops, format and quality"
                )));
            }
        }
    }
    Ok(parsed)
}

/// The reply to `POST /image/filter`.
pub fn filter_reply(query: &str, body: &[u8], limits: &Limits) -> Reply {
    let result = parse_query(query).and_then(|q| pipeline::apply(body, &q.ops, q.output, limits));
    match result {
        Ok(out) => Reply::ok(out.format.content_type(), out.data),
        Err(e) => error_reply(&e),
    }
}

/// The reply to `POST /image/info`.
pub fn info_reply(body: &[u8], limits: &Limits) -> Reply {
    match decode::info(body, limits) {
        Ok(info) => {
            let json = serde_json::json!({
                "format": info.format.name(),
                "content_type": info.format.content_type(),
                "width": info.width,
                "height": info.height,
                "color_type": color_type_name(info.color_type),
                "orientation": info.orientation,
            });
            let mut body = serde_json::to_vec(&json).unwrap_or_default();
            body.push(b'\n');
            Reply::ok("application/json", body)
        }
        Err(e) => error_reply(&e),
    }
}

/// An error as a plain-text reply with its status.
pub fn error_reply(error: &FilterError) -> Reply {
    Reply::error(error.status(), error.to_string())
}

/// The WIT name of a pixel layout (`rgb8`, ...).
pub fn color_type_name(color: ColorType) -> &'static str {
    match color {
        ColorType::L8 => "l8",
        ColorType::La8 => "la8",
        ColorType::Rgb8 => "rgb8",
        ColorType::Rgba8 => "rgba8",
        ColorType::L16 => "l16",
        ColorType::La16 => "la16",
        ColorType::Rgb16 => "rgb16",
        ColorType::Rgba16 => "rgba16",
        ColorType::Rgb32F => "rgb32f",
        _ => "rgba32f",
    }
}

/// Decodes `%XX` escapes and `+` (as a space); invalid escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Fit;

    #[test]
    fn query_parses_ops_format_and_quality() {
        let q = parse_query("ops=grayscale,blur:2,resize:800x600:contain&format=jpeg&quality=85")
            .unwrap();
        assert_eq!(q.ops.len(), 3);
        assert_eq!(
            q.ops[2],
            Op::Resize {
                width: 800,
                height: 600,
                fit: Fit::Contain
            }
        );
        assert_eq!(q.output.format, Some(Format::Jpeg));
        assert_eq!(q.output.quality, Some(85));
        let encoded = parse_query("ops=grayscale%2Cblur%3A2").unwrap();
        assert_eq!(encoded.ops, vec![Op::Grayscale, Op::Blur(2.0)]);
        assert_eq!(parse_query("").unwrap().ops, vec![]);
    }

    #[test]
    fn bad_queries_are_400_with_what_was_wrong() {
        for (query, expected) in [
            ("ops=sparkle", "unknown op `sparkle`"),
            ("format=heic", "unknown output format `heic`"),
            ("quality=0", "quality must be an integer in 1..=100"),
            ("quality=abc", "got `abc`"),
            ("size=3", "unknown query parameter `size`"),
        ] {
            let err = parse_query(query).unwrap_err();
            assert_eq!(err.status(), 400, "{query}");
            assert!(err.to_string().contains(expected), "{query}: {err}");
        }
    }

    #[test]
    fn routes_and_methods() {
        assert_eq!(route("POST", "/image/filter"), Ok(Route::Filter));
        assert_eq!(route("POST", "/image/info/"), Ok(Route::Info));
        assert_eq!(route("GET", "/image/ops"), Ok(Route::Ops));
        let (reply, allow) = route("GET", "/image/filter").unwrap_err();
        assert_eq!((reply.status, allow), (405, Some("POST")));
        let (reply, _) = route("POST", "/image/nope").unwrap_err();
        assert_eq!(reply.status, 404);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Cb%3a1+2%zz%"), "a,b:1 2%zz%");
    }
}
