//! cloudfn `social-listener`: the Social Media Analytics App's front door.
//!
//! - `POST /social/tweets` takes tweets as a feed pushes them (one JSON
//!   object, a JSON array, or NDJSON with `Content-Type:
//!   application/x-ndjson`), keeps those mentioning a configured keyword
//!   (the Spin variable `keywords`) and publishes each as a CloudEvent to
//!   the `feed` channel through Spin's outbound Redis, to the address of
//!   the variable `feed_address`. Every tweet is checked first: one bad
//!   tweet refuses the request, naming it, and nothing is published.
//! - `GET /social/dashboard[?minutes=N&keyword=K]` answers the aggregates
//!   the consumer keeps in the key-value store: per minute, and in total
//!   over those minutes, for each keyword.
//!
//! [`http_face`] is the protocol in plain Rust; the component glue is
//! compiled for wasm only.

pub mod http_face;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
