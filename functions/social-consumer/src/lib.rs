//! cloudfn `social-consumer`: the Social Media Analytics App's consumer, a
//! Redis-triggered Spin component (`fermyon:spin/inbound-redis`) on the
//! `feed` channel. Each message is a kept tweet ([`social_feed::feed`]): it
//! is scored with the sentiment function's own scorer and folded into its
//! minute's aggregates ([`social_feed::aggregate`]) with the key-value
//! store's compare-and-swap (`wasi:keyvalue/atomics`), so deliveries running
//! at once lose no update.
//!
//! A message that is not a tweet event is logged and acknowledged: retrying
//! it cannot help. A store that fails is an error, so the platform retries.

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
