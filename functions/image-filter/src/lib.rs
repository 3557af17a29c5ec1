//! cloudfn image-filter: the Image Processing App as a function. An upload
//! is decoded (PNG, JPEG, GIF, WebP, BMP, TIFF) within a pixel and a byte
//! limit checked on the header, a pipeline of filters runs over it, and
//! the result is encoded (PNG, JPEG, GIF, WebP lossless, BMP, TIFF).
//!
//! The pure modules compile and test natively; `component` is the thin
//! wasm glue exporting `cloudfn:image/filter` and `wasi:http/incoming-handler`.

pub mod decode;
pub mod error;
pub mod filters;
pub mod format;
pub mod http_face;
pub mod kernels;
pub mod ops;
pub mod pipeline;
pub mod resample;

// The generated bindings use `unsafe` and export symbols by name.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;

pub use decode::{Info, Limits};
pub use error::FilterError;
pub use format::Format;
pub use ops::Op;
pub use pipeline::{Output, OutputOptions, apply};
