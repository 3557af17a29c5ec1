//! Spin variables: application `[variables]` resolved into each component's
//! `variables = { name = "{{ app_var }}" }` templates, served to the guest as
//! `wasi:config/store`. A component sees only the names its manifest entry grants.

use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::manifest::{Component, Manifest, template_references};
use std::collections::BTreeMap;
use wasmtime::component::Linker;
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};

/// The service: each component's variables, resolved when it is loaded.
pub struct Variables;

impl Service for Variables {
    type Grant = BTreeMap<String, String>;
    type Instance = WasiConfigVariables;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<BTreeMap<String, String>, String> {
        resolve(ctx.manifest, ctx.component, |k| std::env::var(k).ok()).map_err(|e| e.to_string())
    }

    fn instance(&self, grant: &BTreeMap<String, String>) -> WasiConfigVariables {
        WasiConfigVariables::from_iter(grant.clone())
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wasmtime_wasi_config::add_to_linker(linker, |data: &mut T| {
            WasiConfig::from(&*data.view().state)
        })
    }
}

/// A variable could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum VariableError {
    /// A required application variable has no value.
    #[error("variable `{name}` is required but has no value: set SPIN_VARIABLE_{} in the environment", name.to_ascii_uppercase())]
    Missing {
        /// The application variable.
        name: String,
    },
}

/// Resolves a component's variables against the application variables.
///
/// Values come, as in Spin, from `SPIN_VARIABLE_<NAME>` environment variables
/// first, then from the manifest default.
pub fn resolve(
    manifest: &Manifest,
    component: &Component,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, VariableError> {
    let mut out = BTreeMap::new();
    for (name, template) in &component.variables {
        let mut value = template.clone();
        for reference in template_references(template) {
            let resolved = env(&format!("SPIN_VARIABLE_{}", reference.to_ascii_uppercase()))
                .or_else(|| {
                    manifest
                        .variables
                        .get(reference)
                        .and_then(|v| v.default.clone())
                })
                .ok_or_else(|| VariableError::Missing {
                    name: reference.to_owned(),
                })?;
            value = replace_reference(&value, reference, &resolved);
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// Replaces every `{{ name }}` (any inner spacing) in `template` by `value`.
fn replace_reference(template: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        if inner == name {
            out.push_str(value);
        } else {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "v"
[variables]
limit = { default = "50" }
token = { required = true, secret = true }
[component.a]
source = "a.wasm"
variables = { max_mpx = "{{ limit }}", label = "at most {{limit}} Mpx" }
[component.b]
source = "b.wasm"
variables = { token = "{{ token }}" }
"#;

    #[test]
    fn defaults_env_and_missing() {
        let m =
            Manifest::parse(Path::new("spin.toml"), MANIFEST, PathBuf::from(".")).expect("valid");
        let a = resolve(&m, &m.components["a"], |_| None).expect("resolves");
        assert_eq!(a["max_mpx"], "50");
        assert_eq!(a["label"], "at most 50 Mpx");
        let a = resolve(&m, &m.components["a"], |k| {
            (k == "SPIN_VARIABLE_LIMIT").then(|| "9".into())
        })
        .expect("resolves");
        assert_eq!(a["max_mpx"], "9");
        let e = resolve(&m, &m.components["b"], |_| None).expect_err("missing");
        assert!(e.to_string().contains("SPIN_VARIABLE_TOKEN"), "{e}");
    }
}
