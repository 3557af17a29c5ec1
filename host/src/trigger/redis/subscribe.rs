//! Delivery from a real Redis server, as Spin's Redis trigger does it: one
//! SUBSCRIBE connection per server, every message handed to each consumer
//! of its channel at once, each in a fresh instance. At most once: a
//! handler that fails is logged, and the message is gone.

use super::deliver::{DeliveryLog, Outcome, deliver};
use super::{RedisApp, RedisTriggerError};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long connecting to a server may take before the start fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to every server the app's triggers name (through `route`,
/// which maps a manifest address to the server that serves it) and
/// subscribes to their channels; the returned task delivers until the
/// connection ends, then returns why.
pub async fn start(
    app: Arc<RedisApp>,
    route: impl Fn(&str) -> String,
) -> Result<tokio::task::JoinHandle<RedisTriggerError>, RedisTriggerError> {
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
    let next_id = Arc::new(AtomicU64::new(1));
    Ok(tokio::spawn(async move {
        let tasks = streams.into_iter().map(|(address, url, mut messages)| {
            let app = app.clone();
            let next_id = next_id.clone();
            async move {
                while let Some(message) = messages.next().await {
                    let id = format!("redis-{}", next_id.fetch_add(1, Ordering::Relaxed));
                    let channel = message.get_channel_name().to_owned();
                    let payload = message.get_payload_bytes().to_vec();
                    for consumer in app.consumers_of(&address, &channel).iter().cloned() {
                        let (app, id, channel, payload) =
                            (app.clone(), id.clone(), channel.clone(), payload.clone());
                        tokio::spawn(async move {
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
                            let (result, usage) = deliver(&app.runtime, &consumer, payload).await;
                            let (outcome, error) = match result {
                                Ok(()) => (Outcome::Handled, None),
                                Err(e) => (Outcome::Dropped, Some(e)),
                            };
                            let log = DeliveryLog {
                                id: &id,
                                channel: &channel,
                                component: &consumer.id,
                                attempt: 1,
                                started,
                                queued_ms: None,
                            };
                            log.finish(&outcome, error.as_deref(), usage.as_deref());
                        });
                    }
                }
                RedisTriggerError::Disconnected { address: url }
            }
        });
        // The first connection to end ends the trigger.
        let (error, _, _) = futures::future::select_all(tasks.map(Box::pin)).await;
        error
    }))
}
