//! A pipeline: decode, apply the ops in order, encode.

use crate::decode::{self, Decoded, Limits};
use crate::error::FilterError;
use crate::filters::{self, EMBOSS, LAPLACIAN};
use crate::format::Format;
use crate::ops::{Fit, Op, Rotation};
use crate::resample;
use image::DynamicImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;

/// How to encode the result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// Output format; the input's when `None`.
    pub format: Option<Format>,
    /// JPEG quality 1..=100 ([`DEFAULT_QUALITY`] when `None`); JPEG only.
    pub quality: Option<u8>,
}

/// JPEG quality when none is asked for.
pub const DEFAULT_QUALITY: u8 = 85;

impl OutputOptions {
    /// Checks the options against the format they will encode.
    pub fn validate(&self, input: Format) -> Result<(), FilterError> {
        let format = self.format.unwrap_or(input);
        match self.quality {
            Some(q) if !(1..=100).contains(&q) => Err(FilterError::InvalidOutput(format!(
                "quality must be an integer in 1..=100, got {q}"
            ))),
            Some(_) if format != Format::Jpeg => Err(FilterError::InvalidOutput(format!(
                "quality applies to jpeg output only, not {} (webp is encoded lossless)",
                format.name()
            ))),
            _ => Ok(()),
        }
    }
}

/// An encoded result.
#[derive(Debug, Clone)]
pub struct Output {
    /// Format of `data`.
    pub format: Format,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded image.
    pub data: Vec<u8>,
}

/// Decodes `bytes`, applies `ops` in order and encodes the result.
pub fn apply(
    bytes: &[u8],
    ops: &[Op],
    output: OutputOptions,
    limits: &Limits,
) -> Result<Output, FilterError> {
    for op in ops {
        op.validate()?;
    }
    let Decoded {
        mut image,
        format,
        orientation,
    } = decode::decode(bytes, limits)?;
    output.validate(format)?;
    let mut rest = ops;
    while let Some((op, tail)) = rest.split_first() {
        // A blur right before a resize runs inside the resampler (one
        // composed filter, see `resample::resize_blurred`).
        if let (Op::Blur(sigma), Some(resize @ Op::Resize { .. })) = (op, tail.first())
            && is_8bit(&image)
        {
            image = resize_op(image, resize, Some(*sigma), limits)?;
            rest = &tail[1..];
            continue;
        }
        image = apply_op(image, op, orientation, limits)?;
        rest = tail;
    }
    let format_out = output.format.unwrap_or(format);
    let data = encode(
        &image,
        format_out,
        output.quality.unwrap_or(DEFAULT_QUALITY),
    )?;
    Ok(Output {
        format: format_out,
        width: image.width(),
        height: image.height(),
        data,
    })
}

/// Applies one op. `orientation` is the input's EXIF orientation.
pub fn apply_op(
    image: DynamicImage,
    op: &Op,
    orientation: Orientation,
    limits: &Limits,
) -> Result<DynamicImage, FilterError> {
    let (w, h) = (image.width(), image.height());
    Ok(match *op {
        Op::Grayscale => filters::grayscale(image),
        Op::Sepia => filters::sepia(image),
        Op::Invert => {
            let mut image = image;
            image.invert();
            image
        }
        Op::Brightness(delta) => image.brighten(delta),
        Op::Contrast(amount) => image.adjust_contrast(amount),
        Op::Blur(sigma) => filters::map_8bit(image, |p| filters::gaussian_blur(p, sigma)),
        Op::Sharpen { sigma, amount } => {
            filters::map_8bit(image, |p| filters::unsharp_mask(p, sigma, amount))
        }
        Op::EdgeDetect => filters::map_8bit(image, |p| filters::convolve3x3(p, &LAPLACIAN)),
        Op::Emboss => filters::map_8bit(image, |p| filters::convolve3x3(p, &EMBOSS)),
        Op::Rotate(Rotation::Cw90) => image.rotate90(),
        Op::Rotate(Rotation::Cw180) => image.rotate180(),
        Op::Rotate(Rotation::Cw270) => image.rotate270(),
        Op::FlipHorizontal => image.fliph(),
        Op::FlipVertical => image.flipv(),
        Op::Resize { .. } => resize_op(image, op, None, limits)?,
        Op::Thumbnail(side) => {
            if w.max(h) <= side {
                image
            } else {
                let (nw, nh) = contain(w, h, side, side);
                image.thumbnail_exact(nw, nh)
            }
        }
        Op::Crop {
            x,
            y,
            width,
            height,
        } => {
            let fits = u64::from(x) + u64::from(width) <= u64::from(w)
                && u64::from(y) + u64::from(height) <= u64::from(h);
            if !fits {
                return Err(FilterError::InvalidOp(format!(
                    "invalid op crop: the rectangle at {x},{y} of {width}x{height} reaches outside the {w}x{h} image (form: crop:X:Y:WIDTHxHEIGHT)"
                )));
            }
            image.crop_imm(x, y, width, height)
        }
        Op::AutoOrient => {
            let mut image = image;
            image.apply_orientation(orientation);
            image
        }
    })
}

