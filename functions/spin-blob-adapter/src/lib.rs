//! `cloudfn:blob/store` for Spin: blobs as chunked values in Spin's
//! key-value store (`spin_sdk::key_value`). `spin.toml` composes this
//! component in front of `blob-upload` as a component dependency, so the
//! same `blob_upload.wasm` runs under `spin up`; `cloudfn up` supplies the
//! store natively and skips it. The layout is in [`layout`].

pub mod layout;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
