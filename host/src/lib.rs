//! cloudfn's local PaaS sandbox: a wasmtime host that serves the components
//! of a Spin manifest over HTTP, one fresh instance per request, with the
//! limits a platform enforces.
//!
//! Layers import only downward:
//! [`manifest`] → [`services`] → [`engine`] → [`trigger`] → binaries.
//! [`routes`], [`limits`] and [`sqlite_file`] are leaf modules used by
//! several layers.

pub mod bindings;
pub mod build;
pub mod engine;
pub mod events;
pub mod invoke;
pub mod limits;
pub mod manifest;
pub mod routes;
pub mod services;
pub mod sqlite_file;
pub mod trigger;
