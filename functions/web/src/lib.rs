//! cloudfn `web`: the front end of the four apps (home, image lab, drive,
//! inverted index, sentiment dashboard), served from assets embedded at
//! compile time (see `build.rs`).
//!
//! Routed at `/...` in the manifest, so every function's own route wins by
//! Spin's longest-match rule. [`site`] holds the serving rules in plain Rust;
//! the component glue is compiled for wasm only.

pub mod site;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
