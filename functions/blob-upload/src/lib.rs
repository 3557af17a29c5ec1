//! cloudfn blob-upload: the Cloud Drive App as a function. Files are
//! uploaded with `PUT /blobs/{key}` (streamed into the store chunk by
//! chunk, checksummed on the way), downloaded with `GET` (ranges,
//! `If-None-Match`), listed with `GET /blobs?prefix=` and deleted with
//! `DELETE`. Each logged-in user of the drive has their own files (see
//! `drive_users::namespace`), counted against a quota; `/s/{token}` serves a share
//! link to one of them. The function never talks to a cloud SDK: it imports
//! `cloudfn:blob/store` and each platform supplies it.

pub mod http_face;

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod component;
