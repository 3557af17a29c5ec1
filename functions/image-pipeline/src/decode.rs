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
    let decoder = match reader.into_decoder() {
        Ok(decoder) => decoder,
        // Some decoders refuse huge headers themselves (a buffer size that
        // overflows 32 bits on wasm): answer with the pixel limit when the
        // header can be read.
        Err(ImageError::Limits(e)) => {
            if let Some((width, height)) = header_dimensions(bytes) {
                limits.check_pixels(width, height, &format!("image {width}x{height}"))?;
            }
            return Err(FilterError::InvalidImage(format!("{}: {e}", format.name())));
        }
        Err(e) => return Err(from_image_error(e, format)),
    };
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

/// Width and height from a PNG, GIF or BMP header, or a JPEG frame header.
pub fn header_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le16 = |at: usize| {
        Some(u32::from(u16::from_le_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let le32 = |at: usize| {
        Some(i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?).unsigned_abs())
    };
    let be16 = |at: usize| {
        Some(u32::from(u16::from_be_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if bytes.starts_with(b"BM") {
        return Some((le32(18)?, le32(22)?));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the marker segments to the first start-of-frame.
        let mut at = 2;
        while at + 4 <= bytes.len() {
            if bytes[at] != 0xFF {
                return None;
            }
            let marker = bytes[at + 1];
            let len = be16(at + 2)? as usize;
            let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if sof {
                return Some((be16(at + 7)?, be16(at + 5)?));
            }
            at += 2 + len;
        }
    }
    None
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
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
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

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, RgbImage};

    #[test]
    fn header_dimensions_agree_with_the_decoders() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(37, 23));
        for format in [
            ImageFormat::Png,
            ImageFormat::Gif,
            ImageFormat::Bmp,
            ImageFormat::Jpeg,
        ] {
            let mut bytes = Vec::new();
            image
                .write_to(&mut Cursor::new(&mut bytes), format)
                .expect("encode");
            assert_eq!(header_dimensions(&bytes), Some((37, 23)), "{format:?}");
        }
        assert_eq!(header_dimensions(b"nothing"), None);
        assert_eq!(header_dimensions(b"\x89PNG\r\n\x1a\n"), None);
    }
}
