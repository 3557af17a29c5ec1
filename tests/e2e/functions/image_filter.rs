//! `image-filter` end to end: through `cloudfn up` over HTTP (pipelines,
//! every bad input with its status, the limits as Spin variables) and
//! `cloudfn invoke` of the typed export.

use crate::common::{Host, HostBuilder, Reply, invoke_product_ok, product_wasm};
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage};
use serde_json::Value;
use std::time::{Duration, Instant};

fn host() -> Host {
    HostBuilder::product().start()
}

fn post(host: &Host, path: &str, body: &[u8]) -> Reply {
    host.post_as(path, "application/octet-stream", body)
}

/// A deterministic RGB test card.
fn card(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
        Rgb([(v >> 3) as u8, (v >> 11) as u8, (x * 7 + y * 3) as u8])
    })
}

fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image.clone())
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .expect("encode fixture");
    out
}

/// A PNG header claiming 100000x100000 RGBA pixels, with one tiny IDAT.
fn png_bomb() -> Vec<u8> {
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
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01,
        ],
    );
    chunk(b"IEND", &[]);
    out
}

#[test]
fn image_filter_http_runs_a_pipeline_exactly() {
    let host = host();
    let source = card(64, 48);
    let reply = post(
        &host,
        "/image/filter?ops=grayscale,rotate:90&format=png",
        &encoded(&source, ImageFormat::Png),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    let out = image::load_from_memory_with_format(&reply.bytes, ImageFormat::Png)
        .expect("a PNG")
        .to_luma8();
    assert_eq!(out.dimensions(), (48, 64));
    for (x, y, p) in source.enumerate_pixels() {
        let [r, g, b] = p.0.map(u32::from);
        let luma = ((r * 299 + g * 587 + b * 114) / 1000) as u8;
        assert_eq!(out.get_pixel(47 - y, x).0[0], luma, "at {x},{y}");
    }

    // The output format defaults to the input's; JPEG quality is honoured.
    let jpeg = encoded(&source, ImageFormat::Jpeg);
    let same = post(&host, "/image/filter?ops=blur:2,resize:32x32:cover", &jpeg);
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        image::load_from_memory(&same.bytes)
            .expect("jpeg")
            .dimensions(),
        (32, 32)
    );
    let small = post(&host, "/image/filter?format=jpeg&quality=5", &jpeg);
    let large = post(&host, "/image/filter?format=jpeg&quality=100", &jpeg);
    assert!(
        small.body_len < large.body_len,
        "{} vs {}",
        small.body_len,
        large.body_len
    );
    for format in ["png", "gif", "webp", "bmp", "tiff"] {
        let reply = post(
            &host,
            &format!("/image/filter?ops=sepia&format={format}"),
            &jpeg,
        );
        assert_eq!(reply.status, 200, "{format}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some(&*format!("image/{format}"))
        );
        assert_eq!(
            image::load_from_memory(&reply.bytes)
                .expect(format)
                .dimensions(),
            (64, 48)
        );
    }
}

