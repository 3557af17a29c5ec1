//! Parsing and validation of a Spin application manifest (`spin_manifest_version = 2`).
//!
//! Every key Spin accepts in the parts modelled here is accepted; the few
//! cloudfn does not act on (`authors`, `exclude_files`, `sqlite_databases`,
//! `ai_models`, `[application.trigger]`, build `watch`) are kept but unused.
//! Anything else is refused with the file, line and key, as Spin does.

use crate::routes::RoutePattern;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// An error in a TOML file (the manifest, the runtime config): the file, the
/// 1-based line and column, the key, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {}{message}", file.display(), key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ManifestError {
    /// The manifest file.
    pub file: PathBuf,
    /// 1-based line of the offending key or value (0 when not known).
    pub line: usize,
    /// 1-based column of the offending key or value (0 when not known).
    pub column: usize,
    /// The dotted key the error is about, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

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
    /// Every `[[trigger.http]]`, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
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
    /// Application-level trigger settings (`[application.trigger.KIND]`; unused).
    #[serde(default)]
    pub trigger: Option<toml::Table>,
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

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The route pattern (`/x`, `/x/:id`, `/x/...`).
    pub route: RoutePattern,
    /// The component id serving the route.
    pub component: String,
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

#[derive(Deserialize)]
struct RawTrigger {
    #[serde(default)]
    route: Option<Spanned<toml::Value>>,
    component: Spanned<toml::Value>,
    #[serde(flatten)]
    _rest: toml::Table,
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
        for (kind, triggers) in &raw.trigger {
            if kind != "http" {
                return Err(error(
                    Some(triggers.span()),
                    Some(format!("trigger.{kind}")),
                    format!(
                        "trigger type `{kind}` is not supported by cloudfn up (supported: http)"
                    ),
                ));
            }
            for (i, trigger) in triggers.get_ref().iter().enumerate() {
                let key = |field: &str| Some(format!("trigger.http[{i}].{field}"));
                let route = match trigger.route.as_ref().map(|r| (r, r.get_ref())) {
                    Some((_, toml::Value::String(route))) => route.clone(),
                    // Private endpoints are reachable only through service chaining.
                    Some((_, toml::Value::Table(t)))
                        if t.get("private").and_then(toml::Value::as_bool) == Some(true) =>
                    {
                        continue;
                    }
                    Some((r, _)) => {
                        return Err(error(
                            Some(r.span()),
                            key("route"),
                            "route must be a string pattern or `{ private = true }`".into(),
                        ));
                    }
                    None => {
                        return Err(error(
                            Some(triggers.span()),
                            key("route"),
                            "missing `route`".into(),
                        ));
                    }
                };
                let toml::Value::String(component) = trigger.component.get_ref() else {
                    return Err(error(
                        Some(trigger.component.span()),
                        key("component"),
                        "inline components are not supported; name a `[component.ID]`".into(),
                    ));
                };
                if !raw.component.contains_key(component) {
                    let known: Vec<&str> = raw.component.keys().map(String::as_str).collect();
                    return Err(error(
                        Some(trigger.component.span()),
                        key("component"),
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
                let route = RoutePattern::parse(&route).map_err(|message| {
                    error(
                        trigger.route.as_ref().map(Spanned::span),
                        key("route"),
                        message.to_string(),
                    )
                })?;
                http_triggers.push(HttpTrigger {
                    route,
                    component: component.clone(),
                });
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

impl fmt::Display for HttpTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.route, self.component)
    }
}

/// 1-based line and column of byte `offset` in `text`.
/// Deserializes the TOML `text` of `file`; an error names the file, line,
/// column and key.
pub fn from_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, ManifestError> {
    toml::from_str(text).map_err(|e| {
        error_at(
            file,
            text,
            e.span(),
            key_at(text, e.span()),
            e.message().trim().to_owned(),
        )
    })
}

/// An error about the value at `span` (a byte range) of `file`, whose text is `text`.
pub fn error_at(
    file: &Path,
    text: &str,
    span: Option<Range<usize>>,
    key: Option<String>,
    message: String,
) -> ManifestError {
    let (line, column) = span.map(|s| line_col(text, s.start)).unwrap_or((0, 0));
    ManifestError {
        file: file.to_owned(),
        line,
        column,
        key,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted key whose table contains the error span: `[table]` header plus the key on that line.
fn key_at(text: &str, span: Option<Range<usize>>) -> Option<String> {
    let start = span?.start.min(text.len());
    let before = &text[..start];
    let line = text[before.rfind('\n').map_or(0, |i| i + 1)..]
        .lines()
        .next()
        .unwrap_or("");
    let table = before.lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
    });
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (Some(t), None) => Some(t),
        (None, k) => k,
    }
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
}
