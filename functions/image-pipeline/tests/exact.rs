//! Exact checks of the pipeline, natively: grayscale per pixel, geometry,
//! resize fits, crop bounds, format round trips, EXIF orientation, and the
//! limits (a 100000x100000 PNG header is refused without a large allocation).

use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use image_pipeline::ops::{Fit, Rotation};
use image_pipeline::{FilterError, Format, Limits, Op, OutputOptions, apply};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Tracks the bytes allocated by each thread of this test binary, to show
/// that refusing an oversized header allocates nothing image-sized.
struct Counting;
thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

#[allow(unsafe_code)]
// SAFETY: forwards to the system allocator unchanged and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.with(|l| l.get()) + layout.size();
        LIVE.with(|l| l.set(live));
        PEAK.with(|p| p.set(p.get().max(live)));
        // SAFETY: same layout as given.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|l| l.set(l.get().saturating_sub(layout.size())));
        // SAFETY: allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A deterministic RGB image with every kind of pixel.
fn rgb(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
        Rgb([(v >> 3) as u8, (v >> 11) as u8, (x * 7 + y * 3) as u8])
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .expect("encode fixture");
    out
}

fn png(image: &DynamicImage) -> Vec<u8> {
    encode(image, ImageFormat::Png)
}

fn run(input: &[u8], ops: &[Op]) -> DynamicImage {
    let out = apply(input, ops, OutputOptions::default(), &Limits::default()).expect("pipeline");
    image::load_from_memory(&out.data).expect("decodable output")
}

#[test]
fn grayscale_is_itu_601_luma_per_pixel() {
    let source = rgb(97, 61);
    let out = run(
        &png(&DynamicImage::ImageRgb8(source.clone())),
        &[Op::Grayscale],
    );
    let gray = out.as_luma8().expect("grayscale of RGB is 8-bit gray");
    for (x, y, p) in source.enumerate_pixels() {
        let [r, g, b] = p.0.map(u32::from);
        let expected = (r * 299 + g * 587 + b * 114) / 1000;
        assert_eq!(u32::from(gray.get_pixel(x, y).0[0]), expected, "at {x},{y}");
    }
    // Alpha is kept beside the luma.
    let rgba = RgbaImage::from_fn(5, 4, |x, y| Rgba([200, 100, 50, (x * 40 + y) as u8]));
    let out = run(&png(&DynamicImage::ImageRgba8(rgba)), &[Op::Grayscale]);
    let la = out.as_luma_alpha8().expect("gray with alpha");
    let luma = (200u32 * 299 + 100 * 587 + 50 * 114) / 1000;
    assert_eq!(la.get_pixel(3, 2).0, [luma as u8, 122]);
}

#[test]
fn rotations_and_flips_move_every_pixel_exactly() {
    let source = rgb(13, 7);
    let input = png(&DynamicImage::ImageRgb8(source.clone()));
    let (w, h) = source.dimensions();
    let check = |op: Op, dims: (u32, u32), at: &dyn Fn(u32, u32) -> (u32, u32)| {
        let out = run(&input, &[op]).to_rgb8();
        assert_eq!(out.dimensions(), dims, "{op:?}");
        for (x, y, p) in source.enumerate_pixels() {
            let (nx, ny) = at(x, y);
            assert_eq!(out.get_pixel(nx, ny), p, "{op:?} at {x},{y}");
        }
    };
    check(Op::Rotate(Rotation::Cw90), (h, w), &|x, y| (h - 1 - y, x));
    check(Op::Rotate(Rotation::Cw180), (w, h), &|x, y| {
        (w - 1 - x, h - 1 - y)
    });
    check(Op::Rotate(Rotation::Cw270), (h, w), &|x, y| (y, w - 1 - x));
    check(Op::FlipHorizontal, (w, h), &|x, y| (w - 1 - x, y));
    check(Op::FlipVertical, (w, h), &|x, y| (x, h - 1 - y));
    // Four quarter turns are the identity.
    let back = run(&input, &[Op::Rotate(Rotation::Cw90); 4]).to_rgb8();
    assert_eq!(back, source);
}

