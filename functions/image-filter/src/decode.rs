//! Reading images: format detection, the header checked against the limits
//! before any pixel is decoded, then the pixels.

use crate::error::{FilterError, Measure};
use crate::format::Format;
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageError, ImageReader};
use std::io::Cursor;

/// Limits on what the function accepts (Spin variables `max_pixels` and `max_body_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most pixels (width × height) of an input or of an op's result.
    pub max_pixels: u64,
    /// Most bytes of an encoded input.
    pub max_bytes: u64,
}

impl Limits {
    /// 50 megapixels, as imgproxy's default.
    pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;
    /// 64 MiB, the local host's default request-body limit.
    pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

    /// Checks that an image of `width` × `height` is within the pixel limit;
    /// `context` says which image it is in the error.
    pub fn check_pixels(&self, width: u32, height: u32, context: &str) -> Result<(), FilterError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(FilterError::TooLarge {
                what: Measure::Pixels,
                actual: pixels,
                limit: self.max_pixels,
                context: context.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks the encoded size.
    pub fn check_bytes(&self, len: u64) -> Result<(), FilterError> {
        if len > self.max_bytes {
            return Err(FilterError::TooLarge {
                what: Measure::Bytes,
                actual: len,
                limit: self.max_bytes,
                context: "image".to_owned(),
            });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// A decoded image and what its container said about it.
#[derive(Debug)]
pub struct Decoded {
    /// The pixels.
    pub image: DynamicImage,
    /// The detected format.
    pub format: Format,
    /// The EXIF orientation (upright when absent).
    pub orientation: Orientation,
}

/// What an image is, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Detected format.
    pub format: Format,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel layout the decoder produces.
    pub color_type: ColorType,
    /// EXIF orientation, 1 (upright) to 8.
    pub orientation: u8,
}

/// A decoder positioned after the header, already checked against the limits.
struct Opened<'a> {
    decoder: Box<dyn ImageDecoder + 'a>,
    format: Format,
}

fn open<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Opened<'a>, FilterError> {
    limits.check_bytes(bytes.len() as u64)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FilterError::InvalidImage(e.to_string()))?;
    let Some(detected) = reader.format() else {
        return Err(FilterError::UnsupportedFormat(
            "not a recognised image: send PNG, JPEG, GIF, WebP, BMP or TIFF".to_owned(),
        ));
    };
    let format = Format::from_image(detected)?;
    // Reading the header allocates nothing image-sized; the pixel limit is
    // checked against it below, and the allocation limit set before decoding.
    reader.no_limits();
    let decoder = reader.into_decoder().map_err(|e| from_image_error(e, format))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(FilterError::InvalidImage(format!(
            "the {} header says {width}x{height} pixels",
            format.name()
        )));
    }
    limits.check_pixels(width, height, &format!("image {width}x{height}"))?;
    Ok(Opened {
        decoder: Box::new(decoder),
        format,
    })
}

/// Reads format, dimensions, pixel layout and orientation without decoding pixels.
pub fn info(bytes: &[u8], limits: &Limits) -> Result<Info, FilterError> {
    let mut opened = open(bytes, limits)?;
    let (width, height) = opened.decoder.dimensions();
    let orientation = opened
        .decoder
        .orientation()
        .unwrap_or(Orientation::NoTransforms);
    Ok(Info {
        format: opened.format,
        width,
        height,
        color_type: opened.decoder.color_type(),
        orientation: orientation.to_exif(),
    })
}

/// Decodes an image (GIF: its first frame) within the limits.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, FilterError> {
    let Opened {
        mut decoder,
        format,
    } = open(bytes, limits)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(Orientation::NoTransforms);
    let mut alloc = image::Limits::default();
    // The output buffer plus the decoder's own working memory, at most 16
    // bytes (RGBA f32) per pixel of the largest image allowed.
    alloc.max_alloc = Some(limits.max_pixels.saturating_mul(16).max(64 << 20));
    let needed = decoder.total_bytes();
    if let Some(max) = alloc.max_alloc.filter(|max| needed > *max) {
        return Err(FilterError::TooLarge {
            what: Measure::Bytes,
            actual: needed,
            limit: max,
            context: "decoded image".to_owned(),
        });
    }
    decoder
        .set_limits(alloc)
        .map_err(|e| from_image_error(e, format))?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| from_image_error(e, format))?;
    Ok(Decoded {
        image,
        format,
        orientation,
    })
}

/// Maps a decoder error onto the function's errors.
fn from_image_error(error: ImageError, format: Format) -> FilterError {
    let name = format.name();
    match error {
        ImageError::Decoding(e) => FilterError::InvalidImage(format!("{name}: {e}")),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            FilterError::InvalidImage(format!("{name}: the data is truncated"))
        }
        ImageError::IoError(e) => FilterError::InvalidImage(format!("{name}: {e}")),
        ImageError::Unsupported(e) => FilterError::UnsupportedFormat(format!("{name}: {e}")),
        // The pixel and byte limits were checked before decoding; a decoder
        // that still hits its allocation limit was fed a malformed image
        // (an oversized chunk, a lying header).
        ImageError::Limits(e) => FilterError::InvalidImage(format!("{name}: {e}")),
        ImageError::Parameter(e) => FilterError::InvalidImage(format!("{name}: {e}")),
        ImageError::Encoding(e) => FilterError::Other(format!("{name}: {e}")),
    }
}
