//! cloudfn accounts: the Cloud Drive's users as a function. JSON over HTTP
//! under `/account`: register, log in (a session cookie), log out, the
//! profile (display name, email, password, usage against the quota),
//! delete the account with its files, API tokens for scripts, and share
//! links to single files (served by blob-upload at `/s/{token}`). The
//! rules live in the `drive-users` crate; this is the HTTP face.

pub mod request;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
