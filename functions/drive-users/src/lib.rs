//! The Cloud Drive's users, shared by the components that serve them
//! (`accounts` and `blob-upload`): password rules and Argon2id hashes
//! ([`password`]), random tokens stored only as their SHA-256 ([`token`]),
//! the credentials database over Spin's SQLite or MySQL ([`sql`],
//! [`schema`]), and the operations on it ([`users`]): accounts, sessions,
//! API tokens, login throttling, quotas and share links. [`auth`] reads a
//! request's credentials (session cookie or `Authorization: Bearer`) and
//! applies the cross-site rule to cookie-authenticated writes;
//! [`namespace`] is where each user's files live in the blob store.
//!
//! Everything here is plain Rust over the [`sql::Sql`] trait, tested
//! natively against SQLite; [`spin_db`] binds it to the component's imports.

pub mod auth;
pub mod namespace;
pub mod password;
pub mod schema;
pub mod sql;
pub mod token;
pub mod users;

#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
pub mod spin_db;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
