//! SQS batches: each record's body is a message on the channel its queue
//! maps to; a record any consumer failed on is reported in
//! `batchItemFailures`, so SQS makes only that record visible again (and
//! after the queue's `maxReceiveCount`, moves it to the dead-letter queue).
//! The event source mapping must have `ReportBatchItemFailures` on.

use super::channel::deliver_to_channel;
use super::settings::LambdaSettings;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use cloudfn_trigger_redis::RedisApp;
use std::time::Duration;

/// Delivers the batch's records in order. On a FIFO queue the first failure
/// fails every later record too, undelivered, so the group's order holds.
/// Records still waiting when the invocation's `budget` runs out fail.
pub async fn handle(
    events: &RedisApp,
    settings: &LambdaSettings,
    batch: SqsEvent,
    budget: Option<Duration>,
) -> SqsBatchResponse {
    let deadline = budget.map(|b| tokio::time::Instant::now() + b);
    let mut failures = Vec::new();
    let mut fifo_blocked = false;
    for record in batch.records {
        let id = record.message_id.clone().unwrap_or_default();
        let arn = record.event_source_arn.as_deref().unwrap_or("");
        let fifo = arn.ends_with(".fifo");
        let out_of_time = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        let delivered = if fifo_blocked || out_of_time {
            Err(if out_of_time {
                "the invocation's time ran out".to_owned()
            } else {
                "an earlier record of this FIFO batch failed".to_owned()
            })
        } else {
            let attempt = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let payload = record.body.as_deref().unwrap_or("").as_bytes();
            let channel = settings.channel_for_queue(arn);
            deliver_to_channel(events, channel, &id, attempt, payload, deadline).await
        };
        if let Err(error) = delivered {
            tracing::warn!(target: "cloudfn::event", id, queue = arn, "record returned to the queue: {error}");
            fifo_blocked |= fifo;
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
