//! `image-filter` side by side, in one run, on one 12-megapixel JPEG:
//! decode → grayscale → blur σ=2 → resize to 1024 wide → encode JPEG q85,
//! in the component (wasmtime, fresh instance per round, the typed `apply`
//! export; once as `cloudfn invoke` runs it, without epoch checks, once as
//! `cloudfn up` does, with them), the same Rust code built natively, and Pillow (PyPI) running
//! the same pipeline. Also reports the component's peak linear memory.
//! Run with `cargo bench -p cloudfn --bench image` (needs
//! `pip install pillow`). Not run in CI.

#[allow(dead_code)]
#[path = "../../../tests/e2e/common.rs"]
mod common;
mod engines;

use cloudfn_engine::Runtime;
use cloudfn_engine::limits::Limits;
use cloudfn_manifest::Manifest;
use engines::ENGINES;
use image::{DynamicImage, Rgb, RgbImage};
use image_filter::ops::Fit;
use image_filter::{Format, Op, OutputOptions};
use std::process::Command;
use std::time::{Duration, Instant};

/// Typed bindings of the filter, as an embedder would call it.
mod bindings {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/image"],
        world: "cloudfn:image/typed-filter",
        exports: { default: async },
    });
}

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;
const ROUNDS: usize = 5;

/// A deterministic photo-like 4000x3000 picture: smooth multi-octave value
/// noise in three channels plus fine grain, so the JPEG carries realistic
/// detail (an all-flat image would flatter every decoder). Encoded by
/// Pillow at quality 90 with its defaults (baseline, 4:2:0 chroma
/// subsampling), as a phone camera would.
fn photo() -> Vec<u8> {
    fn hash(x: i64, y: i64, seed: i64) -> f32 {
        let mut h = (x.wrapping_mul(374_761_393)
            ^ y.wrapping_mul(668_265_263)
            ^ seed.wrapping_mul(2_147_483_647)) as u64;
        h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
        ((h ^ (h >> 16)) & 0xFFFF) as f32 / 65535.0
    }
    fn value_noise(x: f32, y: f32, seed: i64) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let (xi, yi) = (x0 as i64, y0 as i64);
        let top = hash(xi, yi, seed) * (1.0 - sx) + hash(xi + 1, yi, seed) * sx;
        let bottom = hash(xi, yi + 1, seed) * (1.0 - sx) + hash(xi + 1, yi + 1, seed) * sx;
        top * (1.0 - sy) + bottom * sy
    }
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let channel = |seed: i64| {
            let mut v = 0.0;
            let mut scale = 1.0 / 600.0;
            let mut weight = 0.55;
            for octave in 0..6 {
                v += weight * value_noise(fx * scale, fy * scale, seed * 10 + octave);
                scale *= 2.3;
                weight *= 0.5;
            }
            let grain = hash(i64::from(x), i64::from(y), seed + 99) - 0.5;
            ((v * 255.0) + grain * 18.0).clamp(0.0, 255.0) as u8
        };
        Rgb([channel(1), channel(2), channel(3)])
    });
    let png = std::env::temp_dir().join("cloudfn-image-bench.png");
    let jpeg = std::env::temp_dir().join("cloudfn-image-bench.jpg");
    DynamicImage::ImageRgb8(image)
        .save(&png)
        .expect("write the raster");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], quality=90)",
        ])
        .arg(&png)
        .arg(&jpeg)
        .status()
        .expect("python3 with Pillow");
    assert!(status.success(), "Pillow could not encode the input");
    std::fs::read(&jpeg).expect("read the input")
}

fn best(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[0]
}

