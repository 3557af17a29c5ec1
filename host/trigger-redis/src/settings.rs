//! The event settings only cloudfn has, where Spin ignores them:
//! `[application.tool.cloudfn.events]` for the whole application and
//! `[component.ID.tool.cloudfn.events]` for one consumer.
//!
//! ```toml
//! [application.tool.cloudfn.events]
//! max_depth = 100000      # messages the embedded queue may hold
//! max_bytes = "256MiB"    # payload bytes it may hold
//! concurrency = 50        # deliveries at once, over all consumers (default: half of --max-concurrent)
//! attempts = 5            # deliveries of a message before it is dead-lettered
//! backoff = "1s"          # wait before the first retry, doubled for each next one
//! max_backoff = "5m"      # longest wait
//!
//! [component.thumbnailer.tool.cloudfn.events]
//! attempts = 3            # attempts, backoff and max_backoff, for this consumer
//! concurrency = 8         # its deliveries at once, in no particular order
//!                         # (default 1: Spin's order, one message at a time)
//! ```

use cloudfn_engine::limits::{parse_duration, parse_size};
use cloudfn_events::QueueLimits;
use cloudfn_manifest::Manifest;
use std::time::Duration;

/// How one consumer's failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Deliveries of one message before it is dead-lettered (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; each next one waits twice as long.
    pub backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
    /// This consumer's deliveries at once, at most. `1` (the default) is
    /// Spin's order: its messages one at a time, in publish order, each
    /// with the other ordered consumers of the same Redis address; above
    /// `1`, deliveries overlap and come in no particular order (an opt-in
    /// for consumers that are safe under concurrency).
    pub concurrency: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            concurrency: 1,
        }
    }
}

impl DeliveryPolicy {
    /// Whether the consumer takes its messages in Spin's order.
    pub fn ordered(&self) -> bool {
        self.concurrency == 1
    }

    /// When attempt `attempt` (from 1) failed: the wait before the next, or
    /// `None` when that was the last and the message is dead-lettered.
    pub fn retry_in(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
        Some(self.backoff.saturating_mul(doubling).min(self.max_backoff))
    }
}

/// The application's event settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSettings {
    /// The embedded queue's bounds.
    pub queue: QueueLimits,
    /// Deliveries at once, over all consumers (`None`: half of `--max-concurrent`).
    pub concurrency: Option<usize>,
    /// The retry policy of consumers that set none.
    pub policy: DeliveryPolicy,
}

const APPLICATION_KEYS: &[&str] = &[
    "max_depth",
    "max_bytes",
    "concurrency",
    "attempts",
    "backoff",
    "max_backoff",
];
const COMPONENT_KEYS: &[&str] = &["attempts", "backoff", "max_backoff", "concurrency"];

/// Reads `[application.tool.cloudfn.events]`.
pub fn application_settings(manifest: &Manifest) -> Result<EventSettings, String> {
    let table = events_table(manifest.application.tool.as_ref(), "application")?;
    let mut settings = EventSettings {
        queue: QueueLimits::default(),
        concurrency: None,
        policy: DeliveryPolicy::default(),
    };
    let Some(table) = table else {
        return Ok(settings);
    };
    check_keys(table, APPLICATION_KEYS, "application")?;
    let key = |name: &str| format!("application.tool.cloudfn.events.{name}");
    if let Some(v) = table.get("max_depth") {
        settings.queue.max_depth = positive(v, &key("max_depth"))?;
    }
    if let Some(v) = table.get("max_bytes") {
        settings.queue.max_bytes = size(v, &key("max_bytes"))?;
    }
    if let Some(v) = table.get("concurrency") {
        settings.concurrency = Some(positive(v, &key("concurrency"))? as usize);
    }
    settings.policy = policy(table, DeliveryPolicy::default(), &key)?;
    Ok(settings)
}

/// Reads `[component.ID.tool.cloudfn.events]` over the application's policy.
pub fn component_policy(
    manifest: &Manifest,
    id: &str,
    default: DeliveryPolicy,
) -> Result<DeliveryPolicy, String> {
    let prefix = format!("component.{id}");
    let tool = manifest.components.get(id).and_then(|c| c.tool.as_ref());
    let Some(table) = events_table(tool, &prefix)? else {
        return Ok(default);
    };
    check_keys(table, COMPONENT_KEYS, &prefix)?;
    let key = |name: &str| format!("{prefix}.tool.cloudfn.events.{name}");
    let mut policy = policy(table, default, &key)?;
    if let Some(v) = table.get("concurrency") {
        policy.concurrency = usize::try_from(positive(v, &key("concurrency"))?)
            .map_err(|_| format!("{} is too large", key("concurrency")))?;
    }
    Ok(policy)
}

