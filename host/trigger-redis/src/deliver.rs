//! One delivery: a fresh instance of the consumer, its Redis-trigger export
//! called with the message, under the sandbox limits (memory, timeout,
//! stack), and one log line.

use super::dispatch_failure;
use cloudfn_engine::state::MemoryUsage;
use cloudfn_engine::{LoadedComponent, RedisHandler, Runtime};
use std::sync::Arc;
use std::time::Instant;

/// A component that consumes events, ready to be instantiated per message.
pub struct Consumer {
    /// The component id.
    pub id: String,
    /// The loaded component.
    pub component: Arc<LoadedComponent>,
    /// Its one Redis-trigger export.
    pub handler: RedisHandler,
    /// How its failed deliveries are retried (embedded broker only).
    pub policy: super::settings::DeliveryPolicy,
    /// Its own deliveries at once (`policy.concurrency`).
    pub slots: Arc<tokio::sync::Semaphore>,
}

impl Consumer {
    /// How its deliveries are scheduled, for the log line.
    pub fn order(&self) -> Order {
        if self.policy.ordered() {
            Order::Fifo
        } else {
            Order::Concurrent
        }
    }
}

/// How a delivery was scheduled, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// One message at a time, in publish order (Spin's).
    Fifo,
    /// Overlapping, in no particular order (`concurrency` above 1).
    Concurrent,
    /// As the platform hands them over (an SQS batch, an S3 event).
    Platform,
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Order::Fifo => "fifo",
            Order::Concurrent => "concurrent",
            Order::Platform => "platform",
        })
    }
}

/// What became of one delivery, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler returned `Ok`: acknowledged.
    Handled,
    /// It failed; retried after the backoff.
    Retry(std::time::Duration),
    /// It failed on its last attempt: dead-lettered.
    DeadLettered,
    /// It failed and Redis mode does not retry (Spin's semantics).
    Dropped,
    /// It failed and goes back to its queue, whose platform retries it
    /// (an SQS record in `batchItemFailures`, an S3 event's async retry).
    Requeued,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Handled => f.write_str("handled"),
            Outcome::Retry(wait) => write!(f, "retry in {wait:?}"),
            Outcome::DeadLettered => f.write_str("dead-lettered"),
            Outcome::Dropped => f.write_str("failed, not retried"),
            Outcome::Requeued => f.write_str("failed, returned to the platform for a retry"),
        }
    }
}

/// Runs the consumer on `payload` in a fresh instance, stopped at the
/// timeout or at `deadline` (a Lambda invocation's) when that is sooner;
/// `Err` says why it failed (the handler's error, a trap, the timeout, the
/// memory limit).
pub async fn deliver(
    runtime: &Runtime,
    consumer: &Consumer,
    payload: Vec<u8>,
    deadline: Option<Instant>,
) -> (Result<(), String>, Option<Arc<MemoryUsage>>) {
    // The caller holds an instance slot; the memory comes with the consumer.
    let _memory = runtime
        .admission()
        .reserve_memory(consumer.component.max_memory)
        .await;
    let mut store = match runtime.new_store_until(&consumer.component, deadline) {
        Ok(store) => store,
        Err(e) => return (Err(format!("cannot create an instance: {e:#}")), None),
    };
    let usage = store.data().limiter.usage();
    let timeout = runtime.limits().timeout;
    // Host calls the guest awaits end here; guest code at its store's deadline.
    let deadline = store.data().stop.deadline;
    let call = async {
        match &consumer.handler {
            RedisHandler::V2(pre) => {
                let instance = pre.instantiate_async(&mut store).await?;
                let result = instance
                    .fermyon_spin_inbound_redis()
                    .call_handle_message(&mut store, &payload)
                    .await?;
                // The unversioned interface's error is an enum with one
                // failure value and no message.
                Ok(result.map_err(|_| "the handler returned `error`".to_owned()))
            }
            RedisHandler::V3(pre) => {
                let instance = pre.instantiate_async(&mut store).await?;
                let result = store
                    .run_concurrent(async |accessor| {
                        instance
                            .spin_redis_inbound_redis()
                            .call_handle_message(accessor, payload)
                            .await
                    })
                    .await??;
                Ok(result.map_err(|e| {
                    use cloudfn_engine::bindings::redis_handler_v3::spin::redis::redis::Error;
                    match e {
                        Error::Other(message) => {
                            format!("the handler returned an error: {message}")
                        }
                        Error::InvalidAddress => "the handler returned `invalid-address`".into(),
                        Error::TooManyConnections => {
                            "the handler returned `too-many-connections`".into()
                        }
                        Error::TypeError => "the handler returned `type-error`".into(),
                    }
                }))
            }
        }
    };
    let outcome: Result<Result<(), String>, wasmtime::Error> =
        match tokio::time::timeout_at(deadline.into(), call).await {
            Ok(outcome) => outcome,
            Err(_) => Ok(Err(format!(
                "did not finish within {timeout:?} (--timeout)"
            ))),
        };
    let result = match outcome {
        Ok(result) => result,
        Err(error) => Err(dispatch_failure(
            &error,
            &usage,
            consumer.component.max_memory,
            runtime.limits(),
        )),
    };
    (result, Some(usage))
}

/// The one log line each delivery gets, like each HTTP request's.
pub struct DeliveryLog<'a> {
    /// The message id (the broker's, or `redis-N` in Redis mode).
    pub id: &'a str,
    /// The channel.
    pub channel: &'a str,
    /// The consumer.
    pub component: &'a str,
    /// The attempt, from 1.
    pub attempt: u32,
    /// How it was scheduled.
    pub order: Order,
    /// When the delivery started.
    pub started: Instant,
    /// How long the message waited between its publish and this delivery
    /// (the embedded broker knows; a Redis server does not say).
    pub queued_ms: Option<u64>,
}

impl DeliveryLog<'_> {
    /// Logs the delivery's outcome (a warning when it failed).
    pub fn finish(&self, outcome: &Outcome, error: Option<&str>, usage: Option<&MemoryUsage>) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let peak_memory = usage.map_or(0, MemoryUsage::peak);
        let (id, channel, component, attempt) =
            (self.id, self.channel, self.component, self.attempt);
        let order = self.order;
        let queued_ms = self.queued_ms.map_or_else(String::new, |q| q.to_string());
        match error {
            None => tracing::info!(
                target: "cloudfn::event",
                id,
                channel,
                %order,
                component,
                attempt,
                outcome = %outcome,
                queued_ms,
                duration_ms = format_args!("{duration_ms:.3}"),
                peak_memory,
            ),
            Some(error) => tracing::warn!(
                target: "cloudfn::event",
                id,
                channel,
                %order,
                component,
                attempt,
                outcome = %outcome,
                error,
                queued_ms,
                duration_ms = format_args!("{duration_ms:.3}"),
                peak_memory,
            ),
        }
    }
}
