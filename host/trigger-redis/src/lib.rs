//! The Redis trigger (`[[trigger.redis]]`), as Spin defines it: each
//! message published on a channel goes to every component subscribed to
//! it, each in a fresh instance, through its `fermyon:spin/inbound-redis`
//! or `spin:redis/inbound-redis@3.0.0` export.
//!
//! **Order**, as Spin's `crates/trigger-redis/src/lib.rs` has it: the
//! messages of one Redis address go one at a time, in publish order, each
//! to all its channel's components at once, the next once every one of
//! them is done. A consumer may opt out with `concurrency` above 1 in
//! `[component.ID.tool.cloudfn.events]` ([`settings`]): its deliveries then
//! overlap, up to that many, in no particular order.
//!
//! Messages come from one of two places ([`cloudfn_events::Route`]):
//! - the embedded broker ([`embedded`], the default): at least once, each
//!   consumer acknowledging its own delivery, retried with backoff, then
//!   dead-lettered; a retry holds back the messages after it (see
//!   [`cloudfn_events::store`]);
//! - a real Redis server ([`subscribe`], `cloudfn up --redis URL`): Spin's
//!   own semantics, SUBSCRIBE, at most once, a failed handler only logged.

pub mod deliver;
pub mod embedded;
pub mod settings;
pub mod subscribe;

use cloudfn_engine::limits::{Limits, format_size};
use cloudfn_engine::state::MemoryUsage;
use cloudfn_engine::{EngineError, Runtime};
use cloudfn_manifest::Manifest;
use cloudfn_services::variables::{VariableError, resolve_template};
use deliver::Consumer;
use settings::{EventSettings, application_settings, component_policy};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::Trap;

/// Errors starting the Redis trigger.
#[derive(Debug, thiserror::Error)]
pub enum RedisTriggerError {
    /// A component could not be loaded.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A trigger's `address` or `channel` refers to a variable without a value.
    #[error("trigger.redis[{index}]: {source}")]
    Variable {
        /// The trigger's index in the manifest.
        index: usize,
        /// What is missing.
        source: VariableError,
    },
    /// The component has no Redis-trigger export, or more than one.
    #[error("component `{id}` is subscribed to channel `{channel}` but {problem}")]
    NotAHandler {
        /// Component id.
        id: String,
        /// The channel.
        channel: String,
        /// What is wrong, in Spin's words.
        problem: &'static str,
    },
    /// `tool.cloudfn.events` settings are invalid.
    #[error("{0}")]
    Settings(String),
    /// The broker or the Redis server failed.
    #[error("{0}")]
    Broker(#[from] cloudfn_events::BrokerError),
    /// The Redis server could not be reached.
    #[error("Redis trigger failed to connect to {address}: {message}")]
    Connect {
        /// The address.
        address: String,
        /// Why.
        message: String,
    },
    /// The connection to the Redis server ended.
    #[error("Redis trigger lost its connection to {address}")]
    Disconnected {
        /// The address.
        address: String,
    },
}

/// One `[[trigger.redis]]` with its templates resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTrigger {
    /// The Redis address.
    pub address: String,
    /// The channel.
    pub channel: String,
    /// The consumer's component id.
    pub component: String,
}

/// Resolves the `address` and `channel` templates of every
/// `[[trigger.redis]]` against the application variables
/// (`SPIN_VARIABLE_*`, then defaults), as Spin does at start.
pub fn resolve(manifest: &Manifest) -> Result<Vec<ResolvedTrigger>, RedisTriggerError> {
    let env = |name: &str| std::env::var(name).ok();
    manifest
        .redis_triggers
        .iter()
        .enumerate()
        .map(|(index, t)| {
            let resolve = |template: &str| {
                resolve_template(manifest, template, env)
                    .map_err(|source| RedisTriggerError::Variable { index, source })
            };
            Ok(ResolvedTrigger {
                address: resolve(&t.address)?,
                channel: resolve(&t.channel)?,
                component: t.component.clone(),
            })
        })
        .collect()
}

/// Every subscribed consumer of one manifest, ready to deliver to.
pub struct RedisApp {
    runtime: Arc<Runtime>,
    settings: EventSettings,
    /// Consumers by component id.
    consumers: BTreeMap<String, Arc<Consumer>>,
    /// `(address, channel) → consumers`, in manifest order.
    channels: BTreeMap<(String, String), Vec<Arc<Consumer>>>,
}

