//! Component glue: the typed `filter` export, the HTTP face over WASI, and
//! the limits read from Spin variables through `wasi:config/store`.

use crate::http_face::{self, Reply, Route};
use component_http::wasi::{RequestBody, route_request, send};
use image_pipeline::decode::{self, Limits};
use image_pipeline::error::FilterError;
use image_pipeline::format::Format;
use image_pipeline::ops::{self, Op};
use image_pipeline::pipeline::{self, OutputOptions};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/image"],
    world: "cloudfn:image/image-filter",
    generate_all,
});

use exports::cloudfn::image::filter::{self as wit, Guest};
use wasi::config0_2_0_rc_1::store;

/// Reads the limits from the Spin variables `max_pixels` and
/// `max_body_bytes`; absent variables take the defaults.
fn limits() -> Result<Limits, FilterError> {
    let read = |name: &str, default: u64| -> Result<u64, FilterError> {
        match store::get(name) {
            Ok(None) => Ok(default),
            Ok(Some(value)) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    FilterError::Other(format!(
                        "variable {name} = `{value}` is not a positive integer"
                    ))
                }),
            Err(e) => Err(FilterError::Other(format!(
                "reading variable {name}: {e:?}"
            ))),
        }
    };
    Ok(Limits {
        max_pixels: read("max_pixels", Limits::DEFAULT_MAX_PIXELS)?,
        max_bytes: read("max_body_bytes", Limits::DEFAULT_MAX_BYTES)?,
    })
}

struct ImageFilter;

impl Guest for ImageFilter {
    fn apply(
        image: Vec<u8>,
        ops: Vec<wit::Op>,
        output: wit::OutputOptions,
    ) -> Result<wit::ImageOut, wit::Error> {
        let limits = limits().map_err(to_wit_error)?;
        let ops: Vec<Op> = ops.into_iter().map(from_wit_op).collect();
        let output = OutputOptions {
            format: output.format.map(from_wit_format),
            quality: output.quality,
        };
        let out = pipeline::apply(&image, &ops, output, &limits).map_err(to_wit_error)?;
        Ok(wit::ImageOut {
            format: to_wit_format(out.format),
            content_type: out.format.content_type().to_owned(),
            width: out.width,
            height: out.height,
            data: out.data,
        })
    }

    fn info(image: Vec<u8>) -> Result<wit::ImageInfo, wit::Error> {
        let limits = limits().map_err(to_wit_error)?;
        let info = decode::info(&image, &limits).map_err(to_wit_error)?;
        Ok(wit::ImageInfo {
            format: to_wit_format(info.format),
            width: info.width,
            height: info.height,
            color_type: to_wit_color(info.color_type),
            orientation: info.orientation,
        })
    }
}

fn from_wit_op(op: wit::Op) -> Op {
    match op {
        wit::Op::Grayscale => Op::Grayscale,
        wit::Op::Sepia => Op::Sepia,
        wit::Op::Invert => Op::Invert,
        wit::Op::Brightness(d) => Op::Brightness(d),
        wit::Op::Contrast(a) => Op::Contrast(a),
        wit::Op::Blur(s) => Op::Blur(s),
        wit::Op::Sharpen(m) => Op::Sharpen {
            sigma: m.sigma,
            amount: m.amount,
        },
        wit::Op::EdgeDetect => Op::EdgeDetect,
        wit::Op::Emboss => Op::Emboss,
        wit::Op::Rotate(r) => Op::Rotate(match r {
            wit::Rotation::Cw90 => ops::Rotation::Cw90,
            wit::Rotation::Cw180 => ops::Rotation::Cw180,
            wit::Rotation::Cw270 => ops::Rotation::Cw270,
        }),
        wit::Op::FlipHorizontal => Op::FlipHorizontal,
        wit::Op::FlipVertical => Op::FlipVertical,
        wit::Op::Resize(b) => Op::Resize {
            width: b.width,
            height: b.height,
            fit: match b.fit {
                wit::Fit::Contain => ops::Fit::Contain,
                wit::Fit::Cover => ops::Fit::Cover,
                wit::Fit::Fill => ops::Fit::Fill,
            },
        },
        wit::Op::Thumbnail(side) => Op::Thumbnail(side),
        wit::Op::Crop(r) => Op::Crop {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        },
        wit::Op::AutoOrient => Op::AutoOrient,
    }
}

fn from_wit_format(format: wit::Format) -> Format {
    match format {
        wit::Format::Png => Format::Png,
        wit::Format::Jpeg => Format::Jpeg,
        wit::Format::Gif => Format::Gif,
        wit::Format::Webp => Format::WebP,
        wit::Format::Bmp => Format::Bmp,
        wit::Format::Tiff => Format::Tiff,
    }
}

fn to_wit_format(format: Format) -> wit::Format {
    match format {
        Format::Png => wit::Format::Png,
        Format::Jpeg => wit::Format::Jpeg,
        Format::Gif => wit::Format::Gif,
        Format::WebP => wit::Format::Webp,
        Format::Bmp => wit::Format::Bmp,
        Format::Tiff => wit::Format::Tiff,
    }
}

fn to_wit_color(color: image::ColorType) -> wit::ColorType {
    use image::ColorType as C;
    match color {
        C::L8 => wit::ColorType::L8,
        C::La8 => wit::ColorType::La8,
        C::Rgb8 => wit::ColorType::Rgb8,
        C::Rgba8 => wit::ColorType::Rgba8,
        C::L16 => wit::ColorType::L16,
        C::La16 => wit::ColorType::La16,
        C::Rgb16 => wit::ColorType::Rgb16,
        C::Rgba16 => wit::ColorType::Rgba16,
        C::Rgb32F => wit::ColorType::Rgb32f,
        _ => wit::ColorType::Rgba32f,
    }
}

fn to_wit_error(error: FilterError) -> wit::Error {
    match error {
        FilterError::UnsupportedFormat(m) => wit::Error::UnsupportedFormat(m),
        FilterError::InvalidImage(m) => wit::Error::InvalidImage(m),
        FilterError::TooLarge {
            what,
            actual,
            limit,
            ..
        } => wit::Error::TooLarge(wit::TooLarge {
            what: what.name().to_owned(),
            actual,
            limit,
        }),
        FilterError::InvalidOp(m) => wit::Error::InvalidOp(m),
        FilterError::InvalidOutput(m) => wit::Error::InvalidOutput(m),
        FilterError::Other(m) => wit::Error::Other(m),
    }
}

impl exports::wasi::http::incoming_handler::Guest for ImageFilter {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        send(out, respond(&request).unwrap_or_else(|refused| refused));
    }
}

fn respond(request: &IncomingRequest) -> Result<Reply, Reply> {
    let (route, query) = route_request(request, http_face::ENDPOINTS, http_face::USAGE)?;
    if route == Route::Ops {
        return Ok(http_face::ops_reply());
    }
    let limits = limits().map_err(|e| http_face::error_reply(&e))?;
    let max = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
    let body = RequestBody::open(request)?.read_all(max, http_face::TOO_LARGE)?;
    Ok(match route {
        Route::Filter => http_face::filter_reply(&query, &body, &limits),
        _ => http_face::info_reply(&body, &limits),
    })
}

export!(ImageFilter);
