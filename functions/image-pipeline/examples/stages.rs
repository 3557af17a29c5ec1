//! Times each stage of the benchmark pipeline on one image file, to see
//! where time goes natively and under wasmtime:
//! `cargo run --release -p image-pipeline --example stages -- IMAGE.jpg` or
//! `wasmtime run --dir /tmp target/wasm32-wasip2/release/examples/stages.wasm /tmp/IMAGE.jpg`.

use image_pipeline::decode::{self, Limits};
use image_pipeline::ops::Fit;
use image_pipeline::pipeline::{apply_op, encode};
use image_pipeline::{Format, Op};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: stages IMAGE")?;
    let bytes = std::fs::read(path)?;
    let limits = Limits::default();
    let mut t = Instant::now();
    let mut lap = |name: &str| {
        println!("{name:<10} {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
        t = Instant::now();
    };
    let decoded = decode::decode(&bytes, &limits)?;
    lap("decode");
    let mut image = decoded.image;
    for op in [
        Op::Grayscale,
        Op::Blur(2.0),
        Op::Resize {
            width: 1024,
            height: 65535,
            fit: Fit::Contain,
        },
    ] {
        image = apply_op(image, &op, decoded.orientation, &limits)?;
        lap(op.spec().name);
    }
    let out = encode(&image, Format::Jpeg, 85)?;
    lap("encode");
    println!("{} bytes", out.len());
    Ok(())
}
