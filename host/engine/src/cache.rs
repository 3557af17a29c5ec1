//! The on-disk cache of precompiled components.
//!
//! An entry is keyed by the engine's compatibility hash and the SHA-256 of the
//! `.wasm` bytes, and stores the SHA-256 of its own contents in front of them:
//! a stale, truncated or corrupted entry is detected, logged and recompiled,
//! never handed to the engine.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid cache entry.
    Hit,
    /// No entry existed; compiled and stored.
    Miss,
    /// An entry existed but was invalid; compiled and replaced.
    Replaced,
    /// Caching is disabled; compiled in memory.
    Disabled,
}

/// Errors of the cache (compilation errors are reported by the caller).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The `.wasm` file could not be read.
    #[error("cannot read {}", path.display())]
    ReadWasm {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The component does not compile.
    #[error("{} is not a valid component: {message}", path.display())]
    Compile {
        /// The file.
        path: PathBuf,
        /// The engine's message.
        message: String,
    },
}

/// A directory of precompiled components (or no directory: compile every time).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

const CHECKSUM_LEN: usize = 32;

impl ComponentCache {
    /// A cache in `dir` (created on first write), or none.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// The default cache directory: `$XDG_CACHE_HOME/cloudfn`, else `~/.cache/cloudfn`.
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("cloudfn"))
    }

    /// Loads the component at `wasm`, from the cache when a valid entry exists.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &Path,
    ) -> Result<(Component, CacheOutcome), CacheError> {
        let bytes = std::fs::read(wasm).map_err(|source| CacheError::ReadWasm {
            path: wasm.to_owned(),
            source,
        })?;
        self.load_bytes(engine, wasm, &bytes)
    }

    /// Loads the component `bytes` (read from, or composed for, `wasm`), from
    /// the cache when a valid entry for them exists.
    pub fn load_bytes(
        &self,
        engine: &Engine,
        wasm: &Path,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), CacheError> {
        let compile = |bytes: &[u8]| {
            engine
                .precompile_component(bytes)
                .map_err(|e| CacheError::Compile {
                    path: wasm.to_owned(),
                    message: format!("{e:#}"),
                })
        };
        let Some(dir) = &self.dir else {
            let component = Component::new(engine, bytes).map_err(|e| CacheError::Compile {
                path: wasm.to_owned(),
                message: format!("{e:#}"),
            })?;
            return Ok((component, CacheOutcome::Disabled));
        };
        let entry = dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
        let outcome = match std::fs::read(&entry) {
            Ok(stored) => match deserialize_checked(engine, &stored) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(reason) => {
                    tracing::warn!(entry = %entry.display(), %reason, "invalid cache entry; recompiling");
                    CacheOutcome::Replaced
                }
            },
            Err(_) => CacheOutcome::Miss,
        };
        let compiled = compile(bytes)?;
        let mut stored = Sha256::digest(&compiled).to_vec();
        stored.extend_from_slice(&compiled);
        if let Err(e) = write_atomically(&entry, &stored) {
            tracing::warn!(entry = %entry.display(), error = %e, "cannot write cache entry");
        }
        let component =
            deserialize_checked(engine, &stored).map_err(|message| CacheError::Compile {
                path: wasm.to_owned(),
                message,
            })?;
        Ok((component, outcome))
    }
}

/// Hex SHA-256 over the engine's compatibility hash and the wasm bytes.
fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.update(Sha256::digest(wasm));
    format!("{:x}", hasher.0.finalize())
}

/// Checks the stored checksum, then deserializes.
fn deserialize_checked(engine: &Engine, stored: &[u8]) -> Result<Component, String> {
    if stored.len() < CHECKSUM_LEN {
        return Err("entry is truncated".into());
    }
    let (checksum, artifact) = stored.split_at(CHECKSUM_LEN);
    if Sha256::digest(artifact).as_slice() != checksum {
        return Err("checksum mismatch".into());
    }
    // SAFETY: `artifact` was produced by `Engine::precompile_component` of an
    // engine with the same compatibility hash (it is part of the cache key),
    // and its checksum proves it was not altered since it was written.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, artifact) };
    component.map_err(|e| format!("{e:#}"))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
