//! End-to-end tests: the real `cloudfn` binary serving real components over
//! loopback HTTP. Each module covers one area; each test one behaviour.

mod common;

mod cache;
mod cli;
mod core_modules;
mod coverage;
mod dependencies;
mod events;
mod functions;
mod routing;
mod sandbox;
mod servers;
mod services;
