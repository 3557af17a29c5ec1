//! The Spin manifest parser: any text is a manifest or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

fuzz_target!(|text: &str| {
    let _ =
        cloudfn_manifest::Manifest::parse(Path::new("spin.toml"), text, PathBuf::from("."));
});
