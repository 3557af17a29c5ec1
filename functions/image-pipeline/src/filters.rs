//! The pixel filters the `image` crate does not provide in the form the
//! function documents: ITU-R 601-2 grayscale, sepia, a separable Gaussian
//! blur, the unsharp mask and 3x3 convolutions. They work on 8-bit
//! interleaved pixels, leave alpha alone (except blur, which blurs it like
//! every channel) and are written as straight loops over rows so the
//! compiler vectorizes them (SIMD128 on wasm).

use crate::kernels;
use image::{DynamicImage, GrayAlphaImage, GrayImage, ImageBuffer, Luma, LumaA};

/// An 8-bit interleaved pixel buffer.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    /// Pixels, row by row, `channels` bytes each.
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Bytes per pixel (1 to 4).
    pub channels: usize,
}

/// The image in 8 bits per channel, keeping its channels (gray stays gray,
/// alpha stays); 16-bit and float images are reduced to 8 bits.
pub fn to_8bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// Runs `f` over the 8-bit buffer of `image` and rebuilds an image of the
/// same layout from the bytes it returns.
pub fn map_8bit(image: DynamicImage, f: impl FnOnce(Plane<'_>) -> Vec<u8>) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    map_8bit_resized(image, width, height, f)
}

/// Like [`map_8bit`] for a function returning a `width` × `height` buffer.
pub fn map_8bit_resized(
    image: DynamicImage,
    width: u32,
    height: u32,
    f: impl FnOnce(Plane<'_>) -> Vec<u8>,
) -> DynamicImage {
    let image = to_8bit(image);
    let plane = Plane {
        data: image.as_bytes(),
        width: image.width() as usize,
        height: image.height() as usize,
        channels: usize::from(image.color().channel_count()),
    };
    let out = f(plane);
    let rebuilt = match image {
        DynamicImage::ImageLuma8(_) => {
            ImageBuffer::from_raw(width, height, out).map(DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageLumaA8(_) => {
            ImageBuffer::from_raw(width, height, out).map(DynamicImage::ImageLumaA8)
        }
        DynamicImage::ImageRgb8(_) => {
            ImageBuffer::from_raw(width, height, out).map(DynamicImage::ImageRgb8)
        }
        _ => ImageBuffer::from_raw(width, height, out).map(DynamicImage::ImageRgba8),
    };
    rebuilt.expect("filters return a buffer of the input's size")
}

/// ITU-R 601-2 luma of one RGB pixel: `(R*299 + G*587 + B*114) / 1000`.
#[inline]
pub fn luma_601(r: u32, g: u32, b: u32) -> u32 {
    (r * 299 + g * 587 + b * 114) / 1000
}

/// [`luma_601`] of 8-bit channels without a division: for every `x` up to
/// 255,000, `x / 1000 == ((x >> 3) * 33555) >> 22` (checked exhaustively in
/// the tests), and the product fits in `u32`, so wasm's SIMD128 and AVX2
/// both vectorize it (a `u32` division by 1000 has no vector form on wasm).
#[inline(always)]
fn luma_601_u8(r: u8, g: u8, b: u8) -> u8 {
    let x = u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114;
    (((x >> 3) * 33_555) >> 22) as u8
}

/// Pixels per step of the 8-bit grayscale loops: a fixed-size block the
/// compiler unrolls and vectorizes, with one loop check per block.
const GRAY_BLOCK: usize = 16;

/// Turns packed pixels of `CHANNELS` bytes (RGB first) into pixels of
/// `OUT` bytes (the luma, then alpha when `OUT` is 2) in place, and gives
/// back the unused end of the buffer. In place because a fresh instance's
/// new linear memory is paid in page faults: a second 12-megapixel buffer
/// cost more than the arithmetic.
fn luma_in_place<const CHANNELS: usize, const OUT: usize>(buf: &mut Vec<u8>) {
    let pixels = buf.len() / CHANNELS;
    let mut block = [0u8; 4 * GRAY_BLOCK];
    let mut i = 0;
    // Each block is read whole before any of it is written; writes never
    // run ahead of reads (OUT <= CHANNELS).
    while i + GRAY_BLOCK <= pixels {
        let src = &mut block[..CHANNELS * GRAY_BLOCK];
        src.copy_from_slice(&buf[i * CHANNELS..(i + GRAY_BLOCK) * CHANNELS]);
        let dst = &mut buf[i * OUT..(i + GRAY_BLOCK) * OUT];
        for j in 0..GRAY_BLOCK {
            let p = &src[j * CHANNELS..(j + 1) * CHANNELS];
            dst[j * OUT] = luma_601_u8(p[0], p[1], p[2]);
            if OUT == 2 {
                dst[j * OUT + 1] = p[3];
            }
        }
        i += GRAY_BLOCK;
    }
    for k in i..pixels {
        let mut p = [0u8; 4];
        p[..CHANNELS].copy_from_slice(&buf[k * CHANNELS..(k + 1) * CHANNELS]);
        buf[k * OUT] = luma_601_u8(p[0], p[1], p[2]);
        if OUT == 2 {
            buf[k * OUT + 1] = p[3];
        }
    }
    buf.truncate(pixels * OUT);
    buf.shrink_to_fit();
}

/// Grayscale by ITU-R 601-2 luma; alpha kept; gray images unchanged.
pub fn grayscale(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => image,
        DynamicImage::ImageRgb8(rgb) => {
            let (w, h) = rgb.dimensions();
            let mut luma = rgb.into_raw();
            luma_in_place::<3, 1>(&mut luma);
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, luma).expect("w*h pixels"))
        }
        DynamicImage::ImageRgba8(rgba) => {
            let (w, h) = rgba.dimensions();
            let mut out = rgba.into_raw();
            luma_in_place::<4, 2>(&mut out);
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(w, h, out).expect("w*h pixels"))
        }
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba16();
            let (w, h) = rgba.dimensions();
            let out: Vec<u16> = rgba
                .pixels()
                .flat_map(|p| {
                    let [r, g, b, a] = p.0;
                    [luma_601(u32::from(r), u32::from(g), u32::from(b)) as u16, a]
                })
                .collect();
            DynamicImage::ImageLumaA16(
                ImageBuffer::<LumaA<u16>, _>::from_raw(w, h, out).expect("w*h pixels"),
            )
        }
        other => {
            let rgb = other.to_rgb16();
            let (w, h) = rgb.dimensions();
            let out: Vec<u16> = rgb
                .pixels()
                .map(|p| {
                    let [r, g, b] = p.0;
                    luma_601(u32::from(r), u32::from(g), u32::from(b)) as u16
                })
                .collect();
            DynamicImage::ImageLuma16(
                ImageBuffer::<Luma<u16>, _>::from_raw(w, h, out).expect("w*h pixels"),
            )
        }
    }
}

