//! Spin variables: application `[variables]` resolved into each component's
//! `variables = { name = "{{ app_var }}" }` templates when it loads, and
//! served through every interface Spin serves them by:
//! `fermyon:spin/variables@2.0.0`, `spin:variables/variables@3.0.0` (async)
//! and `wasi:config/store` in both its draft (Spin) and rc.1 (wasmtime)
//! versions. A component sees only the names its manifest entry grants;
//! errors are Spin's (`invalid-name`, `undefined`).

use super::{GrantContext, HasService, Service, ServiceConfig};
use cloudfn_manifest::{Component, Manifest, template_references};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::component::{Accessor, HasData, Linker};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/variables",
        imports: { default: trappable },
    });
}

use generated::fermyon::spin::variables as v2;
use generated::spin::variables::variables as v3;
use generated::wasi::config0_2_0_draft_2024_09_27::store as config_draft;
use generated::wasi::config0_2_0_rc_1::store as config_rc1;

/// One component's resolved variables.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    component: Arc<str>,
    values: Arc<BTreeMap<String, String>>,
}

/// Why a variable could not be read (Spin's two guest-facing cases).
#[derive(Debug, Clone, PartialEq, Eq)]
enum LookupError {
    /// Not a variable name (lower-case letters, digits, single underscores).
    InvalidName(String),
    /// The component has no variable by this name.
    Undefined(String),
}

impl ComponentVariables {
    fn get(&self, name: &str) -> Result<String, LookupError> {
        check_name(name)
            .map_err(|reason| LookupError::InvalidName(format!("{name:?}: {reason}")))?;
        self.values.get(name).cloned().ok_or_else(|| {
            LookupError::Undefined(format!("no variable for {:?}.{name:?}", &*self.component))
        })
    }

    /// For `wasi:config`: an invalid or undefined name is just absent.
    fn get_config(&self, name: &str) -> Option<String> {
        self.get(name).ok()
    }

    fn all(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Spin's rule for variable names: a lower-case ASCII letter, then
/// lower-case letters, digits and single underscores, not ending in one.
fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.bytes().next() else {
        return Err("must not be empty".into());
    };
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {bad:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ));
    }
    if !first.is_ascii_lowercase() {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if name.ends_with('_') {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if name.contains("__") {
        return Err("must not contain multiple consecutive underscores".into());
    }
    Ok(())
}

/// The service: each component's variables, resolved when it is loaded.
pub struct Variables;

impl Service for Variables {
    type Grant = ComponentVariables;
    type Instance = ComponentVariables;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<ComponentVariables, String> {
        let env = |k: &str| std::env::var(k).ok();
        check_required(ctx.manifest, env).map_err(|e| e.to_string())?;
        let values = resolve(ctx.manifest, ctx.component, env).map_err(|e| e.to_string())?;
        Ok(ComponentVariables {
            component: ctx.id.into(),
            values: Arc::new(values),
        })
    }

    fn instance(&self, grant: &ComponentVariables) -> ComponentVariables {
        grant.clone()
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        fn view<T: HasService<Variables>>(data: &mut T) -> &mut ComponentVariables {
            data.view().state
        }
        generated::Variables::add_to_linker::<T, HasVariables>(linker, view::<T>)
    }
}

/// The [`HasData`] marker of the variables host functions.
pub struct HasVariables;

impl HasData for HasVariables {
    type Data<'a> = &'a mut ComponentVariables;
}

impl v2::Host for &mut ComponentVariables {
    fn get(&mut self, name: String) -> wasmtime::Result<Result<String, v2::Error>> {
        Ok(ComponentVariables::get(self, &name).map_err(|e| match e {
            LookupError::InvalidName(m) => v2::Error::InvalidName(m),
            LookupError::Undefined(m) => v2::Error::Undefined(m),
        }))
    }
}

impl v3::Host for &mut ComponentVariables {}

impl<T> v3::HostWithStore<T> for HasVariables {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, v3::Error>> {
        Ok(accessor
            .with(|mut access| access.get().get(&name))
            .map_err(|e| match e {
                LookupError::InvalidName(m) => v3::Error::InvalidName(m),
                LookupError::Undefined(m) => v3::Error::Undefined(m),
            }))
    }
}

impl config_draft::Host for &mut ComponentVariables {
    fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config_draft::Error>> {
        Ok(Ok(self.get_config(&key)))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config_draft::Error>> {
        Ok(Ok(self.all()))
    }
}

impl config_rc1::Host for &mut ComponentVariables {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config_rc1::Error>> {
        Ok(Ok(self.get_config(&key)))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config_rc1::Error>> {
        Ok(Ok(self.all()))
    }
}

/// Required application variables that have no value, named all at once
/// (Spin refuses to start an application with any).
pub fn check_required(
    manifest: &Manifest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), VariableError> {
    let missing: Vec<String> = manifest
        .variables
        .iter()
        .filter(|(name, v)| v.default.is_none() && env(&env_name(name)).is_none())
        .map(|(name, _)| name.clone())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(VariableError::Required { names: missing })
    }
}

/// The value of application variable `name`: `SPIN_VARIABLE_<NAME>`, else its default.
pub fn application_value(
    manifest: &Manifest,
    name: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    env(&env_name(name)).or_else(|| manifest.variables.get(name).and_then(|v| v.default.clone()))
}

fn env_name(variable: &str) -> String {
    format!("SPIN_VARIABLE_{}", variable.to_ascii_uppercase())
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
    /// Required application variables have no value.
    #[error(
        "required variables have no value: {}; set {} in the environment",
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        names.iter().map(|n| env_name(n)).collect::<Vec<_>>().join(", ")
    )]
    Required {
        /// The application variables.
        names: Vec<String>,
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
        out.insert(name.clone(), resolve_template(manifest, template, &env)?);
    }
    Ok(out)
}

/// Resolves a template over application variables (a component variable,
/// a Redis trigger's `address` or `channel`).
pub fn resolve_template(
    manifest: &Manifest,
    template: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, VariableError> {
    let mut value = template.to_owned();
    for reference in template_references(template) {
        let resolved =
            application_value(manifest, reference, &env).ok_or_else(|| VariableError::Missing {
                name: reference.to_owned(),
            })?;
        value = replace_reference(&value, reference, &resolved);
    }
    Ok(value)
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

    #[test]
    fn required_variables_are_named_together() {
        let m =
            Manifest::parse(Path::new("spin.toml"), MANIFEST, PathBuf::from(".")).expect("valid");
        let e = check_required(&m, |_| None).expect_err("token has no value");
        assert_eq!(
            e.to_string(),
            "required variables have no value: `token`; set SPIN_VARIABLE_TOKEN in the environment"
        );
        assert!(check_required(&m, |k| (k == "SPIN_VARIABLE_TOKEN").then(|| "t".into())).is_ok());
    }

    #[test]
    fn variable_names_follow_spins_rule() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