#[test]
fn resize_dimensions_for_each_fit() {
    let input = png(&DynamicImage::ImageRgb8(rgb(400, 300)));
    let dims = |ops: &[Op]| run(&input, ops).dimensions();
    let resize = |width, height, fit| Op::Resize { width, height, fit };
    assert_eq!(dims(&[resize(200, 200, Fit::Contain)]), (200, 150));
    assert_eq!(dims(&[resize(200, 200, Fit::Cover)]), (200, 200));
    assert_eq!(dims(&[resize(200, 200, Fit::Fill)]), (200, 200));
    assert_eq!(dims(&[resize(800, 100, Fit::Contain)]), (133, 100));
    assert_eq!(dims(&[resize(1000, 1000, Fit::Contain)]), (1000, 750));
    assert_eq!(dims(&[Op::Thumbnail(100)]), (100, 75));
    assert_eq!(
        dims(&[Op::Thumbnail(1000)]),
        (400, 300),
        "thumbnail never enlarges"
    );
    // Cover crops evenly: a left/right split image stays split in the middle.
    let halves = RgbImage::from_fn(
        400,
        100,
        |x, _| if x < 200 { Rgb([0; 3]) } else { Rgb([255; 3]) },
    );
    let out = run(
        &png(&DynamicImage::ImageRgb8(halves)),
        &[resize(100, 100, Fit::Cover)],
    )
    .to_rgb8();
    assert!(out.get_pixel(10, 50).0[0] < 10 && out.get_pixel(89, 50).0[0] > 245);
}

#[test]
fn resize_beyond_the_pixel_limit_is_too_large() {
    let input = png(&DynamicImage::ImageRgb8(rgb(40, 30)));
    let limits = Limits {
        max_pixels: 10_000,
        ..Limits::default()
    };
    let op = Op::Resize {
        width: 200,
        height: 200,
        fit: Fit::Fill,
    };
    let err = apply(&input, &[op], OutputOptions::default(), &limits).unwrap_err();
    assert_eq!(err.status(), 413);
    assert_eq!(
        err.to_string(),
        "resize:200x200: 40000 pixels exceeds the limit of 10000"
    );
}

#[test]
fn crop_cuts_exactly_and_refuses_rectangles_outside_the_image() {
    let source = rgb(50, 40);
    let input = png(&DynamicImage::ImageRgb8(source.clone()));
    let out = run(
        &input,
        &[Op::Crop {
            x: 10,
            y: 5,
            width: 30,
            height: 35,
        }],
    )
    .to_rgb8();
    assert_eq!(out.dimensions(), (30, 35));
    assert_eq!(out.get_pixel(0, 0), source.get_pixel(10, 5));
    assert_eq!(out.get_pixel(29, 34), source.get_pixel(39, 39));
    for (x, y, w, h) in [
        (21, 0, 30, 10),
        (0, 1, 50, 40),
        (50, 0, 1, 1),
        (u32::MAX, 0, 1, 1),
    ] {
        let op = Op::Crop {
            x,
            y,
            width: w,
            height: h,
        };
        let err = apply(&input, &[op], OutputOptions::default(), &Limits::default()).unwrap_err();
        assert!(
            matches!(&err, FilterError::InvalidOp(m) if m.contains("reaches outside the 50x40 image")),
            "{op:?}: {err}"
        );
    }
}

