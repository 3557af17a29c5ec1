//! The decode path behind image-filter's limits: any bytes are an image
//! within the limits, or an error; never a panic, never past the limits.
#![no_main]
use image_pipeline::{Limits, Op, OutputOptions, decode};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_pixels: 1 << 20,
    max_bytes: 1 << 20,
};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(info) = decode::info(bytes, &LIMITS) {
        assert!(u64::from(info.width) * u64::from(info.height) <= LIMITS.max_pixels);
    }
    if let Ok(out) =
        image_pipeline::apply(bytes, &[Op::Grayscale], OutputOptions::default(), &LIMITS)
    {
        assert!(u64::from(out.width) * u64::from(out.height) <= LIMITS.max_pixels);
    }
});
