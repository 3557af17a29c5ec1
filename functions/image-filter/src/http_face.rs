//! The HTTP face, as pure functions from request parts to a [`Reply`]:
//! `POST /image/filter?ops=…&format=…&quality=…`, `POST /image/info`,
//! `GET /image/ops`.

use component_http::{Endpoint, query};
use image::ColorType;
use image_pipeline::decode::{self, Limits};
use image_pipeline::error::FilterError;
use image_pipeline::format::Format;
use image_pipeline::ops::{self, Op};
use image_pipeline::pipeline::{self, OutputOptions};

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

/// The function's endpoints.
pub const ENDPOINTS: &[Endpoint<Route>] = &[
    Endpoint {
        path: "/image/filter",
        allow: "POST",
        hint: "",
        name: Route::Filter,
    },
    Endpoint {
        path: "/image/info",
        allow: "POST",
        hint: "",
        name: Route::Info,
    },
    Endpoint {
        path: "/image/ops",
        allow: "GET, HEAD",
        hint: "",
        name: Route::Ops,
    },
];

/// The routes, for 404 messages.
pub const USAGE: &str = "POST /image/filter?ops=grayscale,blur:2&format=jpeg&quality=85 with the image as body, POST /image/info with the image as body, or GET /image/ops";

/// What a `413` for a body over the byte limit advises.
pub const TOO_LARGE: &str = "send a smaller image (the limit is the Spin variable max_body_bytes)";

/// The reply to `GET /image/ops`.
pub fn ops_reply() -> Reply {
    Reply::json(200, &ops::catalog_json())
}

/// The query options of `/image/filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterQuery {
    /// The pipeline.
    pub ops: Vec<Op>,
    /// Output options.
    pub output: OutputOptions,
}

/// Parses `ops=…&format=…&quality=…` (form-encoded, see [`component_http::percent`]).
pub fn parse_query(query: &str) -> Result<FilterQuery, FilterError> {
    let mut parsed = FilterQuery {
        ops: Vec::new(),
        output: OutputOptions::default(),
    };
    for pair in query::pairs(query) {
        let (key, value) = pair.map_err(|e| FilterError::InvalidOutput(e.to_string()))?;
        match key.as_str() {
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
            Reply::json(200, &json)
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

#[cfg(test)]
mod tests {
    use super::*;
    use image_pipeline::ops::Fit;

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
        let go =
            |method, path| component_http::route(ENDPOINTS, method, path, USAGE).map(|(r, _)| r);
        assert_eq!(go("POST", "/image/filter").ok(), Some(Route::Filter));
        assert_eq!(go("POST", "/image/info/").ok(), Some(Route::Info));
        assert_eq!(go("GET", "/image/ops").ok(), Some(Route::Ops));
        let reply = go("GET", "/image/filter").unwrap_err();
        assert_eq!((reply.status, reply.header("allow")), (405, Some("POST")));
        assert_eq!(reply.body, b"GET /image/filter is not allowed: use POST\n");
        let reply = go("POST", "/image/nope").unwrap_err();
        assert_eq!(reply.status, 404);
    }

    #[test]
    fn query_values_are_form_decoded_strictly() {
        let q = parse_query("ops=crop%3A1%3A2%3A3x4+&format=p%6Eg").unwrap();
        assert_eq!(q.output.format, Some(Format::Png));
        assert_eq!(
            parse_query("ops=blur%3").unwrap_err().to_string(),
            "query parameter `ops`: the `%` at byte 4 is not followed by two hex digits"
        );
    }
}