impl RedisApp {
    /// Loads every component a `[[trigger.redis]]` names and checks it exports
    /// exactly one Redis-trigger interface.
    pub fn new(
        runtime: Arc<Runtime>,
        manifest: &Manifest,
        triggers: &[ResolvedTrigger],
    ) -> Result<Self, RedisTriggerError> {
        let settings = application_settings(manifest).map_err(RedisTriggerError::Settings)?;
        let mut consumers: BTreeMap<String, Arc<Consumer>> = BTreeMap::new();
        let mut channels: BTreeMap<(String, String), Vec<Arc<Consumer>>> = BTreeMap::new();
        for trigger in triggers {
            let consumer = match consumers.get(&trigger.component) {
                Some(consumer) => consumer.clone(),
                None => {
                    let component = Arc::new(runtime.load(manifest, &trigger.component)?);
                    tracing::info!(component = %component.id, cache = ?component.cache_outcome, "component loaded");
                    let not_a_handler = |problem| RedisTriggerError::NotAHandler {
                        id: trigger.component.clone(),
                        channel: trigger.channel.clone(),
                        problem,
                    };
                    let handler = match component.redis_handlers.as_slice() {
                        [one] => one.clone(),
                        [] => {
                            return Err(not_a_handler(
                                "does not export a Redis interface (fermyon:spin/inbound-redis or spin:redis/inbound-redis@3.0.0)",
                            ));
                        }
                        _ => return Err(not_a_handler("exports multiple Redis interfaces")),
                    };
                    let policy = component_policy(manifest, &trigger.component, settings.policy)
                        .map_err(RedisTriggerError::Settings)?;
                    let consumer = Arc::new(Consumer {
                        id: trigger.component.clone(),
                        component,
                        handler,
                        policy,
                        slots: Arc::new(tokio::sync::Semaphore::new(policy.concurrency)),
                    });
                    consumers.insert(trigger.component.clone(), consumer.clone());
                    consumer
                }
            };
            let subscribed = channels
                .entry((trigger.address.clone(), trigger.channel.clone()))
                .or_default();
            if !subscribed.iter().any(|c| c.id == consumer.id) {
                subscribed.push(consumer);
            }
        }
        Ok(Self {
            runtime,
            settings,
            consumers,
            channels,
        })
    }

    /// `(address, channel, component)` of every subscription.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.channels
            .iter()
            .flat_map(|((address, channel), consumers)| {
                consumers
                    .iter()
                    .map(move |c| (address.as_str(), channel.as_str(), c.id.as_str()))
            })
    }

    /// Deliveries at once, over all consumers.
    pub fn concurrency(&self) -> usize {
        self.settings
            .concurrency
            .unwrap_or_else(|| (self.runtime.limits().max_concurrent as usize / 2).max(1))
    }

    /// The engine and limits the consumers run under.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The consumers subscribed to `channel` at any address, each once: a
    /// platform without Redis addresses (Lambda) maps its queues onto
    /// channels by name.
    pub fn consumers_on_channel(&self, channel: &str) -> Vec<Arc<Consumer>> {
        let mut found: Vec<Arc<Consumer>> = Vec::new();
        for consumer in self
            .channels
            .iter()
            .filter(|((_, c), _)| c == channel)
            .flat_map(|(_, consumers)| consumers)
        {
            if !found.iter().any(|c| c.id == consumer.id) {
                found.push(consumer.clone());
            }
        }
        found
    }

    /// The consumer `id`, if the manifest has it.
    pub fn consumer(&self, id: &str) -> Option<&Arc<Consumer>> {
        self.consumers.get(id)
    }

    fn consumers_of(&self, address: &str, channel: &str) -> &[Arc<Consumer>] {
        self.channels
            .get(&(address.to_owned(), channel.to_owned()))
            .map_or(&[], Vec::as_slice)
    }
}

/// Why an instance failed, in words (the memory limit, the stack, a trap).
fn dispatch_failure(
    error: &wasmtime::Error,
    usage: &MemoryUsage,
    max_memory: u64,
    limits: &Limits,
) -> String {
    if usage.limit_hit() {
        return format!(
            "exceeded its memory limit of {}",
            limits.describe_memory_limit(max_memory)
        );
    }
    match cloudfn_engine::trap_of(error) {
        Some(Trap::Interrupt) => format!("did not finish within {:?} (--timeout)", limits.timeout),
        Some(Trap::StackOverflow) => format!(
            "overflowed its stack of {} (--max-stack)",
            format_size(limits.max_stack)
        ),
        Some(trap) => format!("trapped: {trap}"),
        None => format!("failed: {error:#}"),
    }
}
