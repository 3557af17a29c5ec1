//! Platform services: what guests import beyond WASI and `wasi:http`.
//!
//! This layer sits under the engine: the engine's linker wires these in, and
//! nothing here knows about stores, requests or triggers.

pub mod blob;
pub mod outbound;
pub mod variables;
