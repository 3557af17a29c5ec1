//! The embedded event broker of `cloudfn up`: what stands in for the Redis
//! server of a manifest's `[[trigger.redis]]` when no Redis is given, with
//! stronger semantics than Redis pub/sub. Every message published on a
//! channel is kept (SQLite, WAL) until each component subscribed to the
//! channel has acknowledged it; a failed delivery is retried with backoff,
//! then dead-lettered, and can be replayed; the queue is bounded.
//!
//! A leaf module: the outbound Redis service publishes into it, the Redis
//! trigger delivers from it, and `cloudfn events` inspects it.

pub mod broker;
pub mod store;

pub use broker::{Broker, BrokerError, DeliveryLock, QueueLimits, Receipt};
pub use store::{Claimed, DeadFilter, DeadLetter, Purged, SubscriberStats};

/// The broker's file in a data directory.
pub const FILE_NAME: &str = "events.db";
