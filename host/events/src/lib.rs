//! The embedded event broker of `cloudfn up`: what stands in for the Redis
//! server of a manifest's `[[trigger.redis]]` when no Redis is given, with
//! stronger semantics than Redis pub/sub. Every message published on a
//! channel is kept (SQLite, WAL) until each component subscribed to the
//! channel has acknowledged it; a failed delivery is retried with backoff,
//! then dead-lettered, and can be replayed; the queue is bounded.
//!
//! On Lambda, Amazon SQS stands in instead ([`sqs`]): what a guest
//! publishes goes to the queue that feeds the channel.
//!
//! A leaf module: the outbound Redis service publishes into it, the Redis
//! trigger delivers from it, and `cloudfn events` inspects it.

pub mod broker;
pub mod sqs;
pub mod store;

pub use broker::{Broker, BrokerError, DeliveryLock, QueueLimits, Receipt};
pub use store::{Claimed, DeadFilter, DeadLetter, Purged, SubscriberStats, Subscription};

/// The broker's file in a data directory.
pub const FILE_NAME: &str = "events.db";

/// Where a Redis address of the manifest is really served.
#[derive(Clone)]
pub enum Route {
    /// By the embedded broker (the default of `cloudfn up`).
    Embedded(Broker),
    /// By a real Redis server at this URL (`cloudfn up --redis URL`).
    Redis(String),
    /// By Amazon SQS, one queue per channel (the Lambda bootstrap).
    Sqs(std::sync::Arc<sqs::SqsPublisher>),
}

impl std::fmt::Display for Route {
    /// What serves the address, for the log and the start banner.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded(broker) => write!(f, "embedded broker {}", broker.path().display()),
            Self::Redis(url) => f.write_str(url),
            Self::Sqs(sqs) => write!(
                f,
                "Amazon SQS at {}",
                sqs.endpoint().unwrap_or("(no AWS_REGION)")
            ),
        }
    }
}

/// The Redis addresses the manifest's `[[trigger.redis]]` name (templates
/// resolved), and what serves each. A guest's outbound Redis connection to
/// one of them goes there: publishing to the address a trigger subscribes
/// to reaches the trigger, on either path.
#[derive(Clone, Default)]
pub struct Routes {
    /// Shared: every instance's Redis state holds the routes.
    routes: std::sync::Arc<std::collections::BTreeMap<String, Route>>,
}

impl Routes {
    /// Serves `address` by `route`.
    pub fn insert(&mut self, address: &str, route: Route) {
        std::sync::Arc::make_mut(&mut self.routes).insert(normalize(address).to_owned(), route);
    }

    /// What serves `address`, if it is one of the manifest's.
    pub fn get(&self, address: &str) -> Option<&Route> {
        self.routes.get(normalize(address))
    }
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.routes.iter().map(|(a, r)| (a, r.to_string())))
            .finish()
    }
}

/// `redis://h:p/` and `redis://h:p` are one address.
pub fn normalize(address: &str) -> &str {
    address.strip_suffix('/').unwrap_or(address)
}
