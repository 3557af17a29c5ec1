//! cloudfn `index-map`: the mapper of the inverted index as a component,
//! exporting `cloudfn:mapreduce/mapper` and `wasi:http/incoming-handler`
//! (`POST /index/map`, and `POST /index/build` for a whole index in one
//! request). The logic lives in the `inverted-index` crate.

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
