//! cloudfn image-filter: the Image Processing App as a function. An upload
//! is decoded, a pipeline of filters runs over it and the result is encoded
//! (the pipeline is [`image_pipeline`], re-exported here).
//!
//! The HTTP rules in [`http_face`] compile and test natively; `component` is
//! the thin wasm glue exporting `cloudfn:image/filter` and
//! `wasi:http/incoming-handler`.

pub use image_pipeline::*;

pub mod http_face;

// The generated bindings use `unsafe` and export symbols by name.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
