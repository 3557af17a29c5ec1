//! Parsing and validation of a Spin application manifest (`spin_manifest_version = 2`).
//!
//! Every key Spin accepts in the parts modelled here is accepted; the few
//! cloudfn does not act on (`authors`, `exclude_files`, `sqlite_databases`,
//! `ai_models`, build `watch`) are kept but unused. Anything else is refused
//! with the file, line and key, as Spin does.
//!
//! Trigger kinds are peers: each `[[trigger.KIND]]` table is read by its
//! kind's own module (`http_trigger`, `redis_trigger`) with its kind's keys.

mod http_trigger;
mod redis_trigger;
pub mod routes;
mod toml_error;

pub use http_trigger::HttpTrigger;
pub use redis_trigger::{RedisAppSettings, RedisTrigger};
pub use toml_error::{ManifestError, error_at, from_toml};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Errors reading a manifest.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The manifest file could not be read.
    #[error("cannot read manifest {}", path.display())]
    Read {
        /// The path that was read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest was read but is invalid.
    #[error(transparent)]
    Invalid(#[from] ManifestError),
}

/// A parsed and validated Spin manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The directory the manifest lives in; relative paths resolve against it.
    pub dir: PathBuf,
    /// `[application]`.
    pub application: Application,
    /// Application variables (`[variables]`), by name.
    pub variables: BTreeMap<String, Variable>,
    /// Every `[[trigger.http]]`, in manifest order (private routes left out).
    pub http_triggers: Vec<HttpTrigger>,
    /// Every `[[trigger.redis]]`, in manifest order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// Components by id, in id order.
    pub components: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Application version.
    #[serde(default)]
    pub version: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Authors (ignored).
    #[serde(default)]
    pub authors: Vec<String>,
    /// Application-level trigger settings (`[application.trigger.KIND]`).
    #[serde(default)]
    pub trigger: ApplicationTriggers,
    /// `[application.tool]`: `tool.cloudfn` holds cloudfn's own
    /// application settings; Spin ignores the table.
    #[serde(default)]
    pub tool: Option<toml::Table>,
}

/// `[application.trigger]`: the settings of each trigger kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApplicationTriggers {
    /// `[application.trigger.redis]`.
    #[serde(default)]
    pub redis: Option<RedisAppSettings>,
    /// Other kinds' settings (`[application.trigger.http]` has none cloudfn reads).
    #[serde(flatten)]
    pub other: toml::Table,
}

/// One application variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Default value, if any.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether a value must be supplied.
    #[serde(default)]
    pub required: bool,
    /// Whether the value is secret (never logged).
    #[serde(default)]
    pub secret: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[component.ID]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Path of the `.wasm` file, relative to the manifest directory.
    pub source: Spanned<Source>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Files and directories granted to the guest.
    #[serde(default)]
    pub files: Vec<FileMount>,
    /// Patterns excluded from `files` (accepted, not supported beyond directories).
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// Environment variables granted to the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Hosts the guest may reach (`https://example.com`, `*://*:*`).
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name → template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Key-value stores (Spin); `default` grants the host's blob store.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// `[component.X.build]`.
    #[serde(default)]
    pub build: Option<Build>,
    /// `[component.X.dependencies]` (Spin component dependencies).
    #[serde(default)]
    pub dependencies: Option<toml::Table>,
    /// Whether dependencies inherit this component's configuration.
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    /// `[component.X.tool]`: `tool.cloudfn` holds cloudfn's own settings
    /// (`max_request_body`, `max_response_body`, and keys the portability
    /// check reads); Spin ignores the table.
    #[serde(default)]
    pub tool: Option<toml::Table>,
    /// Spin keys cloudfn does not act on.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// Spin keys cloudfn does not act on.
    #[serde(default)]
    pub ai_models: Vec<String>,
}

/// A component source: a local path (URL sources are not supported).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// A path relative to the manifest.
    Path(PathBuf),
    /// A remote source (`{ url, digest }`); cloudfn refuses it with a clear message.
    Remote(toml::Table),
}

