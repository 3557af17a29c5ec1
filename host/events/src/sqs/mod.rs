//! Amazon SQS standing in for a manifest's Redis address on Lambda. A
//! guest's `publish(channel, payload)` becomes `SendMessage` to the queue
//! that feeds that channel, so the message reaches the channel's consumers
//! through the queue's event source mapping, as on `cloudfn up` it reaches
//! them through the embedded broker.
//!
//! The queue of a channel is the one the Lambda settings map to it
//! (`CLOUDFN_SQS_CHANNELS=cloudfn-feed=feed`), else, for a channel the
//! manifest subscribes to, the queue named like the channel: the same rule
//! the SQS trigger reads records by. Any other channel has no queue: its
//! messages are dropped with a log line, as Redis drops a message nobody
//! subscribes to, and a guest cannot name its way to the other queues the
//! role may reach. The queue's URL comes from `GetQueueUrl` once, then
//! from memory.
//!
//! The SQS JSON protocol over HTTPS, signed with Signature Version 4
//! ([`sigv4`]). Credentials, region and endpoint come from the environment
//! as every AWS SDK reads them there: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (Lambda sets all three from
//! the function's role), `AWS_REGION`, and `AWS_ENDPOINT_URL_SQS` or
//! `AWS_ENDPOINT_URL` for another endpoint.

pub mod sigv4;

use serde_json::{Value, json};
use sigv4::Credentials;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long one attempt of an SQS call may take, connection included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts per call: a throttled or failed call is tried again after a
/// short random wait, as the AWS SDKs' standard retry mode does.
pub const ATTEMPTS: u32 = 3;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    /// A setting the client needs is not in the environment.
    #[error("publishing to SQS needs {0}, which is not set")]
    Missing(&'static str),
    /// Several queues feed the channel, so no one of them is its queue.
    #[error(
        "channel `{channel}` is fed by {} queues ({}), and a message goes to one: map a single queue to it",
        queues.len(),
        queues.join(", ")
    )]
    AmbiguousQueue {
        /// The channel.
        channel: String,
        /// The queues mapped to it.
        queues: Vec<String>,
    },
    /// SQS message bodies are text.
    #[error("SQS carries text, and this message of {0} bytes is not UTF-8")]
    NotText(usize),
    /// The call failed: SQS's own error, or the transport's.
    #[error("SQS {operation} for queue `{queue}`: {message}")]
    Call {
        /// `GetQueueUrl` or `SendMessage`.
        operation: &'static str,
        /// The queue's name.
        queue: String,
        /// What SQS (or the connection) said.
        message: String,
    },
}

/// The publishing side of SQS for one application.
pub struct SqsPublisher {
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<Credentials>,
    /// Channel → the queues mapped to it.
    queues: BTreeMap<String, Vec<String>>,
    /// The channels the manifest subscribes to.
    subscribed: BTreeSet<String>,
    /// Queue name → URL, from `GetQueueUrl`.
    urls: Mutex<HashMap<String, String>>,
    /// Made at the first publish: loading the system's root certificates
    /// costs milliseconds an init without publishes should not pay.
    http: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for SqsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsPublisher")
            .field("endpoint", &self.endpoint)
            .field("queues", &self.queues)
            .finish_non_exhaustive()
    }
}

