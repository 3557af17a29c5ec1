//! cloudfn `sentiment`: VADER scoring of social-media texts (parity with
//! vaderSentiment 3.3.2) as a WebAssembly component exporting
//! `cloudfn:sentiment/scorer` and `wasi:http/incoming-handler`.
//!
//! The scoring itself is [`sentiment_score`], shared with the social-feed
//! consumer; [`http_face`] is the HTTP protocol, plain Rust tested natively;
//! the component glue lives in `component` and is compiled for wasm only.

pub mod http_face;
pub use sentiment_score::scoring;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