/// Applies a `Resize` op, after a Gaussian blur of `blur` when given.
fn resize_op(
    image: DynamicImage,
    op: &Op,
    blur: Option<f32>,
    limits: &Limits,
) -> Result<DynamicImage, FilterError> {
    let Op::Resize { width, height, fit } = *op else {
        return Ok(image);
    };
    let (w, h) = (image.width(), image.height());
    let context = format!("resize:{width}x{height}");
    let (nw, nh) = match fit {
        Fit::Fill => (width, height),
        Fit::Contain => contain(w, h, width, height),
        Fit::Cover => {
            limits.check_pixels(width, height, &context)?;
            cover(w, h, width, height)
        }
    };
    limits.check_pixels(nw, nh, &context)?;
    let scaled = resize_exact(image, nw, nh, blur);
    Ok(match fit {
        Fit::Cover => scaled.crop_imm((nw - width) / 2, (nh - height) / 2, width, height),
        _ => scaled,
    })
}

fn is_8bit(image: &DynamicImage) -> bool {
    matches!(
        image,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_)
    )
}

/// Catmull-Rom resize to exactly `width` × `height`: our SIMD-friendly
/// resampler for 8-bit layouts, the `image` crate's for 16-bit and float.
fn resize_exact(image: DynamicImage, width: u32, height: u32, blur: Option<f32>) -> DynamicImage {
    if !is_8bit(&image) {
        let image = match blur {
            Some(sigma) => filters::map_8bit(image, |p| filters::gaussian_blur(p, sigma)),
            None => image,
        };
        return image.resize_exact(width, height, FilterType::CatmullRom);
    }
    if blur.is_none() && (width, height) == (image.width(), image.height()) {
        return image;
    }
    filters::map_8bit_resized(image, width, height, |p| {
        resample::resize_blurred(p, width as usize, height as usize, blur)
    })
}

/// The largest size with the aspect ratio of `w`×`h` inside `bw`×`bh` (each side at least 1).
pub fn contain(w: u32, h: u32, bw: u32, bh: u32) -> (u32, u32) {
    let (w, h, bw, bh) = (u64::from(w), u64::from(h), u64::from(bw), u64::from(bh));
    // Compare w/h with bw/bh exactly, in integers.
    if w * bh >= h * bw {
        let nh = ((h * bw + w / 2) / w).max(1);
        (bw as u32, nh.min(bh) as u32)
    } else {
        let nw = ((w * bh + h / 2) / h).max(1);
        (nw.min(bw) as u32, bh as u32)
    }
}

/// The smallest size with the aspect ratio of `w`×`h` that covers `bw`×`bh`.
pub fn cover(w: u32, h: u32, bw: u32, bh: u32) -> (u32, u32) {
    let (w, h, bw, bh) = (u64::from(w), u64::from(h), u64::from(bw), u64::from(bh));
    if w * bh >= h * bw {
        let nw = (w * bh).div_ceil(h).max(bw);
        (nw.min(u64::from(u32::MAX)) as u32, bh as u32)
    } else {
        let nh = (h * bw).div_ceil(w).max(bh);
        (bw as u32, nh.min(u64::from(u32::MAX)) as u32)
    }
}

