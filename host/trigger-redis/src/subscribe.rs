//! Delivery from a real Redis server, as Spin's Redis trigger does it
//! (`crates/trigger-redis/src/lib.rs`): one SUBSCRIBE connection per
//! server, its messages one at a time in the order they arrive, each handed
//! to every consumer of its channel at once, each in a fresh instance, and
//! the next message once they are all done. A consumer with `concurrency`
//! above 1 is not waited for: its deliveries overlap, up to that many. At
//! most once: a handler that fails is logged, and the message is gone.
//!
//! A message read from the connection is already gone from the server, so
//! a stop (or a lost connection) reads nothing more but lets every delivery
//! under way finish before the task ends.

use super::deliver::{Consumer, DeliveryLog, Outcome, deliver};
use super::{RedisApp, RedisTriggerError};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long connecting to a server may take before the start fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to every server the app's triggers name (through `route`,
/// which maps a manifest address to the server that serves it) and
/// subscribes to their channels. The returned task delivers until `stop`
/// turns true (then it is `Ok`) or a connection ends (then it says why);
/// either way it ends once the deliveries under way have finished.
pub async fn start(
    app: Arc<RedisApp>,
    route: impl Fn(&str) -> String,
    mut stop: watch::Receiver<bool>,
) -> Result<JoinHandle<Result<(), RedisTriggerError>>, RedisTriggerError> {
    // Manifest address → the server URL, with the channels subscribed there.
    let mut servers: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (address, channel, _) in app.subscriptions() {
        let entry = servers
            .entry(address.to_owned())
            .or_insert_with(|| (route(address), Vec::new()));
        if !entry.1.iter().any(|c| c == channel) {
            entry.1.push(channel.to_owned());
        }
    }
    let mut streams = Vec::new();
    for (address, (url, channels)) in servers {
        let connect_error = |message: String| RedisTriggerError::Connect {
            address: url.clone(),
            message,
        };
        let client = redis::Client::open(url.as_str()).map_err(|e| connect_error(e.to_string()))?;
        let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
            .await
            .map_err(|_| connect_error(format!("no answer within {CONNECT_TIMEOUT:?}")))?
            .map_err(|e| connect_error(e.to_string()))?;
        for channel in &channels {
            pubsub
                .subscribe(channel)
                .await
                .map_err(|e| connect_error(e.to_string()))?;
        }
        tracing::info!(%url, ?channels, "subscribed");
        streams.push((address, url, pubsub.into_on_message()));
    }
    Ok(tokio::spawn(async move {
        let next_id = AtomicU64::new(1);
        // Stops every server's loop: set by `stop`, or by a lost connection,
        // which ends the trigger.
        let (halt, halted) = watch::channel(false);
        let (halt, next_id) = (&halt, &next_id);
        let servers = streams.into_iter().map(|(address, url, messages)| {
            let (app, halted) = (app.clone(), halted.clone());
            async move {
                let ended = receive(app, &address, messages, next_id, halted).await;
                halt.send_replace(true);
                match ended {
                    Ended::Stopped => Ok(()),
                    Ended::Disconnected => Err(RedisTriggerError::Disconnected { address: url }),
                }
            }
        });
        let all = futures::future::join_all(servers);
        tokio::pin!(all);
        let stopped = async move {
            if stop.wait_for(|stop| *stop).await.is_err() {
                // No one can stop it any more: deliver until a connection ends.
                std::future::pending::<()>().await;
            }
        };
        let ended = tokio::select! {
            ended = &mut all => ended,
            () = stopped => {
                halt.send_replace(true);
                all.await
            }
        };
        ended.into_iter().collect()
    }))
}

/// Why one server's messages stopped.
enum Ended {
    /// `stop` turned true.
    Stopped,
    /// The connection ended.
    Disconnected,
}

/// Hands each message of one server's connection to its consumers until
/// `stop` or the connection's end, then waits for the deliveries under way:
/// the consumers in order before the next message is read, the others
/// (`concurrency` above 1) in the background, up to their limit.
async fn receive(
    app: Arc<RedisApp>,
    address: &str,
    mut messages: impl futures::Stream<Item = redis::Msg> + Unpin,
    next_id: &AtomicU64,
    mut stop: watch::Receiver<bool>,
) -> Ended {
    let mut deliveries = JoinSet::new();
    let ended = loop {
        tokio::select! {
            biased;
            // (The guard `wait_for` returns must not live across the awaits below.)
            _ = async { stop.wait_for(|stop| *stop).await.is_ok() } => break Ended::Stopped,
            // Reap finished deliveries, so the set holds only running ones.
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
            message = messages.next() => {
                let Some(message) = message else { break Ended::Disconnected };
                let id = format!("redis-{}", next_id.fetch_add(1, Ordering::Relaxed));
                let channel = message.get_channel_name();
                let payload = message.get_payload_bytes();
                let mut in_order = Vec::new();
                for consumer in app.consumers_of(address, channel).iter().cloned() {
                    let ordered = consumer.policy.ordered();
                    // A concurrent consumer at its limit holds the loop, as
                    // a handler still running holds Spin's.
                    let slot = if ordered {
                        None
                    } else {
                        consumer.slots.clone().acquire_owned().await.ok()
                    };
                    let delivery = deliver_one(
                        app.clone(),
                        consumer,
                        id.clone(),
                        channel.to_owned(),
                        payload.to_vec(),
                    );
                    let delivery = async move {
                        delivery.await;
                        drop(slot);
                    };
                    if ordered {
                        in_order.push(delivery);
                    } else {
                        deliveries.spawn(delivery);
                    }
                }
                futures::future::join_all(in_order).await;
            }
        }
    };
    // Unsubscribe now: what is published from here on is not taken.
    drop(messages);
    while deliveries.join_next().await.is_some() {}
    ended
}

/// One consumer's delivery of one message, with its log line.
async fn deliver_one(
    app: Arc<RedisApp>,
    consumer: Arc<Consumer>,
    id: String,
    channel: String,
    payload: Vec<u8>,
) {
    let Ok(_permit) = app
        .runtime
        .admission()
        .instances()
        .clone()
        .acquire_owned()
        .await
    else {
        return;
    };
    let started = Instant::now();
    let (result, usage) = deliver(&app.runtime, &consumer, payload, None).await;
    let (outcome, error) = match result {
        Ok(()) => (Outcome::Handled, None),
        Err(e) => (Outcome::Dropped, Some(e)),
    };
    let log = DeliveryLog {
        id: &id,
        channel: &channel,
        component: &consumer.id,
        attempt: 1,
        order: consumer.order(),
        started,
        queued_ms: None,
    };
    log.finish(&outcome, error.as_deref(), usage.as_deref());
}