fn main() {
    let input = photo();
    println!(
        "input: {WIDTH}x{HEIGHT} JPEG q90 4:2:0, {:.1} MB; pipeline: grayscale, blur 2, resize to 1024 wide, JPEG q85",
        input.len() as f64 / 1e6
    );

    // The component, through wasmtime: a fresh instance per round, in both engine configurations.
    let manifest = Manifest::load(common::product_manifest()).expect("product manifest");
    let engines = ENGINES.map(|(_, interruption)| {
        let runtime =
            Runtime::with_interruption(Limits::default(), None, interruption).expect("engine");
        let component = runtime
            .load(&manifest, "image-filter")
            .expect("image-filter component");
        let pre =
            bindings::TypedFilterPre::new(component.instance_pre.clone()).expect("typed exports");
        (runtime, component, pre)
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    use bindings::exports::cloudfn::image::filter as wit;
    let wit_ops = [
        wit::Op::Grayscale,
        wit::Op::Blur(2.0),
        wit::Op::Resize(wit::ResizeBox {
            width: 1024,
            height: 65535,
            fit: wit::Fit::Contain,
        }),
    ];
    let wit_output = wit::OutputOptions {
        format: Some(wit::Format::Jpeg),
        quality: Some(85),
    };
    let run_component = |engine: usize, ops: &[wit::Op]| {
        let (runtime, component, pre) = &engines[engine];
        tokio.block_on(async {
            let mut store = runtime.new_store(component).expect("store");
            let usage = store.data().limiter.usage();
            let filter = pre.instantiate_async(&mut store).await.expect("instance");
            let out = filter
                .cloudfn_image_filter()
                .call_apply(&mut store, &input, ops, wit_output)
                .await
                .expect("apply call")
                .expect("pipeline");
            (out.data, usage.peak())
        })
    };
    let mut wasm_runs = [Vec::new(), Vec::new()];
    let mut peak = 0;
    let mut wasm_outs = [Vec::new(), Vec::new()];
    for (engine, runs) in wasm_runs.iter_mut().enumerate() {
        for _ in 0..ROUNDS {
            let started = Instant::now();
            (wasm_outs[engine], peak) = run_component(engine, &wit_ops);
            runs.push(started.elapsed());
        }
    }

    // The same Rust code, native.
    let ops = [
        Op::Grayscale,
        Op::Blur(2.0),
        Op::Resize {
            width: 1024,
            height: 65535,
            fit: Fit::Contain,
        },
    ];
    let output = OutputOptions {
        format: Some(Format::Jpeg),
        quality: Some(85),
    };
    let mut native_runs = Vec::new();
    let mut native_out = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        native_out = image_filter::apply(&input, &ops, output, &image_filter::Limits::default())
            .expect("native pipeline")
            .data;
        native_runs.push(started.elapsed());
    }
    for wasm_out in &wasm_outs {
        assert_eq!(wasm_out, &native_out, "component and native outputs differ");
    }

    // Pillow, same bytes, same pipeline, best of the same rounds.
    let path = std::env::temp_dir().join("cloudfn-image-bench.jpg");
    let script = format!(
        r#"
import io, time, PIL
from PIL import Image, ImageFilter
data = open({path:?}, "rb").read()
best = None
for _ in range({ROUNDS}):
    t = time.perf_counter()
    im = Image.open(io.BytesIO(data)).convert("L").filter(ImageFilter.GaussianBlur(2))
    im = im.resize((1024, round(im.height * 1024 / im.width)), Image.BICUBIC)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print(best, PIL.__version__, im.size[0], im.size[1])
"#,
        path = path.display().to_string()
    );
    let result = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3");
    assert!(
        result.status.success(),
        "python: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8_lossy(&result.stdout);
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let python = Duration::from_secs_f64(fields[0].parse().expect("seconds"));
    let pillow_version = fields[1];
    let size = image::load_from_memory(&native_out)
        .expect("output")
        .to_luma8()
        .dimensions();
    assert_eq!(
        size,
        (fields[2].parse().expect("w"), fields[3].parse().expect("h"))
    );

    // Where the time goes: decoding alone (a 16-pixel thumbnail keeps the
    // rest negligible), then with grayscale, then the whole pipeline.
    let stages: [(&str, Vec<wit::Op>, Vec<Op>); 3] = [
        (
            "decode (+ 16 px thumbnail)",
            vec![wit::Op::Thumbnail(16)],
            vec![Op::Thumbnail(16)],
        ),
        (
            "decode + grayscale",
            vec![wit::Op::Grayscale, wit::Op::Thumbnail(16)],
            vec![Op::Grayscale, Op::Thumbnail(16)],
        ),
        ("whole pipeline", wit_ops.to_vec(), ops.to_vec()),
    ];
    let mut breakdown = Vec::new();
    for (name, wit_stage, stage) in &stages {
        let time = |f: &dyn Fn()| {
            best(
                (0..3)
                    .map(|_| {
                        let t = Instant::now();
                        f();
                        t.elapsed()
                    })
                    .collect(),
            )
        };
        let wasm = [0, 1].map(|engine| {
            time(&|| {
                run_component(engine, wit_stage);
            })
        });
        let nat = time(&|| {
            image_filter::apply(&input, stage, output, &image_filter::Limits::default())
                .expect("native pipeline");
        });
        breakdown.push((*name, wasm, nat));
    }

    let native = best(native_runs);
    let wasm = wasm_runs.map(best);
    println!(
        "output: {}x{} JPEG, {} bytes; best of {ROUNDS} rounds",
        size.0,
        size.1,
        native_out.len()
    );
    println!("{:<46} {:>9}", "implementation", "ms");
    let pillow = format!("Pillow {pillow_version} (python3)");
    let labels = engines::labels("apply");
    for (name, d) in labels
        .iter()
        .map(String::as_str)
        .zip(wasm)
        .chain([("same Rust code, native", native), (&*pillow, python)])
    {
        println!("{name:<46} {:>9.1}", d.as_secs_f64() * 1e3);
    }
    for (name, wasm) in labels.iter().zip(wasm) {
        println!(
            "{name}: / native {:.2} (target <= 1.5); Pillow / component {:.2} (target > 1)",
            wasm.as_secs_f64() / native.as_secs_f64(),
            python.as_secs_f64() / wasm.as_secs_f64()
        );
    }
    println!("where the time goes, best of 3 (ms): no epochs   epochs   native   ratios");
    for (name, [plain, epochs], nat) in breakdown {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  {:<34} {:>9.1} {:>8.1} {:>8.1}   {:.2} {:.2}",
            name,
            ms(plain),
            ms(epochs),
            ms(nat),
            ms(plain) / ms(nat),
            ms(epochs) / ms(nat)
        );
    }
    let budget = 4 * 3 * u64::from(WIDTH) * u64::from(HEIGHT);
    println!(
        "component peak linear memory: {:.1} MiB (budget 4 B x pixels x 3 = {:.1} MiB)",
        peak as f64 / f64::from(1 << 20),
        budget as f64 / f64::from(1 << 20)
    );
}
