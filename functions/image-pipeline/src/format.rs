//! The image formats the function speaks, by name and MIME type.

use crate::error::FilterError;
use image::ImageFormat;

/// An image format the function decodes and encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF (first frame when decoding).
    Gif,
    /// WebP (lossless when encoding).
    WebP,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
}

impl Format {
    /// Every format, in the order documented.
    pub const ALL: [Format; 6] = [
        Format::Png,
        Format::Jpeg,
        Format::Gif,
        Format::WebP,
        Format::Bmp,
        Format::Tiff,
    ];

    /// The name used in query strings and JSON (`png`, `jpeg`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Tiff => "image/tiff",
        }
    }

    /// Parses a format name (`jpg` and `tif` accepted too, any case).
    pub fn parse(name: &str) -> Result<Format, FilterError> {
        let lower = name.to_ascii_lowercase();
        let found = match lower.as_str() {
            "jpg" => Some(Format::Jpeg),
            "tif" => Some(Format::Tiff),
            other => Format::ALL.into_iter().find(|f| f.name() == other),
        };
        found.ok_or_else(|| {
            FilterError::InvalidOutput(format!(
                "unknown output format `{name}`: expected one of png, jpeg, gif, webp, bmp, tiff"
            ))
        })
    }

    /// The format of a detected `image` format, if the function speaks it.
    pub fn from_image(format: ImageFormat) -> Result<Format, FilterError> {
        match format {
            ImageFormat::Png => Ok(Format::Png),
            ImageFormat::Jpeg => Ok(Format::Jpeg),
            ImageFormat::Gif => Ok(Format::Gif),
            ImageFormat::WebP => Ok(Format::WebP),
            ImageFormat::Bmp => Ok(Format::Bmp),
            ImageFormat::Tiff => Ok(Format::Tiff),
            other => Err(FilterError::UnsupportedFormat(format!(
                "{} images are not supported: send PNG, JPEG, GIF, WebP, BMP or TIFF",
                other.extensions_str().first().unwrap_or(&"this kind of")
            ))),
        }
    }

    /// The `image` crate's format.
    pub fn to_image(self) -> ImageFormat {
        match self {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Gif => ImageFormat::Gif,
            Format::WebP => ImageFormat::WebP,
            Format::Bmp => ImageFormat::Bmp,
            Format::Tiff => ImageFormat::Tiff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Ok(f));
            assert_eq!(Format::from_image(f.to_image()), Ok(f));
        }
        assert_eq!(Format::parse("JPG"), Ok(Format::Jpeg));
        assert_eq!(Format::parse("tif"), Ok(Format::Tiff));
        assert!(matches!(
            Format::parse("heic"),
            Err(FilterError::InvalidOutput(m)) if m.contains("heic") && m.contains("webp")
        ));
    }
}
