//! S3 notifications: each `ObjectCreated` record of the blob store's bucket
//! and prefix becomes a CloudEvent ([`cloudevent::s3`]) on the storage
//! channel. Lambda invokes asynchronously for S3, so a failed consumer
//! fails the invocation and Lambda retries it (twice, then its on-failure
//! destination); records of other buckets, prefixes or event types are
//! logged and passed over.

use super::LambdaError;
use super::channel::deliver_to_channel;
use super::settings::LambdaSettings;
use cloudfn_trigger_redis::RedisApp;
use serde_json::Value;
use std::time::Duration;

/// Delivers every record of the notification `event`.
pub async fn handle(
    events: &RedisApp,
    settings: &LambdaSettings,
    event: &Value,
    budget: Option<Duration>,
) -> Result<(), LambdaError> {
    let deadline = budget.map(|b| tokio::time::Instant::now() + b);
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| LambdaError::Event("S3 event without Records".into()))?;
    let mut failures = Vec::new();
    for record in records {
        let name = record
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let bucket = record
            .pointer("/s3/bucket/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let raw_key = record
            .pointer("/s3/object/key")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !name.starts_with("ObjectCreated:") {
            tracing::info!(target: "cloudfn::event", event = name, key = raw_key, "S3 record passed over: only ObjectCreated events are delivered");
            continue;
        }
        let key =
            cloudevent::s3::decode_key(raw_key).map_err(|e| LambdaError::Event(e.to_string()))?;
        let Some(blob_key) = settings.blob_key(bucket, &key) else {
            tracing::info!(target: "cloudfn::event", bucket, key, "S3 record passed over: not in the blob store's bucket and prefix");
            continue;
        };
        let cloud_event = cloudevent::s3::record_event(record, blob_key)
            .map_err(|e| LambdaError::Event(format!("S3 record of {key}: {e}")))?;
        let payload = cloud_event.to_json();
        if let Err(error) = deliver_to_channel(
            events,
            &settings.s3_channel,
            &cloud_event.id,
            1,
            &payload,
            deadline,
        )
        .await
        {
            failures.push(format!("{blob_key}: {error}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(LambdaError::Delivery(format!(
            "S3 notification not handled, so Lambda retries it: {}",
            failures.join("; ")
        )))
    }
}
