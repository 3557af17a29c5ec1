//! The runtime config file (`cloudfn up --runtime-config-file FILE`), in
//! Spin's format, for the stores cloudfn provides:
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"                 # or "spin": an embedded SQLite file
//! url = "redis://127.0.0.1:6379"
//!
//! [key_value_store.cache]
//! type = "spin"
//! path = "data/cache.db"         # relative to this file; optional
//!
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/app.db"
//! ```
//!
//! Store types Spin has and cloudfn does not (`azure_cosmos`, `libsql`, …),
//! and other sections, are refused with the file, line and key.

use cloudfn_manifest::{ManifestError, error_at, from_toml};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where one key-value store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueStore {
    /// An embedded SQLite file (`type = "spin"`); the default path when `None`.
    Spin(Option<PathBuf>),
    /// A Redis server (`type = "redis"`).
    Redis(String),
}

/// The parsed runtime config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `[key_value_store.LABEL]`.
    pub key_value_stores: BTreeMap<String, KeyValueStore>,
    /// `[sqlite_database.LABEL]`: the file, or the default path when `None`.
    pub sqlite_databases: BTreeMap<String, Option<PathBuf>>,
}

/// Why the runtime config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeConfigError {
    /// The file could not be read.
    #[error("cannot read the runtime config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error(transparent)]
    Invalid(#[from] ManifestError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    r#type: Spanned<String>,
    #[serde(default)]
    path: Option<Spanned<PathBuf>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
}

impl RuntimeConfig {
    /// Reads and checks `path`; relative store paths are resolved against its directory.
    pub fn load(path: &Path) -> Result<Self, RuntimeConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuntimeConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::parse(path, &text)?)
    }

    /// Parses the text of `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ManifestError> {
        let raw: Raw = from_toml(file, text)?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
        let error =
            |span, key: String, message: String| error_at(file, text, span, Some(key), message);
        let mut config = Self::default();
        for (label, store) in raw.key_value_store {
            let key = |field: &str| format!("key_value_store.{label}.{field}");
            let kind = match store.r#type.get_ref().as_str() {
                "spin" => {
                    if let Some(url) = &store.url {
                        return Err(error(
                            Some(url.span()),
                            key("url"),
                            "a `spin` store takes `path`, not `url`".into(),
                        ));
                    }
                    KeyValueStore::Spin(store.path.map(|p| resolve(p.into_inner())))
                }
                "redis" => {
                    if let Some(path) = &store.path {
                        return Err(error(
                            Some(path.span()),
                            key("path"),
                            "a `redis` store takes `url`, not `path`".into(),
                        ));
                    }
                    let url = store.url.ok_or_else(|| {
                        error(
                            Some(store.r#type.span()),
                            key("url"),
                            "a `redis` store needs `url = \"redis://host:port\"`".into(),
                        )
                    })?;
                    KeyValueStore::Redis(url.into_inner())
                }
                other => {
                    return Err(error(
                        Some(store.r#type.span()),
                        key("type"),
                        format!(
                            "store type `{other}` is not supported by cloudfn up (supported: spin, redis)"
                        ),
                    ));
                }
            };
            config.key_value_stores.insert(label, kind);
        }
        for (label, database) in raw.sqlite_database {
            let key = |field: &str| format!("sqlite_database.{label}.{field}");
            if database.r#type.get_ref() != "spin" {
                return Err(error(
                    Some(database.r#type.span()),
                    key("type"),
                    format!(
                        "database type `{}` is not supported by cloudfn up (supported: spin)",
                        database.r#type.get_ref()
                    ),
                ));
            }
            if let Some(url) = &database.url {
                return Err(error(
                    Some(url.span()),
                    key("url"),
                    "a `spin` database takes `path`, not `url`".into(),
                ));
            }
            config
                .sqlite_databases
                .insert(label, database.path.map(|p| resolve(p.into_inner())));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeConfig, String> {
        RuntimeConfig::parse(Path::new("/app/rt.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn stores_and_databases_with_paths_relative_to_the_file() {
        let config = parse(
            r#"
[key_value_store.default]
type = "redis"
url = "redis://127.0.0.1:6379"

[key_value_store.cache]
type = "spin"
path = "data/cache.db"

[key_value_store.plain]
type = "spin"

[sqlite_database.default]
type = "spin"
path = "/var/app.db"
"#,
        )
        .expect("valid");
        assert_eq!(
            config.key_value_stores["default"],
            KeyValueStore::Redis("redis://127.0.0.1:6379".into())
        );
        assert_eq!(
            config.key_value_stores["cache"],
            KeyValueStore::Spin(Some("/app/data/cache.db".into()))
        );
        assert_eq!(config.key_value_stores["plain"], KeyValueStore::Spin(None));
        assert_eq!(
            config.sqlite_databases["default"],
            Some("/var/app.db".into())
        );
        assert_eq!(parse("").expect("empty"), RuntimeConfig::default());
    }

    #[test]
    fn unknown_types_fields_and_sections_name_file_line_and_key() {
        for (text, expected) in [
            (
                "[key_value_store.x]\ntype = \"azure_cosmos\"\n",
                "/app/rt.toml:2:8: `key_value_store.x.type`: store type `azure_cosmos` is not supported by cloudfn up (supported: spin, redis)",
            ),
            (
                "[key_value_store.x]\ntype = \"redis\"\n",
                "/app/rt.toml:2:8: `key_value_store.x.url`: a `redis` store needs `url = \"redis://host:port\"`",
            ),
            (
                "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"https://db\"\n",
                "/app/rt.toml:2:8: `sqlite_database.default.type`: database type `libsql` is not supported by cloudfn up (supported: spin)",
            ),
        ] {
            assert_eq!(parse(text).expect_err(text), expected, "{text}");
        }
        let e = parse("[llm_compute]\ntype = \"spin\"\n").expect_err("section");
        assert!(e.starts_with("/app/rt.toml:1:"), "{e}");
        assert!(e.contains("unknown field `llm_compute`"), "{e}");
        let e = parse("[key_value_store.x]\ntype = \"spin\"\ncolour = 1\n").expect_err("field");
        assert!(e.contains("unknown field `colour`"), "{e}");
    }
}