/// Encodes `image` as `format`, converting the pixel layout where the
/// format needs it (JPEG has no alpha, GIF and WebP are 8-bit, ...).
pub fn encode(image: &DynamicImage, format: Format, quality: u8) -> Result<Vec<u8>, FilterError> {
    let mut out = Vec::new();
    let fail =
        |e: image::ImageError| FilterError::Other(format!("encoding {}: {e}", format.name()));
    match format {
        Format::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut out, quality);
            let converted;
            let image = match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => image,
                DynamicImage::ImageLumaA8(_)
                | DynamicImage::ImageLuma16(_)
                | DynamicImage::ImageLumaA16(_) => {
                    converted = DynamicImage::ImageLuma8(image.to_luma8());
                    &converted
                }
                _ => {
                    converted = DynamicImage::ImageRgb8(image.to_rgb8());
                    &converted
                }
            };
            image.write_with_encoder(encoder).map_err(fail)?;
        }
        Format::Png | Format::Tiff => {
            let converted;
            let image = match (format, image) {
                // 32-bit float has no PNG layout; TIFF takes it but few readers do.
                (_, DynamicImage::ImageRgb32F(_)) => {
                    converted = DynamicImage::ImageRgb16(image.to_rgb16());
                    &converted
                }
                (_, DynamicImage::ImageRgba32F(_)) => {
                    converted = DynamicImage::ImageRgba16(image.to_rgba16());
                    &converted
                }
                // The TIFF encoder has no gray-with-alpha layout: the gray
                // goes into all three colour channels and the alpha is kept.
                (Format::Tiff, DynamicImage::ImageLumaA8(_)) => {
                    converted = DynamicImage::ImageRgba8(image.to_rgba8());
                    &converted
                }
                (Format::Tiff, DynamicImage::ImageLumaA16(_)) => {
                    converted = DynamicImage::ImageRgba16(image.to_rgba16());
                    &converted
                }
                _ => image,
            };
            image
                .write_to(&mut std::io::Cursor::new(&mut out), format.to_image())
                .map_err(fail)?;
        }
        Format::Gif => {
            DynamicImage::ImageRgba8(image.to_rgba8())
                .write_to(&mut std::io::Cursor::new(&mut out), format.to_image())
                .map_err(fail)?;
        }
        Format::WebP | Format::Bmp => {
            let eight = filters::to_8bit(image.clone());
            eight
                .write_to(&mut std::io::Cursor::new(&mut out), format.to_image())
                .map_err(fail)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_keeps_the_ratio_inside_the_box() {
        assert_eq!(contain(4000, 3000, 1024, 1024), (1024, 768));
        assert_eq!(contain(3000, 4000, 1024, 1024), (768, 1024));
        assert_eq!(contain(100, 100, 800, 600), (600, 600));
        assert_eq!(contain(10000, 1, 100, 100), (100, 1));
    }

    /// Every layout the decoders produce, 3x2 pixels with varied values.
    fn every_layout() -> Vec<DynamicImage> {
        let rgba = image::RgbaImage::from_fn(3, 2, |x, y| {
            image::Rgba([
                (x * 80) as u8,
                (y * 120) as u8,
                200,
                (60 + x * 60 + y * 10) as u8,
            ])
        });
        let rgba = DynamicImage::ImageRgba8(rgba);
        vec![
            DynamicImage::ImageLuma8(rgba.to_luma8()),
            DynamicImage::ImageLumaA8(rgba.to_luma_alpha8()),
            DynamicImage::ImageRgb8(rgba.to_rgb8()),
            rgba.clone(),
            DynamicImage::ImageLuma16(rgba.to_luma16()),
            DynamicImage::ImageLumaA16(rgba.to_luma_alpha16()),
            DynamicImage::ImageRgb16(rgba.to_rgb16()),
            DynamicImage::ImageRgba16(rgba.to_rgba16()),
            DynamicImage::ImageRgb32F(rgba.to_rgb32f()),
            DynamicImage::ImageRgba32F(rgba.to_rgba32f()),
        ]
    }

    #[test]
    fn regression_every_layout_encodes_in_every_format() {
        // TIFF refused gray with alpha (a grayscale of a PNG with alpha, or of a GIF): a 500.
        for image in every_layout() {
            for format in Format::ALL {
                let encoded = encode(&image, format, DEFAULT_QUALITY)
                    .unwrap_or_else(|e| panic!("{:?} as {}: {e}", image.color(), format.name()));
                let decoded = image::load_from_memory_with_format(&encoded, format.to_image())
                    .unwrap_or_else(|e| panic!("{:?} as {}: {e}", image.color(), format.name()));
                assert_eq!((decoded.width(), decoded.height()), (3, 2));
            }
        }
    }

    #[test]
    fn tiff_keeps_gray_with_alpha_as_rgba() {
        let gray = image::GrayAlphaImage::from_fn(3, 2, |x, y| {
            image::LumaA([(x * 90 + y) as u8, (y * 200 + 5) as u8])
        });
        let encoded = encode(
            &DynamicImage::ImageLumaA8(gray.clone()),
            Format::Tiff,
            DEFAULT_QUALITY,
        )
        .expect("tiff");
        let decoded = image::load_from_memory_with_format(&encoded, image::ImageFormat::Tiff)
            .expect("decodes")
            .into_rgba8();
        for (x, y, p) in gray.enumerate_pixels() {
            let [l, a] = p.0;
            assert_eq!(decoded.get_pixel(x, y).0, [l, l, l, a], "at {x},{y}");
        }
    }

    #[test]
    fn cover_keeps_the_ratio_over_the_box() {
        assert_eq!(cover(4000, 3000, 800, 800), (1067, 800));
        assert_eq!(cover(3000, 4000, 800, 800), (800, 1067));
        assert_eq!(cover(100, 100, 800, 600), (800, 800));
    }
}
