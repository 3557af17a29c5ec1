//! cloudfn `sentiment`: VADER scoring of social-media texts (parity with
//! vaderSentiment 3.3.2) as a WebAssembly component exporting
//! `cloudfn:sentiment/scorer` and `wasi:http/incoming-handler`.
//!
//! [`scoring`] and [`http_face`] are plain Rust, tested natively; the
//! component glue lives in `component` and is compiled for wasm only.

pub mod http_face;
pub mod lexicon;
mod lexicon_hash;
pub mod rule_words;
pub mod scoring;
pub mod vader;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
