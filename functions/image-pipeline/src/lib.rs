//! cloudfn image-pipeline: the Image Processing App's pipeline as a plain
//! library. An image is decoded (PNG, JPEG, GIF, WebP, BMP, TIFF) within a
//! pixel and a byte limit checked on the header, a list of filters runs
//! over it, and the result is encoded (PNG, JPEG, GIF, WebP lossless, BMP,
//! TIFF).
//!
//! It exports no component: `image-filter` puts its HTTP face over it,
//! `image-thumbnail` its storage-event face, and the host's benchmark runs
//! it natively beside the component.

pub mod decode;
pub mod error;
pub mod filters;
pub mod format;
pub mod kernels;
pub mod ops;
pub mod pipeline;
pub mod resample;
pub mod thumbnail;

pub use decode::{Info, Limits};
pub use error::FilterError;
pub use format::Format;
pub use ops::Op;
pub use pipeline::{Output, OutputOptions, apply};
