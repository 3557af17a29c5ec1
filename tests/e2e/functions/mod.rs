//! One module per product function (`tests/e2e/functions/<component>.rs`),
//! each driving the component of the root `spin.toml` end to end.

mod accounts;
mod blob_upload;
mod image_filter;
mod image_thumbnail;
mod index_map;
mod index_reduce;
mod sentiment;
mod social_consumer;
mod social_listener;
mod web;