fn events_table<'a>(
    tool: Option<&'a toml::Table>,
    prefix: &str,
) -> Result<Option<&'a toml::Table>, String> {
    match tool
        .and_then(|t| t.get("cloudfn"))
        .and_then(|c| c.get("events"))
    {
        None => Ok(None),
        Some(toml::Value::Table(t)) => Ok(Some(t)),
        Some(_) => Err(format!("{prefix}.tool.cloudfn.events must be a table")),
    }
}

fn check_keys(table: &toml::Table, allowed: &[&str], prefix: &str) -> Result<(), String> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(format!(
            "{prefix}.tool.cloudfn.events: unknown key `{k}` (known: {})",
            allowed.join(", ")
        )),
    }
}

fn policy(
    table: &toml::Table,
    mut policy: DeliveryPolicy,
    key: &dyn Fn(&str) -> String,
) -> Result<DeliveryPolicy, String> {
    if let Some(v) = table.get("attempts") {
        policy.attempts = u32::try_from(positive(v, &key("attempts"))?)
            .map_err(|_| format!("{} is too large", key("attempts")))?;
    }
    if let Some(v) = table.get("backoff") {
        policy.backoff = duration(v, &key("backoff"))?;
    }
    if let Some(v) = table.get("max_backoff") {
        policy.max_backoff = duration(v, &key("max_backoff"))?;
    }
    Ok(policy)
}

fn positive(value: &toml::Value, key: &str) -> Result<u64, String> {
    match value.as_integer() {
        Some(n) if n >= 1 => Ok(n as u64),
        _ => Err(format!(
            "{key} must be a whole number of at least 1, not {value}"
        )),
    }
}

fn size(value: &toml::Value, key: &str) -> Result<u64, String> {
    match value {
        toml::Value::String(s) => parse_size(s).map_err(|e| format!("{key}: {e}")),
        toml::Value::Integer(n) if *n >= 1 => Ok(*n as u64),
        other => Err(format!(
            "{key} must be a size such as \"256MiB\", not {other}"
        )),
    }
}

fn duration(value: &toml::Value, key: &str) -> Result<Duration, String> {
    match value {
        toml::Value::String(s) => parse_duration(s).map_err(|e| format!("{key}: {e}")),
        other => Err(format!(
            "{key} must be a duration such as \"1s\", not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_then_gives_up() {
        let policy = DeliveryPolicy {
            attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            concurrency: 1,
        };
        let waits: Vec<_> = (1..=5).map(|a| policy.retry_in(a)).collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(300)),
                Some(Duration::from_millis(300)),
                None
            ]
        );
    }

    #[test]
    fn settings_are_read_and_unknown_keys_named() {
        let text = r#"
spin_manifest_version = 2
[application]
name = "x"
[application.tool.cloudfn.events]
max_depth = 10
max_bytes = "1KiB"
attempts = 2
[component.c]
source = "c.wasm"
[component.c.tool.cloudfn.events]
backoff = "50ms"
"#;
        let manifest = Manifest::parse("spin.toml".as_ref(), text, ".".into()).expect("valid");
        let app = application_settings(&manifest).expect("settings");
        assert_eq!(app.queue.max_depth, 10);
        assert_eq!(app.queue.max_bytes, 1024);
        let c = component_policy(&manifest, "c", app.policy).expect("policy");
        assert_eq!((c.attempts, c.backoff), (2, Duration::from_millis(50)));
        assert!(c.ordered(), "Spin's order unless the component opts out");
        let concurrent = Manifest::parse(
            "spin.toml".as_ref(),
            &text.replace("backoff = \"50ms\"", "concurrency = 8"),
            ".".into(),
        )
        .expect("valid");
        let c = component_policy(&concurrent, "c", app.policy).expect("policy");
        assert_eq!((c.concurrency, c.ordered()), (8, false));
        let bad = Manifest::parse(
            "spin.toml".as_ref(),
            &text.replace("backoff = \"50ms\"", "retries = 3"),
            ".".into(),
        )
        .expect("valid");
        assert_eq!(
            component_policy(&bad, "c", app.policy).expect_err("unknown key"),
            "component.c.tool.cloudfn.events: unknown key `retries` (known: attempts, backoff, max_backoff, concurrency)"
        );
    }
}
