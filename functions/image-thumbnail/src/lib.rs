//! cloudfn `image-thumbnail`: the Image Processing App's storage tier, a
//! Redis-triggered Spin component (`fermyon:spin/inbound-redis`) on the
//! `blob-created` channel. For each stored image it writes a thumbnail
//! (upright, longer side 256 px, JPEG) under `thumbnails/<key>.jpg` in the
//! same blob store, with the image-filter pipeline ([`image_pipeline`]).
//!
//! What cannot become a thumbnail (not an image, undecodable, over the
//! limits, a thumbnail itself, a blob deleted or replaced since) is logged
//! and acknowledged: retrying cannot help. A store that fails is an error,
//! so the platform retries the delivery.

pub mod plan;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
