//! The Lambda trigger: one invocation's event JSON in, its response JSON
//! out, for the `bootstrap` binary that `lambda_runtime` drives.
//!
//! One binary takes every event the bundle is wired to, telling them apart
//! by the raw JSON ([`EventKind::of`]):
//! - HTTP ([`http_event`]): Function URLs and API Gateway HTTP APIs
//!   (payload 2.0), API Gateway REST APIs (1.0) and ALB, routed by the
//!   manifest's `[[trigger.http]]` exactly as `cloudfn up` routes them,
//!   under the same limits;
//! - SQS ([`sqs`]): each record to the components subscribed to the
//!   channel its queue maps to, failed records in `batchItemFailures`;
//! - S3 ([`s3`]): each `ObjectCreated` record as a CloudEvent to the
//!   components subscribed to the storage channel (`blob-created`).

pub mod channel;
pub mod http_event;
pub mod s3;
pub mod settings;
pub mod sqs;

use bytes::Bytes;
use cloudfn_engine::Runtime;
use cloudfn_manifest::Manifest;
use cloudfn_trigger_http::{HttpApp, ServeError};
use cloudfn_trigger_redis::{self as redis_trigger, RedisApp, RedisTriggerError};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use settings::LambdaSettings;
use std::sync::Arc;
use std::time::Duration;

/// Errors of the Lambda trigger.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// The HTTP routes could not be loaded.
    #[error(transparent)]
    Http(#[from] ServeError),
    /// The event consumers could not be loaded.
    #[error(transparent)]
    Events(#[from] RedisTriggerError),
    /// `[application.tool.cloudfn.lambda]` or the environment is invalid.
    #[error("{0}")]
    Settings(String),
    /// The event is malformed, or of a kind the bootstrap does not serve.
    #[error("{0}")]
    Event(String),
    /// A consumer failed on an event that has no partial-failure report
    /// (S3): the invocation fails, so Lambda retries it.
    #[error("{0}")]
    Delivery(String),
}

/// What kind of event an invocation carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// An HTTP request, in one of the shapes of [`http_event::Shape`].
    Http(http_event::Shape),
    /// An SQS batch.
    Sqs,
    /// An S3 notification.
    S3,
    /// Something else: its `eventSource`, or what the JSON looks like.
    Unknown(String),
}

impl EventKind {
    /// Tells the kind from the raw JSON, as one binary serving HTTP, S3 and
    /// SQS must (`lambda_http` would refuse the others).
    pub fn of(event: &Value) -> Self {
        if let Some(source) = event.pointer("/Records/0/eventSource") {
            return match source.as_str() {
                Some("aws:sqs") => Self::Sqs,
                Some("aws:s3") => Self::S3,
                other => Self::Unknown(format!("records from {}", other.unwrap_or("?"))),
            };
        }
        if event.pointer("/requestContext/http").is_some() {
            Self::Http(http_event::Shape::V2)
        } else if event.pointer("/requestContext/elb").is_some() {
            Self::Http(http_event::Shape::Alb { multi_value: false })
        } else if event.get("httpMethod").is_some() {
            Self::Http(http_event::Shape::V1)
        } else {
            Self::Unknown("an event that is neither HTTP, SQS nor S3".into())
        }
    }
}

/// Every component of one manifest, ready to serve Lambda events.
pub struct LambdaApp {
    http: HttpApp,
    events: RedisApp,
    settings: LambdaSettings,
}

impl LambdaApp {
    /// Loads every routed and every subscribed component of `manifest`.
    pub fn new(
        runtime: Arc<Runtime>,
        manifest: &Manifest,
        settings: LambdaSettings,
    ) -> Result<Self, LambdaError> {
        let http = HttpApp::new(runtime.clone(), manifest)?;
        let triggers = redis_trigger::resolve(manifest)?;
        let events = RedisApp::new(runtime, manifest, &triggers)?;
        Ok(Self {
            http,
            events,
            settings,
        })
    }

    /// The HTTP routes, most specific first.
    pub fn http(&self) -> &HttpApp {
        &self.http
    }

    /// The event consumers.
    pub fn events(&self) -> &RedisApp {
        &self.events
    }

    /// Handles one invocation with `budget` left before Lambda's deadline
    /// (`None` when unknown).
    pub async fn handle(
        &self,
        event: Value,
        budget: Option<Duration>,
    ) -> Result<Value, LambdaError> {
        match EventKind::of(&event) {
            EventKind::Http(shape) => self.handle_http(shape, event, budget).await,
            EventKind::Sqs => {
                let batch = serde_json::from_value(event)
                    .map_err(|e| LambdaError::Event(format!("SQS event: {e}")))?;
                let response = sqs::handle(&self.events, &self.settings, batch, budget).await;
                serde_json::to_value(response)
                    .map_err(|e| LambdaError::Event(format!("cannot write the SQS response: {e}")))
            }
            EventKind::S3 => {
                s3::handle(&self.events, &self.settings, &event, budget).await?;
                Ok(Value::Null)
            }
            EventKind::Unknown(what) => Err(LambdaError::Event(format!(
                "cannot serve {what}: the bootstrap takes Function URL, API Gateway (payload 1.0 and 2.0), ALB, SQS and S3 events"
            ))),
        }
    }

    async fn handle_http(
        &self,
        shape: http_event::Shape,
        event: Value,
        budget: Option<Duration>,
    ) -> Result<Value, LambdaError> {
        let parsed = http_event::parse(shape, event)?;
        let request = parsed
            .request
            .map(|body| Full::new(body).map_err(|never| match never {}));
        let response = self
            .http
            .handle_within(request, parsed.client, budget)
            .await;
        let (parts, body) = response.into_parts();
        // Lambda answers whole payloads: the body is read to its end, within
        // the response limit and the deadline the body itself enforces.
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                tracing::warn!(error = %e, "the response body failed while it was read");
                let message = format!("the component's response body failed: {e}\n");
                let mut response = http::Response::new(Bytes::from(message));
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                return http_event::respond(parsed.shape, response);
            }
        };
        http_event::respond(parsed.shape, http::Response::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_event::Shape;
    use serde_json::json;

    #[test]
    fn events_are_told_apart_by_their_json() {
        assert_eq!(
            EventKind::of(&json!({"Records": [{"eventSource": "aws:sqs"}]})),
            EventKind::Sqs
        );
        assert_eq!(
            EventKind::of(&json!({"Records": [{"eventSource": "aws:s3"}]})),
            EventKind::S3
        );
        assert_eq!(
            EventKind::of(&json!({"requestContext": {"http": {"method": "GET"}}})),
            EventKind::Http(Shape::V2)
        );
        assert_eq!(
            EventKind::of(&json!({"requestContext": {"elb": {}}, "httpMethod": "GET"})),
            EventKind::Http(Shape::Alb { multi_value: false })
        );
        assert_eq!(
            EventKind::of(&json!({"httpMethod": "GET", "requestContext": {}})),
            EventKind::Http(Shape::V1)
        );
        assert!(matches!(
            EventKind::of(&json!({"Records": [{"eventSource": "aws:kinesis"}]})),
            EventKind::Unknown(what) if what.contains("aws:kinesis")
        ));
        assert!(matches!(
            EventKind::of(&json!({"hello": 1})),
            EventKind::Unknown(_)
        ));
    }
}
