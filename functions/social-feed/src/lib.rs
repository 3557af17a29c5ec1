//! The Social Media Analytics App's data model, shared by its two
//! functions and tested natively:
//!
//! - [`tweet`]: tweets as a feed pushes them (one JSON object, a JSON
//!   array, or NDJSON), each checked, with what was wrong and where;
//! - [`keywords`]: the configured keywords and which of them a tweet
//!   mentions (whole words, case-insensitive, `#hashtags` included);
//! - [`feed`]: a kept tweet as the CloudEvent the listener publishes to the
//!   `feed` channel, and back;
//! - [`aggregate`]: the running aggregates per keyword and per minute the
//!   consumer folds each scored tweet into, stored in the key-value store
//!   under the keys of [`keys`];
//! - [`time`]: the RFC 3339 and Twitter timestamps tweets carry.

pub mod aggregate;
pub mod feed;
pub mod keys;
pub mod keywords;
pub mod time;
pub mod tweet;
