//! `[[trigger.http]]`: a route and the component that serves it.

use super::toml_error::ManifestError;
use super::{RawTrigger, TriggerContext};
use crate::routes::RoutePattern;
use std::fmt;
use toml::Spanned;

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The route pattern (`/x`, `/x/:id`, `/x/...`).
    pub route: RoutePattern,
    /// The component id serving the route.
    pub component: String,
}

impl fmt::Display for HttpTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.route, self.component)
    }
}

/// Reads one `[[trigger.http]]` table; `None` for a private endpoint
/// (`route = { private = true }`), reachable only through service chaining.
/// Keys Spin's HTTP trigger has and cloudfn does not act on (`executor`)
/// are accepted.
pub(super) fn parse(
    ctx: &TriggerContext<'_>,
    trigger: &RawTrigger,
) -> Result<Option<HttpTrigger>, ManifestError> {
    let route = match trigger.route.as_ref().map(|r| (r, r.get_ref())) {
        Some((_, toml::Value::String(route))) => route.clone(),
        Some((_, toml::Value::Table(t)))
            if t.get("private").and_then(toml::Value::as_bool) == Some(true) =>
        {
            return Ok(None);
        }
        Some((r, _)) => {
            return Err(ctx.error(
                Some(r.span()),
                "route",
                "route must be a string pattern or `{ private = true }`".into(),
            ));
        }
        None => return Err(ctx.error(None, "route", "missing `route`".into())),
    };
    let component = ctx.component(trigger)?;
    let route = RoutePattern::parse(&route).map_err(|message| {
        ctx.error(
            trigger.route.as_ref().map(Spanned::span),
            "route",
            message.to_string(),
        )
    })?;
    Ok(Some(HttpTrigger { route, component }))
}