/// Sepia tone (the common 0.393/0.769/0.189 matrix), alpha kept; gray images become RGB.
pub fn sepia(image: DynamicImage) -> DynamicImage {
    let has_alpha = image.color().has_alpha();
    let (w, h) = (image.width(), image.height());
    let tone = |r: f32, g: f32, b: f32| {
        let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        [
            c(0.393 * r + 0.769 * g + 0.189 * b),
            c(0.349 * r + 0.686 * g + 0.168 * b),
            c(0.272 * r + 0.534 * g + 0.131 * b),
        ]
    };
    if has_alpha {
        let mut rgba = image.to_rgba8();
        for p in rgba.pixels_mut() {
            let [r, g, b, a] = p.0;
            let [r, g, b] = tone(f32::from(r), f32::from(g), f32::from(b));
            p.0 = [r, g, b, a];
        }
        DynamicImage::ImageRgba8(rgba)
    } else {
        let mut rgb = image.to_rgb8();
        for p in rgb.pixels_mut() {
            let [r, g, b] = p.0;
            p.0 = tone(f32::from(r), f32::from(g), f32::from(b));
        }
        debug_assert_eq!(rgb.dimensions(), (w, h));
        DynamicImage::ImageRgb8(rgb)
    }
}

/// The normalized 1-D Gaussian of standard deviation `sigma`, radius `ceil(3σ)`.
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil().max(1.0) as i32;
    let two_sigma_sq = 2.0 * f64::from(sigma) * f64::from(sigma);
    let weights: Vec<f64> = (-radius..=radius)
        .map(|i| (-f64::from(i * i) / two_sigma_sq).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    weights.iter().map(|w| (w / sum) as f32).collect()
}