#[test]
fn every_format_round_trips() {
    // 200 distinct colors: within GIF's palette, so GIF is lossless too.
    let source = RgbaImage::from_fn(31, 17, |x, y| {
        let i = (x + y * 31) % 200;
        Rgba([(i * 5 % 256) as u8, (i * 3) as u8, (255 - i) as u8, 255])
    });
    let input = png(&DynamicImage::ImageRgba8(source.clone()));
    for format in Format::ALL {
        let options = OutputOptions {
            format: Some(format),
            quality: (format == Format::Jpeg).then_some(95),
        };
        let out = apply(&input, &[], options, &Limits::default()).expect("encode");
        assert_eq!(out.format, format);
        let back = image::load_from_memory(&out.data)
            .expect("decode")
            .to_rgba8();
        assert_eq!(back.dimensions(), (31, 17), "{format:?}");
        let worst = back
            .as_raw()
            .iter()
            .zip(source.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        let mean = back
            .as_raw()
            .iter()
            .zip(source.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / source.as_raw().len() as f64;
        if format == Format::Jpeg {
            assert!(mean < 6.0, "jpeg mean error {mean}");
        } else {
            assert_eq!(worst, 0, "{format:?} is lossless");
        }
        // Decoding the output again through the function reports the same format.
        let info = image_pipeline::decode::info(&out.data, &Limits::default()).expect("info");
        assert_eq!((info.format, info.width, info.height), (format, 31, 17));
    }
}

#[test]
fn output_format_defaults_to_the_input_and_quality_is_jpeg_only() {
    let input = encode(&DynamicImage::ImageRgb8(rgb(20, 20)), ImageFormat::Bmp);
    let out = apply(
        &input,
        &[Op::Invert],
        OutputOptions::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.format, Format::Bmp);
    assert!(out.data.starts_with(b"BM"));
    let options = OutputOptions {
        format: Some(Format::Png),
        quality: Some(80),
    };
    let err = apply(&input, &[], options, &Limits::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("quality applies to jpeg output only"),
        "{err}"
    );
    // Lower quality, smaller file.
    let jpeg = |q| {
        let options = OutputOptions {
            format: Some(Format::Jpeg),
            quality: Some(q),
        };
        apply(&input, &[], options, &Limits::default())
            .unwrap()
            .data
            .len()
    };
    assert!(jpeg(10) < jpeg(95));
}

/// A JPEG carrying an EXIF orientation tag.
fn jpeg_with_orientation(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    let plain = encode(image, ImageFormat::Jpeg);
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(
        &u16::try_from(exif.len() + 2)
            .expect("short segment")
            .to_be_bytes(),
    );
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

#[test]
fn auto_orient_applies_the_exif_orientation() {
    // Left half black, right half white, 40x20; orientation 6 = rotate 90 clockwise to display.
    let source = RgbImage::from_fn(
        40,
        20,
        |x, _| if x < 20 { Rgb([0; 3]) } else { Rgb([255; 3]) },
    );
    let input = jpeg_with_orientation(&DynamicImage::ImageRgb8(source), 6);
    let info = image_pipeline::decode::info(&input, &Limits::default()).unwrap();
    assert_eq!(info.orientation, 6);
    let out = run(&input, &[Op::AutoOrient]).to_luma8();
    assert_eq!(out.dimensions(), (20, 40));
    assert!(
        out.get_pixel(10, 5).0[0] < 30,
        "top is the former left (black)"
    );
    assert!(
        out.get_pixel(10, 35).0[0] > 225,
        "bottom is the former right (white)"
    );
    // Without the op, the pixels stay as stored.
    assert_eq!(run(&input, &[Op::Invert]).dimensions(), (40, 20));
}

/// A PNG whose header claims `width` x `height` RGBA pixels, followed by a
/// tiny IDAT (one compressed row) and IEND: a decompression bomb's shape.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(
            &u32::try_from(data.len())
                .expect("small chunk")
                .to_be_bytes(),
        );
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib: a stored block of 1 zero byte (a row's filter byte), then Adler-32.
    chunk(
        &mut out,
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01,
        ],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn a_100000_by_100000_png_header_is_refused_without_a_large_allocation() {
    let input = png_header(100_000, 100_000);
    let started = std::time::Instant::now();
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let err = apply(
        &input,
        &[Op::Grayscale],
        OutputOptions::default(),
        &Limits::default(),
    )
    .unwrap_err();
    let grew = PEAK.with(Cell::get).saturating_sub(before);
    assert_eq!(err.status(), 413);
    assert_eq!(
        err.to_string(),
        "image 100000x100000: 10000000000 pixels exceeds the limit of 50000000"
    );
    // 10^10 RGBA pixels would be 40 GB; refusing them takes less than a megabyte.
    assert!(grew < 1 << 20, "allocated {grew} bytes");
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    let err = image_pipeline::decode::info(&input, &Limits::default()).unwrap_err();
    assert_eq!(err.status(), 413);
}

#[test]
fn bad_bytes_are_named_errors_not_panics() {
    let valid = png(&DynamicImage::ImageRgb8(rgb(64, 64)));
    let truncated = &valid[..valid.len() / 2];
    let cases: [(&[u8], u16, &str); 5] = [
        (b"hello, not an image", 415, "not a recognised image"),
        (b"", 415, "not a recognised image"),
        (truncated, 400, "invalid image: png"),
        (&png_header(0, 10), 400, "invalid image"),
        (
            b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0",
            415,
            "ico images are not supported",
        ),
    ];
    for (bytes, status, message) in cases {
        let err = apply(bytes, &[], OutputOptions::default(), &Limits::default()).unwrap_err();
        assert_eq!(err.status(), status, "{err}");
        assert!(err.to_string().contains(message), "{err}");
    }
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let err = apply(&valid, &[], OutputOptions::default(), &limits).unwrap_err();
    assert_eq!(err.status(), 413);
    assert!(
        err.to_string().contains("bytes exceeds the limit of 100"),
        "{err}"
    );
}

#[test]
fn every_op_runs_on_every_layout() {
    let layouts = [
        DynamicImage::ImageRgb8(rgb(24, 16)),
        DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(rgb(24, 16)).to_rgba8()),
        DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(rgb(24, 16)).to_luma8()),
        DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(rgb(24, 16)).to_rgb16()),
    ];
    for spec in image_pipeline::ops::CATALOG {
        let op = Op::parse(spec.example).unwrap();
        let op = match op {
            Op::Crop { .. } => Op::Crop {
                x: 2,
                y: 3,
                width: 10,
                height: 8,
            },
            other => other,
        };
        for image in &layouts {
            let out = apply(
                &png(image),
                &[op],
                OutputOptions::default(),
                &Limits::default(),
            )
            .unwrap_or_else(|e| panic!("{op:?} on {:?}: {e}", image.color()));
            assert!(image::load_from_memory(&out.data).is_ok());
        }
    }
}