/// One entry of `files`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FileMount {
    /// A directory relative to the manifest, mounted at the same path (files
    /// and glob patterns are refused when the component is loaded).
    Path(String),
    /// A host directory mounted at a guest directory.
    Mapping {
        /// Host path relative to the manifest.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

/// `[component.X.build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// Shell command to run.
    pub command: String,
    /// Directory to run it in, relative to the manifest.
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Watch patterns (ignored).
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: Spanned<toml::Value>,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(default)]
    trigger: BTreeMap<String, Spanned<Vec<RawTrigger>>>,
    #[serde(default)]
    component: BTreeMap<String, Component>,
}

/// One `[[trigger.KIND]]` table, before its kind's parser reads it.
/// Every key any trigger kind reads is named here, so its span is kept
/// (toml loses spans under `flatten`); each kind's parser refuses the keys
/// it does not have.
#[derive(Deserialize)]
struct RawTrigger {
    #[serde(default)]
    route: Option<Spanned<toml::Value>>,
    #[serde(default)]
    component: Option<Spanned<toml::Value>>,
    #[serde(default)]
    channel: Option<Spanned<toml::Value>>,
    #[serde(default)]
    address: Option<Spanned<toml::Value>>,
    /// Keys no kind reads here (Spin's `executor` of HTTP triggers, typos).
    #[serde(flatten)]
    rest: BTreeMap<String, toml::Value>,
}

impl RawTrigger {
    /// The keys present, by name.
    fn present(&self) -> impl Iterator<Item = (&str, Option<Range<usize>>)> {
        [
            ("route", &self.route),
            ("component", &self.component),
            ("channel", &self.channel),
            ("address", &self.address),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, Some(v.span()))))
        .chain(self.rest.keys().map(|k| (k.as_str(), None)))
    }
}

/// What a trigger kind's parser needs to read one table and report errors.
struct TriggerContext<'a> {
    file: &'a Path,
    text: &'a str,
    /// `trigger.KIND[i]`.
    key: String,
    /// The span of the whole `[[trigger.KIND]]` array (for missing keys).
    span: Range<usize>,
    components: &'a BTreeMap<String, Component>,
}

