//! End-to-end tests: the real `cloudfn` binary (and the Lambda `bootstrap`)
//! serving real components over loopback HTTP. Each module covers one area; each test one behaviour.

mod common;

mod cache;
mod cli;
mod connections;
mod core_modules;
mod coverage;
mod dependencies;
mod events;
mod functions;
mod lambda;
mod routing;
mod sandbox;
mod servers;
mod services;
