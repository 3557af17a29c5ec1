//! Delivering one event to every consumer of a channel, as the Redis
//! trigger does for each message, within the invocation's deadline.

use cloudfn_trigger_redis::RedisApp;
use cloudfn_trigger_redis::deliver::{DeliveryLog, Order, Outcome, deliver};
use std::time::Instant;

/// Runs each consumer of `channel` on `payload`, one after another, in a
/// fresh instance each, and logs one line per delivery. `Err` names the
/// consumers that failed and why; a channel nobody consumes is an error
/// too, so the event goes back to the platform rather than being lost.
pub async fn deliver_to_channel(
    events: &RedisApp,
    channel: &str,
    id: &str,
    attempt: u32,
    payload: &[u8],
    deadline: Option<tokio::time::Instant>,
) -> Result<(), String> {
    let consumers = events.consumers_on_channel(channel);
    if consumers.is_empty() {
        let error = format!("no component subscribes to channel `{channel}`");
        tracing::error!(target: "cloudfn::event", id, channel, "{error}");
        return Err(error);
    }
    let mut failures = Vec::new();
    for consumer in consumers {
        let log = DeliveryLog {
            id,
            channel,
            component: &consumer.id,
            attempt,
            order: Order::Platform,
            started: Instant::now(),
            queued_ms: None,
        };
        let run = async {
            let _permit = events
                .runtime()
                .admission()
                .instances()
                .clone()
                .acquire_owned()
                .await;
            deliver(
                events.runtime(),
                &consumer,
                payload.to_vec(),
                deadline.map(tokio::time::Instant::into_std),
            )
            .await
        };
        let (result, usage) = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, run).await {
                Ok(done) => done,
                Err(_) => (
                    Err("the invocation's time ran out before the handler finished".into()),
                    None,
                ),
            },
            None => run.await,
        };
        match result {
            Ok(()) => log.finish(&Outcome::Handled, None, usage.as_deref()),
            Err(error) => {
                log.finish(&Outcome::Requeued, Some(&error), usage.as_deref());
                failures.push(format!("`{}`: {error}", consumer.id));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}