impl SqsPublisher {
    /// Reads the AWS settings from `env`. `queues` maps each queue name to
    /// the channel it feeds; `subscribed` are the manifest's channels.
    /// Nothing is checked until the first publish, so an application that
    /// never publishes needs no credentials.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        queues: &BTreeMap<String, String>,
        subscribed: BTreeSet<String>,
    ) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let endpoint = var("AWS_ENDPOINT_URL_SQS")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(|| {
                region
                    .as_ref()
                    .map(|r| format!("https://sqs.{r}.amazonaws.com"))
            });
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Some(Credentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => None,
        };
        let mut by_channel: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (queue, channel) in queues {
            by_channel
                .entry(channel.clone())
                .or_default()
                .push(queue.clone());
        }
        Self {
            endpoint,
            region,
            credentials,
            queues: by_channel,
            subscribed,
            urls: Mutex::new(HashMap::new()),
            http: OnceLock::new(),
        }
    }

    /// The endpoint messages go to, when it is known.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The queue that feeds `channel`; `None` when no queue is mapped to it
    /// and no component subscribes to it.
    pub fn queue_for<'a>(&'a self, channel: &'a str) -> Result<Option<&'a str>, SqsError> {
        match self.queues.get(channel).map(Vec::as_slice) {
            None | Some([]) if self.subscribed.contains(channel) => Ok(Some(channel)),
            None | Some([]) => Ok(None),
            Some([queue]) => Ok(Some(queue)),
            Some(queues) => Err(SqsError::AmbiguousQueue {
                channel: channel.to_owned(),
                queues: queues.to_vec(),
            }),
        }
    }

    /// Sends `payload` to the queue of `channel`: SQS's message id, or
    /// `None` when the channel has no queue and the message is dropped. A
    /// FIFO queue's messages all go in one group, named after the channel,
    /// so they keep the order they were published in.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<Option<String>, SqsError> {
        let text = std::str::from_utf8(payload).map_err(|_| SqsError::NotText(payload.len()))?;
        let Some(queue) = self.queue_for(channel)? else {
            tracing::warn!(
                target: "cloudfn::event",
                channel,
                "dropped: no [[trigger.redis]] subscribes to this channel and CLOUDFN_SQS_CHANNELS maps no queue to it"
            );
            return Ok(None);
        };
        let url = self.queue_url(queue).await?;
        let mut request = json!({"QueueUrl": url, "MessageBody": text});
        if queue.ends_with(".fifo") {
            request["MessageGroupId"] = channel.into();
            request["MessageDeduplicationId"] = deduplication_id().into();
        }
        let reply = self.call("SendMessage", queue, &request).await?;
        match reply.get("MessageId").and_then(Value::as_str) {
            Some(id) => Ok(Some(id.to_owned())),
            None => Err(call_error(
                "SendMessage",
                queue,
                "the reply has no MessageId",
            )),
        }
    }

    async fn queue_url(&self, queue: &str) -> Result<String, SqsError> {
        if let Some(url) = self.lock_urls().get(queue) {
            return Ok(url.clone());
        }
        let reply = self
            .call("GetQueueUrl", queue, &json!({"QueueName": queue}))
            .await?;
        let url = reply
            .get("QueueUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| call_error("GetQueueUrl", queue, "the reply has no QueueUrl"))?;
        self.lock_urls().insert(queue.to_owned(), url.to_owned());
        Ok(url.to_owned())
    }

    fn lock_urls(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One signed call of the JSON protocol; the reply's JSON.
    async fn call(
        &self,
        operation: &'static str,
        queue: &str,
        request: &Value,
    ) -> Result<Value, SqsError> {
        let region = self
            .region
            .as_deref()
            .ok_or(SqsError::Missing("AWS_REGION"))?;
        let credentials = self.credentials.as_ref().ok_or(SqsError::Missing(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ))?;
        let endpoint = self
            .endpoint
            .as_deref()
            .ok_or(SqsError::Missing("AWS_REGION"))?;
        let fail = |message: String| call_error(operation, queue, message);
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| fail(format!("the endpoint {endpoint} is not a URL: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(fail(format!("the endpoint {endpoint} names no host"))),
        };
        let body = serde_json::to_vec(request).unwrap_or_default();
        let target = format!("AmazonSQS.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ];
        let mut attempt = 1;
        loop {
            let signed = sigv4::sign(
                &sigv4::Request {
                    host: &host,
                    headers: &headers,
                    body: &body,
                },
                credentials,
                region,
                "sqs",
                &sigv4::amz_date(super::broker::now_ms() / 1000),
            );
            let mut builder = self.http().post(url.clone()).header("host", &host);
            for (name, value) in headers
                .into_iter()
                .chain(signed.iter().map(|(name, value)| (*name, value.as_str())))
            {
                builder = builder.header(name, value);
            }
            match send(builder.body(body.clone())).await {
                Ok(reply) => return Ok(reply),
                Err(failure) if failure.retryable && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(failure) if attempt > 1 => {
                    return Err(fail(format!(
                        "{} (attempt {attempt} of {ATTEMPTS})",
                        failure.message
                    )));
                }
                Err(failure) => return Err(fail(failure.message)),
            }
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(CALL_TIMEOUT)
                .build()
                .unwrap_or_default()
        })
    }
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    retryable: bool,
}

/// Sends one attempt; the reply's JSON.
async fn send(request: reqwest::RequestBuilder) -> Result<Value, Failure> {
    // A connection that failed or timed out may work the next time.
    let transport = |e: reqwest::Error| Failure {
        message: transport_error(&e),
        retryable: true,
    };
    let response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(transport)?;
    if !(200..300).contains(&status) {
        let (code, message) = service_error(status, &text);
        return Err(Failure {
            message,
            retryable: retryable(status, code.as_deref()),
        });
    }
    serde_json::from_str(&text).map_err(|e| Failure {
        message: format!("the reply is not JSON: {e}"),
        retryable: false,
    })
}

/// Whether SQS's answer is one the AWS SDKs retry: throttling, and the
/// service's own failures.
fn retryable(status: u16, code: Option<&str>) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
        || code.is_some_and(|code| {
            matches!(
                code,
                "Throttling"
                    | "ThrottlingException"
                    | "RequestThrottled"
                    | "RequestThrottledException"
                    | "KMS.ThrottlingException"
                    | "ServiceUnavailable"
                    | "InternalError"
                    | "InternalFailure"
            )
        })
}

/// The wait before attempt `attempt + 1`: a random share ("full jitter")
/// of 100 ms, doubled for each attempt made.
fn backoff(attempt: u32) -> Duration {
    let share = f64::from(random::<1>()[0]) / 255.0;
    Duration::from_millis(100 << (attempt - 1).min(4)).mul_f64(share)
}

fn call_error(operation: &'static str, queue: &str, message: impl Into<String>) -> SqsError {
    SqsError::Call {
        operation,
        queue: queue.to_owned(),
        message: message.into(),
    }
}

/// A transport failure with its causes (reqwest's top line alone says
/// only "error sending request").
fn transport_error(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// SQS's error reply: its code, and one line `Code: message (HTTP
/// status)`. The JSON protocol answers `{"__type": "…#Code", "message": …}`;
/// some servers still answer the query protocol's XML.
fn service_error(status: u16, body: &str) -> (Option<String>, String) {
    let (code, message) = match serde_json::from_str::<Value>(body) {
        Ok(reply) => (
            reply
                .get("__type")
                .and_then(Value::as_str)
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned()),
            reply
                .get("message")
                .or_else(|| reply.get("Message"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        Err(_) => (xml_text(body, "Code"), xml_text(body, "Message")),
    };
    let line = match (&code, message) {
        (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
        (Some(code), None) => format!("{code} (HTTP {status})"),
        (None, Some(message)) => format!("{message} (HTTP {status})"),
        (None, None) => {
            let shown: String = body.trim().chars().take(200).collect();
            format!("HTTP {status}: {shown}")
        }
    };
    (code, line)
}

fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].to_owned())
}

/// A FIFO message's deduplication id: random, so two equal messages
/// published on purpose are both delivered.
fn deduplication_id() -> String {
    sigv4::hex(&random::<16>())
}

/// `N` bytes from the system's random generator, or, should it fail, from
/// the clock's nanoseconds.
fn random<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_le_bytes();
        for (byte, nano) in bytes.iter_mut().zip(nanos.iter().cycle()) {
            *byte = *nano;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(env: &[(&str, &str)], queues: &[(&str, &str)]) -> SqsPublisher {
        let queues = queues
            .iter()
            .map(|(q, c)| ((*q).to_owned(), (*c).to_owned()))
            .collect();
        SqsPublisher::from_env(
            |name| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            },
            &queues,
            ["feed", "orders"].map(str::to_owned).into(),
        )
    }

    #[test]
    fn a_channel_goes_to_its_one_queue_or_the_queue_of_its_name() {
        let p = publisher(
            &[("AWS_REGION", "eu-west-1")],
            &[("cloudfn-feed", "feed"), ("a", "jobs"), ("b", "jobs")],
        );
        assert_eq!(p.endpoint(), Some("https://sqs.eu-west-1.amazonaws.com"));
        assert_eq!(p.queue_for("feed").ok(), Some(Some("cloudfn-feed")));
        assert_eq!(p.queue_for("orders").ok(), Some(Some("orders")));
        assert_eq!(p.queue_for("secrets").ok(), Some(None), "no queue");
        let e = p.queue_for("jobs").expect_err("two queues");
        assert_eq!(
            e.to_string(),
            "channel `jobs` is fed by 2 queues (a, b), and a message goes to one: map a single queue to it"
        );
    }

    #[test]
    fn the_endpoint_is_the_sdks_setting_when_given() {
        let p = publisher(
            &[
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:2"),
            ],
            &[],
        );
        assert_eq!(p.endpoint(), Some("http://127.0.0.1:2"));
    }

    #[tokio::test]
    async fn what_is_missing_is_named_before_anything_is_sent() {
        let p = publisher(&[("AWS_REGION", "us-east-1")], &[]);
        // A channel without a queue: dropped, as Redis drops it, nothing sent.
        assert_eq!(p.publish("nobody", b"{}").await.ok(), Some(None));
        let e = p.publish("feed", b"{}").await.expect_err("no credentials");
        assert_eq!(
            e.to_string(),
            "publishing to SQS needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which is not set"
        );
        let p = publisher(&[], &[]);
        let e = p.publish("feed", b"{}").await.expect_err("no region");
        assert!(e.to_string().contains("AWS_REGION"), "{e}");
        let e = p.publish("feed", &[0xff, 0xfe]).await.expect_err("binary");
        assert_eq!(
            e.to_string(),
            "SQS carries text, and this message of 2 bytes is not UTF-8"
        );
    }

    #[test]
    fn service_errors_read_as_one_line() {
        let line = |status, body| service_error(status, body).1;
        assert_eq!(
            line(
                400,
                r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
            ),
            "QueueDoesNotExist: The specified queue does not exist. (HTTP 400)"
        );
        assert_eq!(
            line(
                403,
                "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message></Error></Errors></ErrorResponse>"
            ),
            "SignatureDoesNotMatch: The request signature we calculated does not match. (HTTP 403)"
        );
        assert_eq!(line(502, " bad gateway "), "HTTP 502: bad gateway");
    }

    #[test]
    fn fifo_deduplication_ids_differ() {
        let (a, b) = (deduplication_id(), deduplication_id());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    /// A stand-in SQS endpoint on loopback: it answers the requests in turn
    /// with `replies` and records each one's `x-amz-target`.
    async fn endpoint(
        replies: Vec<(u16, &'static str)>,
    ) -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let targets = std::sync::Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        tokio::spawn(async move {
            for (status, body) in replies {
                let (mut socket, _) = listener.accept().await.expect("accept");
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                let head = loop {
                    let n = socket.read(&mut chunk).await.expect("read");
                    request.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().expect("length"));
                        if request.len() >= end + 4 + length || n == 0 {
                            break text;
                        }
                    }
                };
                let target = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-amz-target:"))
                    .map(|t| t.trim().trim_start_matches("amazonsqs.").to_owned());
                seen.lock().expect("lock").push(target.unwrap_or_default());
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(reply.as_bytes()).await.expect("write");
            }
        });
        (format!("http://{addr}"), targets)
    }

    fn publisher_at(endpoint: &str) -> SqsPublisher {
        publisher(
            &[
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT_URL_SQS", endpoint),
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ],
            &[],
        )
    }

    const THROTTLED: &str =
        r#"{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}"#;
    const UNAVAILABLE: &str =
        r#"{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"Try again"}"#;

    #[tokio::test]
    async fn throttling_and_service_failures_are_tried_again() {
        let (url, targets) = endpoint(vec![
            (400, THROTTLED),
            (200, r#"{"QueueUrl":"http://127.0.0.1:1/123/feed"}"#),
            (503, UNAVAILABLE),
            (200, r#"{"MessageId":"m-1"}"#),
        ])
        .await;
        let sent = publisher_at(&url).publish("feed", b"{}").await;
        assert_eq!(sent.ok(), Some(Some("m-1".to_owned())));
        assert_eq!(
            *targets.lock().expect("lock"),
            ["getqueueurl", "getqueueurl", "sendmessage", "sendmessage"]
        );
    }

    #[tokio::test]
    async fn a_refusal_is_not_tried_again_and_a_failure_at_most_three_times() {
        let (url, targets) = endpoint(vec![(
            400,
            r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#,
        )])
        .await;
        let e = publisher_at(&url)
            .publish("feed", b"{}")
            .await
            .expect_err("refused");
        assert_eq!(
            e.to_string(),
            "SQS GetQueueUrl for queue `feed`: QueueDoesNotExist: The specified queue does not exist. (HTTP 400)"
        );
        assert_eq!(targets.lock().expect("lock").len(), 1);

        let (url, targets) = endpoint(vec![(500, UNAVAILABLE); 3]).await;
        let e = publisher_at(&url)
            .publish("feed", b"{}")
            .await
            .expect_err("failed");
        assert!(
            e.to_string().ends_with("(HTTP 500) (attempt 3 of 3)"),
            "{e}"
        );
        assert_eq!(targets.lock().expect("lock").len(), 3);
    }
}
