//! cloudfn `index-reduce`: the reducer of the inverted index as a component,
//! exporting `cloudfn:mapreduce/reducer` and `wasi:http/incoming-handler`
//! (`POST /index/reduce`). The logic lives in the `inverted-index` crate.

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
