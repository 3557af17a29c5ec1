//! Thumbnails of stored images (the Image Processing App's storage tier):
//! which blobs get one, under which key, and the image itself.

use crate::decode::Limits;
use crate::error::FilterError;
use crate::format::Format;
use crate::ops::Op;
use crate::pipeline::{self, Output, OutputOptions};

/// Thumbnails live under this prefix; blobs under it get none (a
/// thumbnail of a thumbnail would start an endless chain).
pub const PREFIX: &str = "thumbnails/";

/// The longer side of a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 256;

/// JPEG quality of a thumbnail.
pub const QUALITY: u8 = 80;

/// The content type thumbnails are stored with.
pub const CONTENT_TYPE: &str = "image/jpeg";

/// Each Cloud Drive user's files live under this prefix and their id
/// (`users/<id>/…`, the layout of `drive_users::namespace`, a crate too
/// heavy to pull in here); a user's thumbnails stay in their own namespace.
pub const USERS: &str = "users/";

/// The key of the thumbnail of the blob `key`: `thumbnails/<key>.jpg`
/// (`users/<id>/thumbnails/<key>.jpg` for a user's file), or `None` when
/// `key` is itself under [`PREFIX`] there.
pub fn key_for(key: &str) -> Option<String> {
    let (namespace, rest) = match key.strip_prefix(USERS).and_then(|k| k.split_once('/')) {
        Some((id, rest)) => (&key[..USERS.len() + id.len() + 1], rest),
        None => ("", key),
    };
    (!rest.starts_with(PREFIX)).then(|| format!("{namespace}{PREFIX}{rest}.jpg"))
}

/// Whether the first bytes of a blob are those of an image the pipeline
/// decodes (PNG, JPEG, GIF, WebP, BMP, TIFF), by its signature alone.
pub fn is_image(head: &[u8]) -> bool {
    image::guess_format(head)
        .ok()
        .is_some_and(|format| Format::from_image(format).is_ok())
}

/// The thumbnail of an encoded image: upright (its EXIF orientation
/// applied), its longer side shrunk to [`MAX_SIDE`] (never enlarged), as a
/// JPEG of quality [`QUALITY`].
pub fn make(bytes: &[u8], limits: &Limits) -> Result<Output, FilterError> {
    let output = OutputOptions {
        format: Some(Format::Jpeg),
        quality: Some(QUALITY),
    };
    pipeline::apply(
        bytes,
        &[Op::AutoOrient, Op::Thumbnail(MAX_SIDE)],
        output,
        limits,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, RgbImage};
    use std::io::Cursor;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(image)
            .write_to(&mut out, ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    }

    #[test]
    fn keys_of_thumbnails() {
        assert_eq!(
            key_for("photos/cat.png").as_deref(),
            Some("thumbnails/photos/cat.png.jpg")
        );
        assert_eq!(key_for("thumbnails/photos/cat.png.jpg"), None);
        assert_eq!(
            key_for("users/0a1b/photos/cat.png").as_deref(),
            Some("users/0a1b/thumbnails/photos/cat.png.jpg"),
            "a user's thumbnail stays in their namespace"
        );
        assert_eq!(key_for("users/0a1b/thumbnails/cat.png.jpg"), None);
        assert_eq!(
            key_for("thumbnailsx").as_deref(),
            Some("thumbnails/thumbnailsx.jpg")
        );
    }

    #[test]
    fn images_are_told_by_their_signature() {
        assert!(is_image(&png(2, 2)[..16]));
        assert!(is_image(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"));
        assert!(!is_image(b"hello, world"));
        assert!(!is_image(b""));
        // A format the image crate knows but the pipeline does not decode.
        assert!(!is_image(b"qoif\0\0\0\x01\0\0\0\x01\x04\0"));
    }

    #[test]
    fn thumbnails_shrink_the_longer_side_and_never_enlarge() {
        let out = make(&png(1024, 512), &Limits::default()).expect("thumbnail");
        assert_eq!(
            (out.format, out.width, out.height),
            (Format::Jpeg, 256, 128)
        );
        assert_eq!(
            image::guess_format(&out.data).expect("format"),
            ImageFormat::Jpeg
        );
        let small = make(&png(40, 30), &Limits::default()).expect("thumbnail");
        assert_eq!((small.width, small.height), (40, 30));
    }

    #[test]
    fn thumbnails_keep_the_limits() {
        let limits = Limits {
            max_pixels: 1000,
            max_bytes: 1 << 20,
        };
        assert_eq!(
            make(&png(100, 100), &limits)
                .expect_err("too many pixels")
                .status(),
            413
        );
        assert_eq!(
            make(b"\x89PNG\r\n\x1a\ntruncated", &Limits::default())
                .expect_err("corrupt")
                .status(),
            400
        );
    }
}