impl TriggerContext<'_> {
    fn error(&self, span: Option<Range<usize>>, field: &str, message: String) -> ManifestError {
        error_at(
            self.file,
            self.text,
            Some(span.unwrap_or_else(|| self.span.clone())),
            Some(format!("{}.{field}", self.key)),
            message,
        )
    }

    /// A string value, or an error naming the key.
    fn string(&self, value: &Spanned<toml::Value>, field: &str) -> Result<String, ManifestError> {
        match value.get_ref() {
            toml::Value::String(s) => Ok(s.clone()),
            other => Err(self.error(
                Some(value.span()),
                field,
                format!("must be a string, not {}", other.type_str()),
            )),
        }
    }

    /// Refuses keys outside `allowed`, as Spin's `deny_unknown_fields` does.
    fn only(&self, trigger: &RawTrigger, allowed: &[&str]) -> Result<(), ManifestError> {
        match trigger.present().find(|(k, _)| !allowed.contains(k)) {
            None => Ok(()),
            Some((k, span)) => Err(self.error(
                span,
                k,
                format!(
                    "unknown field `{k}`, expected one of {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// The `component` key: the id of a `[component.ID]`.
    fn component(&self, trigger: &RawTrigger) -> Result<String, ManifestError> {
        let Some(value) = &trigger.component else {
            return Err(self.error(None, "component", "missing `component`".into()));
        };
        let toml::Value::String(component) = value.get_ref() else {
            return Err(self.error(
                Some(value.span()),
                "component",
                "inline components are not supported; name a `[component.ID]`".into(),
            ));
        };
        if !self.components.contains_key(component) {
            let known: Vec<&str> = self.components.keys().map(String::as_str).collect();
            return Err(self.error(
                Some(value.span()),
                "component",
                format!(
                    "no component named `{component}` (defined: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        Ok(component.clone())
    }
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        // `spin.toml` has the parent "", which is no directory to run a build in.
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Self::parse(path, &text, dir)?)
    }

    /// Parses manifest `text`; `file` is used in messages, `dir` resolves relative paths.
    pub fn parse(file: &Path, text: &str, dir: PathBuf) -> Result<Self, ManifestError> {
        let error = |span, key, message| error_at(file, text, span, key, message);
        let raw: RawManifest = from_toml(file, text)?;
        if raw.spin_manifest_version.get_ref().as_integer() != Some(2) {
            return Err(error(
                Some(raw.spin_manifest_version.span()),
                Some("spin_manifest_version".into()),
                "cloudfn reads Spin manifest version 2 only".into(),
            ));
        }
        for (id, component) in &raw.component {
            if let Source::Remote(_) = component.source.get_ref() {
                return Err(error(
                    Some(component.source.span()),
                    Some(format!("component.{id}.source")),
                    "remote sources (`{ url, digest }`) are not supported; use a local path".into(),
                ));
            }
        }
        let mut http_triggers = Vec::new();
        let mut redis_triggers = Vec::new();
        for (kind, triggers) in &raw.trigger {
            for (i, trigger) in triggers.get_ref().iter().enumerate() {
                let ctx = TriggerContext {
                    file,
                    text,
                    key: format!("trigger.{kind}[{i}]"),
                    span: triggers.span(),
                    components: &raw.component,
                };
                match kind.as_str() {
                    "http" => http_triggers.extend(http_trigger::parse(&ctx, trigger)?),
                    "redis" => redis_triggers.push(redis_trigger::parse(
                        &ctx,
                        trigger,
                        raw.application.trigger.redis.as_ref(),
                        &raw.variables,
                    )?),
                    _ => {
                        return Err(error(
                            Some(triggers.span()),
                            Some(format!("trigger.{kind}")),
                            format!(
                                "trigger type `{kind}` is not supported by cloudfn up (supported: http, redis)"
                            ),
                        ));
                    }
                }
            }
        }
        for (id, component) in &raw.component {
            for (name, template) in &component.variables {
                for var in template_references(template) {
                    if !raw.variables.contains_key(var) {
                        return Err(error(
                            Some(component.source.span()),
                            Some(format!("component.{id}.variables.{name}")),
                            format!("refers to undefined application variable `{var}`"),
                        ));
                    }
                }
            }
        }
        Ok(Manifest {
            dir,
            application: raw.application,
            variables: raw.variables,
            http_triggers,
            redis_triggers,
            components: raw.component,
        })
    }

    /// Absolute (or manifest-relative) path of a component's `.wasm` file.
    pub fn source_path(&self, component: &Component) -> PathBuf {
        match component.source.get_ref() {
            Source::Path(p) => self.dir.join(p),
            Source::Remote(_) => PathBuf::new(),
        }
    }
}

/// Names of the `{{ variable }}` references in a Spin template string.
pub fn template_references(template: &str) -> impl Iterator<Item = &str> {
    template
        .split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("spin.toml"), text, PathBuf::from("."))
    }

    const VALID: &str = r#"
spin_manifest_version = 2

[application]
name = "demo"

[variables]
limit = { default = "10" }

[[trigger.http]]
route = "/hello/..."
component = "hello"

[[trigger.http]]
route = { private = true }
component = "hello"

[component.hello]
source = "hello.wasm"
variables = { max = "{{ limit }}" }
[component.hello.build]
command = "true"
"#;

    #[test]
    fn parses_a_valid_manifest() {
        let m = parse(VALID).expect("valid");
        assert_eq!(m.application.name, "demo");
        assert_eq!(m.http_triggers.len(), 1);
        assert_eq!(m.http_triggers[0].route.raw(), "/hello/...");
        assert_eq!(
            m.components["hello"]
                .build
                .as_ref()
                .map(|b| b.command.as_str()),
            Some("true")
        );
    }

    #[test]
    fn unknown_component_names_line_and_key() {
        let text = VALID.replace(
            "component = \"hello\"\n\n[[trigger",
            "component = \"nope\"\n\n[[trigger",
        );
        let e = parse(&text).expect_err("invalid");
        assert_eq!(
            e.to_string(),
            "spin.toml:12:13: `trigger.http[0].component`: no component named `nope` (defined: hello)"
        );
    }

    #[test]
    fn unknown_key_names_line_and_table() {
        let text = VALID.replace(
            "source = \"hello.wasm\"",
            "source = \"hello.wasm\"\nsorce = 1",
        );
        let e = parse(&text).expect_err("invalid");
        assert_eq!(e.line, 20);
        assert_eq!(e.key.as_deref(), Some("component.hello.sorce"));
        assert!(e.message.contains("unknown field `sorce`"), "{e}");
    }

    #[test]
    fn wrong_version_is_refused() {
        let e = parse(&VALID.replace("= 2", "= 1")).expect_err("invalid");
        assert_eq!(
            e.to_string(),
            "spin.toml:2:25: `spin_manifest_version`: cloudfn reads Spin manifest version 2 only"
        );
    }

    #[test]
    fn undefined_variable_is_refused() {
        let e = parse(&VALID.replace("{{ limit }}", "{{ nope }}")).expect_err("invalid");
        assert!(
            e.to_string()
                .contains("undefined application variable `nope`"),
            "{e}"
        );
    }

    #[test]
    fn bad_route_is_refused() {
        let e = parse(&VALID.replace("/hello/...", "/hello/.../x")).expect_err("invalid");
        assert!(
            e.to_string()
                .starts_with("spin.toml:11:9: `trigger.http[0].route`"),
            "{e}"
        );
    }

    const REDIS: &str = r#"
spin_manifest_version = 2

[application]
name = "events"
[application.trigger.redis]
address = "redis://localhost:6379"
[application.tool.cloudfn.events]
attempts = 3

[variables]
channel = { default = "feed" }

[[trigger.redis]]
channel = "{{ channel }}"
component = "consumer"

[[trigger.redis]]
address = "redis://other:6379"
channel = "audit"
component = "consumer"

[component.consumer]
source = "consumer.wasm"
"#;

    #[test]
    fn redis_triggers_take_the_application_address_unless_their_own() {
        let m = parse(REDIS).expect("valid");
        assert_eq!(
            m.redis_triggers,
            vec![
                RedisTrigger {
                    component: "consumer".into(),
                    channel: "{{ channel }}".into(),
                    address: "redis://localhost:6379".into(),
                },
                RedisTrigger {
                    component: "consumer".into(),
                    channel: "audit".into(),
                    address: "redis://other:6379".into(),
                },
            ]
        );
    }

    #[test]
    fn redis_trigger_keys_are_exactly_spins() {
        let e = parse(&REDIS.replace("channel = \"audit\"", "channel = \"audit\"\nqueue = 1"))
            .expect_err("invalid");
        assert_eq!(e.key.as_deref(), Some("trigger.redis[1].queue"));
        assert!(
            e.message.contains(
                "unknown field `queue`, expected one of `component`, `channel`, `address`"
            ),
            "{e}"
        );
        let e = parse(&REDIS.replace(
            "address = \"redis://localhost:6379\"",
            "address = \"redis://localhost:6379\"\nport = 1",
        ))
        .expect_err("invalid");
        assert!(e.message.contains("unknown field `port`"), "{e}");
    }

    #[test]
    fn redis_trigger_without_an_address_is_refused() {
        let text = REDIS.replace(
            "[application.trigger.redis]\naddress = \"redis://localhost:6379\"\n",
            "",
        );
        let e = parse(&text).expect_err("invalid");
        assert_eq!(e.key.as_deref(), Some("trigger.redis[0].address"));
        assert!(e.message.contains("no Redis address"), "{e}");
        let e = parse(&REDIS.replace("{{ channel }}", "{{ nope }}")).expect_err("invalid");
        assert!(
            e.to_string().contains(
                "`trigger.redis[0].channel`: refers to undefined application variable `nope`"
            ),
            "{e}"
        );
    }

    #[test]
    fn unsupported_trigger_kinds_are_named() {
        let e = parse(&REDIS.replace("[[trigger.redis]]\naddress", "[[trigger.cron]]\naddress"))
            .expect_err("invalid");
        assert!(
            e.message.contains(
                "trigger type `cron` is not supported by cloudfn up (supported: http, redis)"
            ),
            "{e}"
        );
    }
}
