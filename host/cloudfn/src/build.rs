//! `cloudfn build`: runs each component's `[component.X.build]` command in its
//! `workdir`, as `spin build` does.

use cloudfn_manifest::Manifest;
use std::process::Command;

/// A build command failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The command could not be started.
    #[error("component `{id}`: cannot run `{command}`")]
    Spawn {
        /// Component id.
        id: String,
        /// The command.
        command: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The command exited unsuccessfully.
    #[error("component `{id}`: build command `{command}` failed ({status})")]
    Failed {
        /// Component id.
        id: String,
        /// The command.
        command: String,
        /// Exit status.
        status: std::process::ExitStatus,
    },
    /// A named component does not exist.
    #[error("no component named `{0}` in the manifest")]
    Unknown(String),
}

/// Runs the build command of each component in `only` (all when empty), in id order.
/// Returns the ids that had a build command.
pub fn build(manifest: &Manifest, only: &[String]) -> Result<Vec<String>, BuildError> {
    if let Some(unknown) = only
        .iter()
        .find(|id| !manifest.components.contains_key(*id))
    {
        return Err(BuildError::Unknown(unknown.clone()));
    }
    let mut built = Vec::new();
    for (id, component) in &manifest.components {
        if !only.is_empty() && !only.contains(id) {
            continue;
        }
        let Some(build) = &component.build else {
            continue;
        };
        let dir = match &build.workdir {
            Some(w) => manifest.dir.join(w),
            None => manifest.dir.clone(),
        };
        tracing::info!(component = %id, command = %build.command, dir = %dir.display(), "building");
        let status = Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .status()
            .map_err(|source| BuildError::Spawn {
                id: id.clone(),
                command: build.command.clone(),
                source,
            })?;
        if !status.success() {
            return Err(BuildError::Failed {
                id: id.clone(),
                command: build.command.clone(),
                status,
            });
        }
        built.push(id.clone());
    }
    Ok(built)
}
