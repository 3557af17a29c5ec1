//! image-filter's op list (`ops=grayscale,blur:2,…`), and each parsed op's
//! own range check.
#![no_main]
use image_pipeline::Op;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(ops) = Op::parse_list(text) {
        for op in &ops {
            let _ = op.validate();
        }
    }
});