/// Separable Gaussian blur of every channel, edges clamped. Rows are
/// blurred horizontally into f32 rows kept in a ring of `2r+1` (the only
/// working memory besides the output), and each output row is the weighted
/// sum of the ring: one rounding, so every output is within 0.5 (plus f32
/// error) of the exact 2-D convolution.
pub fn gaussian_blur(plane: Plane<'_>, sigma: f32) -> Vec<u8> {
    let kernel = gaussian_kernel(sigma);
    let radius = kernel.len() / 2;
    let Plane {
        data,
        width,
        height,
        channels: c,
    } = plane;
    let row_len = width * c;
    let taps = kernel.len();
    let mut ring = kernels::RowRing::new(taps, row_len);
    let mut padded = vec![0f32; (width + 2 * radius) * c];
    let mut acc = vec![0f32; row_len];
    let mut out = vec![0u8; data.len()];

    let mut horizontal = |y: usize, slot: &mut [f32]| {
        let src = &data[y * row_len..(y + 1) * row_len];
        let (left, rest) = padded.split_at_mut(radius * c);
        let (middle, right) = rest.split_at_mut(row_len);
        for px in left.chunks_exact_mut(c) {
            kernels::to_floats(px, &src[..c]);
        }
        kernels::to_floats(middle, src);
        for px in right.chunks_exact_mut(c) {
            kernels::to_floats(px, &src[row_len - c..]);
        }
        kernels::symmetric_taps(slot, &padded, &kernel, c);
    };

    for (y, dst) in out.chunks_exact_mut(row_len).enumerate() {
        let sources: Vec<usize> = (0..taps)
            .map(|k| (y + k).saturating_sub(radius).min(height - 1))
            .collect();
        for &sy in &sources {
            ring.ensure(sy, |slot| horizontal(sy, slot));
        }
        let rows: Vec<&[f32]> = sources.iter().map(|&sy| ring.row(sy)).collect();
        kernels::weighted_rows(&mut acc, &rows, &kernel);
        kernels::to_bytes(dst, &acc);
    }
    out
}

/// Whether channel `i` of a pixel with `channels` channels is alpha.
#[inline]
fn is_alpha(i: usize, channels: usize) -> bool {
    (channels == 2 || channels == 4) && i % channels == channels - 1
}

/// Unsharp mask: `in + amount * (in - blur(in, sigma))` on color channels; alpha kept.
pub fn unsharp_mask(plane: Plane<'_>, sigma: f32, amount: f32) -> Vec<u8> {
    let blurred = gaussian_blur(plane, sigma);
    plane
        .data
        .iter()
        .zip(&blurred)
        .enumerate()
        .map(|(i, (&v, &b))| {
            if is_alpha(i, plane.channels) {
                v
            } else {
                let v = f32::from(v);
                (v + amount * (v - f32::from(b))).round().clamp(0.0, 255.0) as u8
            }
        })
        .collect()
}

/// 3x3 Laplacian (edge detection).
pub const LAPLACIAN: [f32; 9] = [-1.0, -1.0, -1.0, -1.0, 8.0, -1.0, -1.0, -1.0, -1.0];
/// 3x3 emboss.
pub const EMBOSS: [f32; 9] = [-2.0, -1.0, 0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 2.0];