#[test]
fn regression_gray_with_alpha_encodes_as_tiff() {
    // A grayscale of a PNG with alpha, or of a GIF, is gray with alpha,
    // which the TIFF encoder refused: a 500. TIFF now carries it as RGBA.
    let host = host();
    let translucent = image::RgbaImage::from_fn(16, 12, |x, y| {
        image::Rgba([(x * 15) as u8, (y * 20) as u8, 90, (x * 16 + y) as u8])
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(translucent.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .expect("encode fixture");
    let gif = encoded(&card(16, 12), ImageFormat::Gif);
    for (label, input) in [("png with alpha", png), ("gif", gif)] {
        let reply = post(&host, "/image/filter?ops=grayscale&format=tiff", &input);
        assert_eq!(reply.status, 200, "{label}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("image/tiff"));
        let out = image::load_from_memory_with_format(&reply.bytes, ImageFormat::Tiff)
            .expect(label)
            .into_rgba8();
        assert_eq!(out.dimensions(), (16, 12), "{label}");
        for p in out.pixels() {
            assert!(
                p[0] == p[1] && p[1] == p[2],
                "{label}: gray in every channel, {p:?}"
            );
        }
        if label == "png with alpha" {
            for (x, y, p) in translucent.enumerate_pixels() {
                let [r, g, b, a] = p.0.map(u32::from);
                let luma = ((r * 299 + g * 587 + b * 114) / 1000) as u8;
                assert_eq!(
                    out.get_pixel(x, y).0,
                    [luma, luma, luma, a as u8],
                    "at {x},{y}"
                );
            }
        }
    }
}

#[test]
fn image_filter_http_info_and_ops() {
    let host = host();
    let info = post(
        &host,
        "/image/info",
        &encoded(&card(30, 20), ImageFormat::Png),
    );
    assert_eq!(info.status, 200, "{}", info.body);
    let json: Value = serde_json::from_str(&info.body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"format": "png", "content_type": "image/png", "width": 30, "height": 20, "color_type": "rgb8", "orientation": 1})
    );
    let ops = host.get("/image/ops");
    assert_eq!(ops.status, 200);
    assert_eq!(ops.header("content-type"), Some("application/json"));
    let json: Value = serde_json::from_str(&ops.body).expect("json");
    let names: Vec<&str> = json["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for name in ["grayscale", "sharpen", "resize", "crop", "auto-orient"] {
        assert!(names.contains(&name), "{name}");
    }
}

#[test]
fn image_filter_http_bad_input_gets_clear_errors() {
    let host = host();
    let png = encoded(&card(40, 30), ImageFormat::Png);
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "POST",
            "/image/filter?ops=sparkle",
            png.clone(),
            400,
            "unknown op `sparkle`",
        ),
        (
            "POST",
            "/image/filter?ops=blur:abc",
            png.clone(),
            400,
            "invalid op blur: `blur:abc`: sigma `abc` is not a number (form: blur:SIGMA, e.g. blur:2)",
        ),
        (
            "POST",
            "/image/filter?ops=resize:10",
            png.clone(),
            400,
            "(form: resize:WIDTHxHEIGHT[:FIT]",
        ),
        (
            "POST",
            "/image/filter?ops=crop:30:0:20x10",
            png.clone(),
            400,
            "reaches outside the 40x30 image",
        ),
        (
            "POST",
            "/image/filter?format=heic",
            png.clone(),
            400,
            "unknown output format `heic`",
        ),
        (
            "POST",
            "/image/filter?format=png&quality=80",
            png.clone(),
            400,
            "quality applies to jpeg output only",
        ),
        (
            "POST",
            "/image/filter",
            b"just some text".to_vec(),
            415,
            "not a recognised image",
        ),
        (
            "POST",
            "/image/filter",
            b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0".to_vec(),
            415,
            "ico images are not supported",
        ),
        (
            "POST",
            "/image/filter",
            png[..png.len() / 2].to_vec(),
            400,
            "invalid image: png",
        ),
        (
            "POST",
            "/image/info",
            Vec::new(),
            415,
            "not a recognised image",
        ),
        (
            "GET",
            "/image/filter",
            Vec::new(),
            405,
            "GET /image/filter is not allowed: use POST",
        ),
        (
            "POST",
            "/image/elsewhere",
            Vec::new(),
            404,
            "no such route /image/elsewhere",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let reply = host.request(method, path, &[], Some(&body));
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert!(
            reply.body.contains(message),
            "{method} {path}: {}",
            reply.body
        );
        assert!(
            !reply.body.contains("trap"),
            "{method} {path}: {}",
            reply.body
        );
    }
    let wrong = host.get("/image/info");
    assert_eq!(wrong.header("allow"), Some("POST"));

    // A decompression bomb is refused from its header, fast, with little memory.
    let started = Instant::now();
    let bomb = post(&host, "/image/filter?ops=grayscale", &png_bomb());
    assert_eq!(bomb.status, 413, "{}", bomb.body);
    assert_eq!(
        bomb.body.trim(),
        "image 100000x100000: 10000000000 pixels exceeds the limit of 50000000"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let (peak, line) =
        host.peak_memory_of(|l| l.contains("status=413") && l.contains("/image/filter"));
    assert!(peak < 8 << 20, "{line}");

    // The host answers the next request normally.
    let ok = post(&host, "/image/filter?ops=invert", &png);
    assert_eq!(ok.status, 200);
}

#[test]
fn image_filter_limits_are_spin_variables() {
    let host = HostBuilder::product()
        .env("SPIN_VARIABLE_IMAGE_MAX_PIXELS", "1000")
        .env("SPIN_VARIABLE_IMAGE_MAX_BODY_BYTES", "2048")
        .start();
    let small = encoded(&card(20, 20), ImageFormat::Png);
    assert!(small.len() < 2048);
    assert_eq!(post(&host, "/image/filter?ops=invert", &small).status, 200);
    let wide = encoded(&card(50, 21), ImageFormat::Bmp);
    let reply = post(&host, "/image/info", &wide[..]);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(
        reply.body.starts_with("body over the 2048 bytes limit"),
        "{}",
        reply.body
    );
    let many = encoded(
        &RgbImage::from_pixel(40, 30, Rgb([9, 99, 199])),
        ImageFormat::Png,
    );
    assert!(many.len() < 2048, "{}", many.len());
    let reply = post(&host, "/image/filter", &many);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(
        reply.body.trim(),
        "image 40x30: 1200 pixels exceeds the limit of 1000"
    );
    let reply = post(&host, "/image/filter?ops=resize:100x100:fill", &small);
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.body.trim(),
        "resize:100x100: 10000 pixels exceeds the limit of 1000"
    );
}

#[test]
fn image_filter_invoke_typed_exports() {
    let png = encoded(&card(6, 4), ImageFormat::Png);
    let bytes = format!(
        "[{}]",
        png.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
    );
    let run = |args: &[&str]| invoke_product_ok("image-filter", args);
    assert_eq!(
        run(&["info", &bytes]),
        "ok({format: png, width: 6, height: 4, color-type: rgb8, orientation: 1})\n"
    );
    let out = run(&[
        "apply",
        &bytes,
        "[grayscale, rotate(cw90), resize({width: 2, height: 3, fit: fill})]",
        "{format: some(bmp), quality: none}",
    ]);
    assert!(
        out.starts_with(
            "ok({format: bmp, content-type: \"image/bmp\", width: 2, height: 3, data: [66, 77,"
        ),
        "{out}"
    );
    let err = run(&[
        "apply",
        &bytes,
        "[blur(0.0)]",
        "{format: none, quality: none}",
    ]);
    assert_eq!(
        err,
        "err(invalid-op(\"invalid op blur: sigma must be a number in 0.1..=50, got 0 (form: blur:SIGMA, e.g. blur:2)\"))\n"
    );
    let err = run(&["info", "[1, 2, 3]"]);
    assert!(err.starts_with("err(unsupported-format("), "{err}");
}

/// `spin-config-bridge`, the component `spin.toml` composes in front of
/// image-filter on Spin: it must serve `wasi:config/store@0.2.0-rc.1` from
/// Spin's `wasi:config/store@0.2.0-draft-2024-09-27`. Linked here against
/// a draft store holding Spin-like variables, called through its rc.1 export.
#[test]
fn spin_config_bridge_serves_rc1_from_spins_draft_interface() {
    use wasmtime::component::{Component, ComponentType, Lift, Linker, Lower, ResourceTable};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    #[derive(ComponentType, Lift, Lower, Debug, PartialEq)]
    #[component(variant)]
    enum ConfigError {
        #[component(name = "upstream")]
        Upstream(String),
        #[component(name = "io")]
        Io(String),
    }
    struct State {
        ctx: WasiCtx,
        table: ResourceTable,
    }
    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }

    let wasm = product_wasm("spin_config_bridge");
    let engine = Engine::default();
    let component = Component::from_file(&engine, &wasm).expect("bridge component");
    let mut linker: Linker<State> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
    let mut draft = linker
        .instance("wasi:config/store@0.2.0-draft-2024-09-27")
        .expect("draft instance");
    draft
        .func_wrap("get", |_, (key,): (String,)| {
            Ok((match key.as_str() {
                "max_pixels" => Ok(Some("1234".to_owned())),
                "broken" => Err(ConfigError::Upstream("vault unreachable".to_owned())),
                _ => Ok(None),
            },))
        })
        .expect("get");
    draft
        .func_wrap("get-all", |_, (): ()| {
            Ok((Ok::<_, ConfigError>(vec![(
                "max_pixels".to_owned(),
                "1234".to_owned(),
            )]),))
        })
        .expect("get-all");
    let mut store = Store::new(
        &engine,
        State {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate");
    let store_export = instance
        .get_export_index(&mut store, None, "wasi:config/store@0.2.0-rc.1")
        .expect("rc.1 export");
    let get_index = instance
        .get_export_index(&mut store, Some(&store_export), "get")
        .expect("get export");
    let get = instance
        .get_typed_func::<(&str,), (Result<Option<String>, ConfigError>,)>(&mut store, &get_index)
        .expect("typed get");
    let mut call = |key: &str| get.call(&mut store, (key,)).expect("call").0;
    assert_eq!(call("max_pixels"), Ok(Some("1234".to_owned())));
    assert_eq!(call("absent"), Ok(None));
    assert_eq!(
        call("broken"),
        Err(ConfigError::Upstream("vault unreachable".to_owned()))
    );
}

/// The component decodes JPEG pixel for pixel as the native build does (the
/// decoder's IDCT and colour conversion run SIMD128 code on wasm, from
/// `vendor/zune-jpeg`, and AVX2 natively), on blocks that take each IDCT
/// path (flat: DC only; smooth: low frequencies; noisy: all), at qualities
/// from coarse to lossless-like.
#[test]
fn image_filter_decodes_jpeg_exactly_as_native_code() {
    let host = host();
    let photo = RgbImage::from_fn(203, 157, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
        match (x / 48 + y / 40) % 3 {
            0 => Rgb([90, 140, 200]),
            1 => Rgb([
                (x * 255 / 203) as u8,
                (y * 255 / 157) as u8,
                ((x + y) % 256) as u8,
            ]),
            _ => Rgb([noise as u8, (noise >> 8) as u8, (noise >> 16) as u8]),
        }
    });
    // Encoded here (image's encoder: 4:2:2) at qualities from coarse to lossless-like.
    for quality in [5, 25, 40, 60, 75, 90, 95, 100] {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode_image(&photo)
            .expect("encode");
        assert_decodes_as_native(&host, &jpeg, &format!("quality {quality}"));
    }
    // Pillow's 4:2:0 (the decoder's 2-D upsampler), 4:2:2, 4:4:4 and grayscale.
    let dir = crate::common::repo_root().join("tests/fixtures/jpeg");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/jpeg")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "{files:?}");
    for file in files {
        let jpeg = std::fs::read(&file).expect("read fixture");
        assert_decodes_as_native(&host, &jpeg, &file.display().to_string());
    }
}

/// Decodes `jpeg` in the component (to PNG) and natively; every pixel must agree.
fn assert_decodes_as_native(host: &Host, jpeg: &[u8], label: &str) {
    let reply = post(host, "/image/filter?format=png", jpeg);
    assert_eq!(reply.status, 200, "{label}: {}", reply.body);
    let component = image::load_from_memory_with_format(&reply.bytes, ImageFormat::Png)
        .expect("a PNG")
        .to_rgb8();
    let native = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .expect("native decode")
        .to_rgb8();
    assert_eq!(component.dimensions(), native.dimensions(), "{label}");
    let differing = component
        .pixels()
        .zip(native.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0, "{label}: {differing} pixels differ");
}
