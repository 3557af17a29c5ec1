//! Delivery from the embedded broker: claim what is due, deliver each in a
//! fresh instance, acknowledge what the handler took, schedule a retry (or
//! dead-letter) what it did not.
//!
//! Which deliveries are due is the broker's business
//! ([`cloudfn_events::store::Plan::claim`]): for the consumers in Spin's order,
//! only the head message of their Redis address, to all of them at once;
//! for a consumer with `concurrency` above 1, as many as it has room for.
//! Every settled delivery wakes the dispatcher, since it may have made the
//! next message the head or freed a consumer's room.
//!
//! Deliveries at once are bounded twice: by the events' own concurrency
//! ([`RedisApp::concurrency`], half of `--max-concurrent` unless set, so a
//! flood of events leaves HTTP its share) and by the runtime's admission
//! permits that HTTP requests draw on too. A delivery is claimed only once
//! it has both, so nothing claimed waits for an instance.

use super::RedisApp;
use super::deliver::{Consumer, DeliveryLog, Outcome, deliver};
use cloudfn_engine::Runtime;
use cloudfn_events::{Broker, BrokerError, Claimed, Subscription};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

/// Longest sleep of an idle dispatcher. It is woken sooner by a publish,
/// a replay or released claims, of this host or (seen by the broker's
/// thread within 20 ms) of another process.
const POLL: Duration = Duration::from_millis(200);

/// Subscribes the app's consumers to the broker, takes its delivery lock,
/// and delivers until `stop` turns true; then it claims nothing more, and
/// the returned task ends once every delivery under way has been handled and
/// acknowledged (or scheduled for retry), as a shutdown drains it.
pub async fn start(
    app: Arc<RedisApp>,
    broker: Broker,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, BrokerError> {
    let lock = broker.lock_for_delivery().await?;
    let subscriptions = app
        .subscriptions()
        .map(|(address, channel, component)| Subscription {
            channel: channel.to_owned(),
            subscriber: component.to_owned(),
            group: cloudfn_events::normalize(address).to_owned(),
            ordered: app.consumer(component).is_none_or(|c| c.policy.ordered()),
        })
        .collect();
    broker.subscribe(subscriptions).await?;
    Ok(tokio::spawn(async move {
        let _lock = lock;
        let events = Arc::new(Semaphore::new(app.concurrency()));
        run(app.clone(), broker, events.clone(), stop).await;
        // Every delivery under way holds one of these until it is settled.
        let all = u32::try_from(app.concurrency()).unwrap_or(u32::MAX);
        let _settled = events.acquire_many(all).await;
    }))
}

/// Claims and delivers until `stop` turns true. It stops only while waiting
/// (for slots or for messages), never between a claim and its deliveries.
async fn run(
    app: Arc<RedisApp>,
    broker: Broker,
    events: Arc<Semaphore>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let admission = app.runtime.admission().instances().clone();
    let settled = Arc::new(Notify::new());
    loop {
        // Wait for one slot of each kind, then take what else is free.
        let slot = async {
            let first = events.clone().acquire_owned().await.ok()?;
            let instance = admission.clone().acquire_owned().await.ok()?;
            Some((first, instance))
        };
        let slot = tokio::select! {
            slot = slot => slot,
            _ = stop.wait_for(|stop| *stop) => None,
        };
        let Some((first, instance)) = slot else {
            return;
        };
        let mut slots = vec![(first, instance)];
        while slots.len() < 256 {
            match (
                events.clone().try_acquire_owned(),
                admission.clone().try_acquire_owned(),
            ) {
                (Ok(e), Ok(i)) => slots.push((e, i)),
                _ => break,
            }
        }
        // Consumers not in order get no more than their free slots.
        let room = app
            .consumers
            .values()
            .filter(|c| !c.policy.ordered())
            .map(|c| (c.id.clone(), c.slots.available_permits()))
            .collect();
        let (claimed, next_due) = match broker.claim(slots.len(), room).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim events; retrying in 1s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if claimed.is_empty() {
            drop(slots);
            let wait = next_due.map_or(POLL, |due| due.min(POLL));
            tokio::select! {
                () = broker.published() => {}
                () = settled.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            continue;
        }
        for (delivery, slot) in claimed.into_iter().zip(slots) {
            // The broker hands out only the subscriptions this host declared.
            let Some(consumer) = app.consumer(&delivery.subscriber).cloned() else {
                tracing::error!(subscriber = %delivery.subscriber, "claimed a delivery for no consumer of this manifest; it waits for the next start");
                continue;
            };
            // Only this loop takes consumer slots, and they only free up
            // meanwhile, so the room the claim counted is still there.
            let own = consumer.slots.clone().try_acquire_owned().ok();
            let runtime = app.runtime.clone();
            let broker = broker.clone();
            let settled = settled.clone();
            tokio::spawn(async move {
                deliver_one(&runtime, &broker, consumer, delivery).await;
                drop((slot, own));
                settled.notify_one();
            });
        }
    }
}

async fn deliver_one(
    runtime: &Runtime,
    broker: &Broker,
    consumer: Arc<Consumer>,
    mut delivery: Claimed,
) {
    let started = Instant::now();
    let queued_ms =
        u64::try_from(cloudfn_events::broker::now_ms() - delivery.published_ms).unwrap_or(0);
    // Acknowledging or failing needs the delivery's key, not its payload.
    let payload = std::mem::take(&mut delivery.payload);
    let (result, usage) = deliver(runtime, &consumer, payload, None).await;
    let id = delivery.seq.to_string();
    let (outcome, error, stored) = match result {
        Ok(()) => (Outcome::Handled, None, broker.ack(&delivery).await),
        Err(error) => {
            let retry = consumer.policy.retry_in(delivery.attempt);
            let outcome = retry.map_or(Outcome::DeadLettered, Outcome::Retry);
            let stored = broker.fail(&delivery, &error, retry).await;
            (outcome, Some(error), stored)
        }
    };
    let log = DeliveryLog {
        id: &id,
        channel: &delivery.channel,
        component: &consumer.id,
        attempt: delivery.attempt,
        order: consumer.order(),
        started,
        queued_ms: Some(queued_ms),
    };
    log.finish(&outcome, error.as_deref(), usage.as_deref());
    if let Err(e) = stored {
        tracing::error!(id, error = %e, "the delivery's outcome was not stored; it will be delivered again");
    }
}
