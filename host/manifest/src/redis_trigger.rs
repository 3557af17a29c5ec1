//! `[[trigger.redis]]` and `[application.trigger.redis]`, with exactly
//! Spin's keys: a trigger names its `component`, its `channel` and
//! optionally its own `address`; the application names the default
//! `address`. Both may be `{{ variable }}` templates, resolved when the
//! trigger starts. Spin refuses any other key here, and so does cloudfn.

use super::toml_error::ManifestError;
use super::{RawTrigger, TriggerContext};
use super::{Variable, template_references};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[application.trigger.redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisAppSettings {
    /// The default Redis address of every `[[trigger.redis]]`
    /// (`redis://host:port`), a template over application variables.
    pub address: String,
}

/// One `[[trigger.redis]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// The component that handles the channel's messages.
    pub component: String,
    /// The channel it subscribes to (a template over application variables).
    pub channel: String,
    /// The Redis address (a template): the trigger's own `address`, else
    /// `[application.trigger.redis] address`.
    pub address: String,
}

/// Reads one `[[trigger.redis]]` table.
pub(super) fn parse(
    ctx: &TriggerContext<'_>,
    trigger: &RawTrigger,
    app: Option<&RedisAppSettings>,
    variables: &BTreeMap<String, Variable>,
) -> Result<RedisTrigger, ManifestError> {
    ctx.only(trigger, &["component", "channel", "address"])?;
    let component = ctx.component(trigger)?;
    let Some(channel) = &trigger.channel else {
        return Err(ctx.error(None, "channel", "missing `channel`".into()));
    };
    let channel_span = channel.span();
    let channel = ctx.string(channel, "channel")?;
    if channel.is_empty() {
        return Err(ctx.error(Some(channel_span), "channel", "must not be empty".into()));
    }
    let (address, address_span) = match (&trigger.address, app) {
        (Some(address), _) => (ctx.string(address, "address")?, Some(address.span())),
        (None, Some(app)) => (app.address.clone(), None),
        (None, None) => {
            return Err(ctx.error(
                None,
                "address",
                "no Redis address: set `address` here or in [application.trigger.redis]".into(),
            ));
        }
    };
    for (field, template, span) in [
        ("channel", &channel, Some(channel_span)),
        ("address", &address, address_span),
    ] {
        if let Some(var) = template_references(template).find(|v| !variables.contains_key(*v)) {
            return Err(ctx.error(
                span,
                field,
                format!("refers to undefined application variable `{var}`"),
            ));
        }
    }
    Ok(RedisTrigger {
        component,
        channel,
        address,
    })
}
