//! Errors in TOML files (the manifest, the runtime config) that name the
//! file, line, column and key, as Spin's do.

use std::ops::Range;
use std::path::{Path, PathBuf};

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

/// 1-based line and column of byte `offset` in `text`.
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