/// 3x3 convolution of the color channels (edges clamped, result clamped to
/// 0..=255); alpha kept.
pub fn convolve3x3(plane: Plane<'_>, kernel: &[f32; 9]) -> Vec<u8> {
    let Plane {
        data,
        width,
        height,
        channels: c,
    } = plane;
    let mut out = vec![0u8; data.len()];
    let at = |x: usize, y: usize, ch: usize| f32::from(data[(y * width + x) * c + ch]);
    for y in 0..height {
        let rows = [y.saturating_sub(1), y, (y + 1).min(height - 1)];
        for x in 0..width {
            let cols = [x.saturating_sub(1), x, (x + 1).min(width - 1)];
            for ch in 0..c {
                let i = (y * width + x) * c + ch;
                if is_alpha(ch, c) {
                    out[i] = data[i];
                    continue;
                }
                let mut sum = 0.0;
                for (ky, &sy) in rows.iter().enumerate() {
                    for (kx, &sx) in cols.iter().enumerate() {
                        sum += kernel[ky * 3 + kx] * at(sx, sy, ch);
                    }
                }
                out[i] = sum.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_free_luma_is_exact_for_every_8bit_sum() {
        for x in 0..=255_000u32 {
            assert_eq!(((x >> 3) * 33_555) >> 22, x / 1000, "x = {x}");
        }
        for (r, g, b) in [(0, 0, 0), (255, 255, 255), (1, 2, 3), (200, 13, 99)] {
            assert_eq!(
                u32::from(luma_601_u8(r, g, b)),
                luma_601(u32::from(r), u32::from(g), u32::from(b))
            );
        }
    }

    #[test]
    fn block_and_tail_pixels_get_the_same_luma() {
        // 16-pixel blocks plus a 5-pixel tail, RGB and RGBA.
        let rgb: Vec<u8> = (0..21 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let mut luma = rgb.clone();
        luma_in_place::<3, 1>(&mut luma);
        assert_eq!(luma.len(), 21);
        for (p, &l) in rgb.chunks_exact(3).zip(&luma) {
            assert_eq!(
                u32::from(l),
                luma_601(p[0].into(), p[1].into(), p[2].into())
            );
        }
        let rgba: Vec<u8> = (0..21 * 4).map(|i| (i * 53 % 256) as u8).collect();
        let mut la = rgba.clone();
        luma_in_place::<4, 2>(&mut la);
        assert_eq!(la.len(), 42);
        for (p, l) in rgba.chunks_exact(4).zip(la.chunks_exact(2)) {
            assert_eq!(
                u32::from(l[0]),
                luma_601(p[0].into(), p[1].into(), p[2].into())
            );
            assert_eq!(l[1], p[3]);
        }
    }

    /// A deterministic synthetic image with edges, gradients and noise.
    fn synthetic(width: usize, height: usize, channels: usize) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        (0..width * height * channels)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let (x, y) = ((i / channels) % width, (i / channels) / width);
                let base = if (x / 7 + y / 5) % 2 == 0 { 40 } else { 200 };
                (base + (seed % 40) as usize - 20 + x % 13) as u8
            })
            .collect()
    }

    /// The exact 2-D Gaussian convolution in f64, edges clamped.
    fn reference_blur(data: &[u8], w: usize, h: usize, c: usize, sigma: f64) -> Vec<f64> {
        let r = (3.0 * sigma).ceil() as i64;
        let weights: Vec<f64> = (-r..=r)
            .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
            .collect();
        let total: f64 = weights.iter().sum::<f64>().powi(2);
        let mut out = vec![0.0; data.len()];
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                for ch in 0..c {
                    let mut sum = 0.0;
                    for (j, wy) in weights.iter().enumerate() {
                        let sy = (y + j as i64 - r).clamp(0, h as i64 - 1) as usize;
                        for (i, wx) in weights.iter().enumerate() {
                            let sx = (x + i as i64 - r).clamp(0, w as i64 - 1) as usize;
                            sum += wy * wx * f64::from(data[(sy * w + sx) * c + ch]);
                        }
                    }
                    out[(y as usize * w + x as usize) * c + ch] = sum / total;
                }
            }
        }
        out
    }

    #[test]
    fn blur_is_the_gaussian_of_the_requested_sigma() {
        for (sigma, channels) in [(0.8, 1), (2.0, 3), (3.5, 4)] {
            let (w, h) = (61, 47);
            let data = synthetic(w, h, channels);
            let plane = Plane {
                data: &data,
                width: w,
                height: h,
                channels,
            };
            let got = gaussian_blur(plane, sigma);
            let want = reference_blur(&data, w, h, channels, f64::from(sigma));
            let worst = got
                .iter()
                .zip(&want)
                .map(|(g, w)| (f64::from(*g) - w).abs())
                .fold(0.0, f64::max);
            assert!(worst <= 0.51, "sigma {sigma}: worst deviation {worst}");
            // A blur of another sigma is measurably different: the check has teeth.
            let other = reference_blur(&data, w, h, channels, f64::from(sigma) * 1.5);
            let off = got
                .iter()
                .zip(&other)
                .map(|(g, w)| (f64::from(*g) - w).abs())
                .fold(0.0, f64::max);
            assert!(
                off > 2.0,
                "sigma {sigma} indistinguishable from {}",
                sigma * 1.5
            );
        }
    }

    #[test]
    fn kernel_is_normalized_and_three_sigma_wide() {
        let k = gaussian_kernel(2.0);
        assert_eq!(k.len(), 13);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(k[0], k[12]);
    }

    #[test]
    fn flat_images_stay_flat_under_every_kernel() {
        let data = vec![77u8; 9 * 8 * 3];
        let plane = Plane {
            data: &data,
            width: 9,
            height: 8,
            channels: 3,
        };
        assert!(gaussian_blur(plane, 2.0).iter().all(|&v| v == 77));
        assert!(unsharp_mask(plane, 1.0, 2.0).iter().all(|&v| v == 77));
        assert!(convolve3x3(plane, &LAPLACIAN).iter().all(|&v| v == 0));
        assert!(convolve3x3(plane, &EMBOSS).iter().all(|&v| v == 77));
    }

    #[test]
    fn alpha_survives_sharpen_and_convolutions() {
        let data: Vec<u8> = (0..5 * 5)
            .flat_map(|i| [i as u8 * 9, 10, 250, 128])
            .collect();
        let plane = Plane {
            data: &data,
            width: 5,
            height: 5,
            channels: 4,
        };
        for out in [
            unsharp_mask(plane, 1.0, 1.0),
            convolve3x3(plane, &LAPLACIAN),
        ] {
            assert!(out.chunks_exact(4).all(|p| p[3] == 128));
        }
    }
}
