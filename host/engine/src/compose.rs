//! Spin's component dependencies (`[component.X.dependencies]`, Spin 3.0+),
//! composed as Spin composes them, with `wac-graph`: each dependency is
//! instantiated and its exports plugged into the imports of the component
//! that names them; what neither satisfies is left for the host to link.
//!
//! A dependency is named by an interface (`"ns:pkg/iface@1.0.0"`, the
//! version optional) or a whole package (`"ns:pkg"`: every import of that
//! package) and comes from `{ path = "dep.wasm" }` or, Spin 3.5+, `{
//! component = "other-component-id" }`; `export = "name"` plugs in an export
//! of another name. Registry (`{ version, registry }`) and remote (`{ url }`)
//! dependencies are refused: no registry is reachable offline.
//!
//! A dependency runs with its component's grants. Spin gives a dependency
//! no capabilities unless `dependencies_inherit_configuration = true`;
//! cloudfn up has no deny-all adapters to enforce that, so it refuses to
//! compose a dependency that imports a platform capability without it.
//!
//! Interfaces the host provides natively ([`NATIVE_DEPENDENCIES`]: the
//! bridges Spin needs and `cloudfn up` does not) are not composed.

use cloudfn_manifest::{Component, Manifest};
use std::path::PathBuf;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

/// Interfaces the host links natively that a Spin manifest may also list
/// as component dependencies (bridges Spin needs and this host does not).
pub const NATIVE_DEPENDENCIES: &[&str] =
    &["wasi:config/store@0.2.0-rc.1", "cloudfn:blob/store@0.1.0"];

/// Imports that reach a platform capability, by prefix.
const CAPABILITIES: &[&str] = &[
    "fermyon:spin/",
    "spin:",
    "wasi:keyvalue/",
    "wasi:config/",
    "wasi:http/outgoing-handler",
    "wasi:sockets/",
    "wasi:filesystem/",
    "cloudfn:blob/",
];

/// Where one dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A `.wasm` file, relative to the manifest.
    Path(PathBuf),
    /// Another component of the manifest.
    Component(String),
}

/// One `[component.X.dependencies]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dependency {
    name: String,
    source: Source,
    export: Option<String>,
}

fn parse(name: &str, value: &toml::Value) -> Result<Dependency, String> {
    let unsupported = |what: &str| {
        format!(
            "dependency `{name}`: {what} are not supported by cloudfn up (no registry is reachable offline); build the dependency and name it with `{{ path = \"….wasm\" }}` or `{{ component = \"id\" }}`"
        )
    };
    let table = match value {
        toml::Value::String(_) => {
            return Err(unsupported("registry dependencies (a version string)"));
        }
        toml::Value::Table(t) => t,
        _ => {
            return Err(format!(
                "dependency `{name}`: expected a table such as {{ path = \"dep.wasm\" }}"
            ));
        }
    };
    let text = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
    };
    let source = match (text("path"), text("component")) {
        (Some(path), None) => Source::Path(PathBuf::from(path)),
        (None, Some(id)) => Source::Component(id),
        (Some(_), Some(_)) => {
            return Err(format!(
                "dependency `{name}`: give `path` or `component`, not both"
            ));
        }
        (None, None) if table.contains_key("url") => {
            return Err(unsupported("remote dependencies (`url`)"));
        }
        (None, None) if table.contains_key("version") => {
            return Err(unsupported("registry dependencies (`version`)"));
        }
        (None, None) => {
            return Err(format!(
                "dependency `{name}`: expected `path = \"dep.wasm\"` or `component = \"id\"`"
            ));
        }
    };
    if let Some(key) = table
        .keys()
        .find(|k| !["path", "component", "export"].contains(&k.as_str()))
    {
        return Err(format!(
            "dependency `{name}`: unknown key `{key}` (expected path, component, export)"
        ));
    }
    Ok(Dependency {
        name: name.to_owned(),
        source,
        export: text("export"),
    })
}

/// `ns:pkg/iface@1.2.3` without its version.
fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// Whether an import `name` is what dependency `dep` names.
fn names(dep: &str, import: &str) -> bool {
    if dep.contains('/') {
        import == dep || (!dep.contains('@') && unversioned(import) == dep)
    } else {
        // A package: `ns:pkg` or `ns:pkg@1.0.0` names all its interfaces.
        let (package, version) = dep
            .split_once('@')
            .map_or((dep, None), |(p, v)| (p, Some(v)));
        import
            .strip_prefix(package)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|iface| {
                version.is_none_or(|v| iface.split_once('@').is_some_and(|(_, iv)| iv == v))
            })
    }
}

/// The component's bytes: its `.wasm` file (a core module made a component
/// first) composed with its dependencies, or as it is when it has none.
pub fn component_bytes(
    manifest: &Manifest,
    id: &str,
    entry: &Component,
) -> Result<Vec<u8>, String> {
    let path = manifest.source_path(entry);
    let read = |path: &std::path::Path| {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        super::componentize::componentize(path, bytes)
    };
    let main = read(&path)?;
    let mut deps = Vec::new();
    for (name, value) in entry.dependencies.iter().flatten() {
        if NATIVE_DEPENDENCIES.contains(&name.as_str()) {
            tracing::debug!("dependency `{name}` is provided natively; its component is not used");
            continue;
        }
        let dep = parse(name, value)?;
        let path = match &dep.source {
            Source::Path(p) => manifest.dir.join(p),
            Source::Component(other) => {
                if other == id {
                    return Err(format!(
                        "dependency `{name}`: a component cannot depend on itself"
                    ));
                }
                let other_entry = manifest.components.get(other).ok_or_else(|| {
                    format!("dependency `{name}`: no component `{other}` in the manifest")
                })?;
                manifest.source_path(other_entry)
            }
        };
        let bytes = read(&path)?;
        deps.push((dep, bytes));
    }
    if deps.is_empty() {
        return Ok(main);
    }
    compose(id, main, deps, entry.dependencies_inherit_configuration)
}

fn compose(
    id: &str,
    main: Vec<u8>,
    deps: Vec<(Dependency, Vec<u8>)>,
    inherit: bool,
) -> Result<Vec<u8>, String> {
    let mut graph = CompositionGraph::new();
    let register = |graph: &mut CompositionGraph, name: &str, bytes: Vec<u8>| {
        let package = Package::from_bytes(name, None, bytes, graph.types_mut())
            .map_err(|e| format!("{name}: {e:#}"))?;
        graph
            .register_package(package)
            .map_err(|e| format!("{name}: {e}"))
    };
    let main_package = register(&mut graph, &format!("cloudfn:{id}"), main)?;
    let main_world = graph[main_package].ty();
    let main_imports: Vec<String> = graph.types()[main_world].imports.keys().cloned().collect();
    let main_exports: Vec<String> = graph.types()[main_world].exports.keys().cloned().collect();
    let main_instance = graph.instantiate(main_package);
    for (i, (dep, bytes)) in deps.into_iter().enumerate() {
        let package = register(&mut graph, &format!("cloudfn:{id}-dependency-{i}"), bytes)?;
        let world = graph[package].ty();
        let exports: Vec<String> = graph.types()[world].exports.keys().cloned().collect();
        if !inherit
            && let Some(capability) = graph.types()[world]
                .imports
                .keys()
                .find(|i| CAPABILITIES.iter().any(|c| i.starts_with(c)))
        {
            return Err(format!(
                "dependency `{}` imports `{capability}`: Spin gives a dependency no capabilities unless the component sets dependencies_inherit_configuration = true, and cloudfn up cannot compose the deny-all stand-ins, so set it to run the dependency with the component's grants",
                dep.name
            ));
        }
        let instance = graph.instantiate(package);
        let targets: Vec<&String> = main_imports
            .iter()
            .filter(|i| names(&dep.name, i))
            .collect();
        if targets.is_empty() {
            return Err(format!(
                "dependency `{}` names no import of component `{id}`",
                dep.name
            ));
        }
        for import in targets {
            let export = match &dep.export {
                Some(export) => exports
                    .iter()
                    .find(|e| *e == export || unversioned(e) == export),
                None => exports
                    .iter()
                    .find(|e| *e == import || unversioned(e) == unversioned(import)),
            }
            .ok_or_else(|| {
                format!(
                    "dependency `{}` exports no `{}` (it exports: {})",
                    dep.name,
                    dep.export.as_deref().unwrap_or(import),
                    exports.join(", ")
                )
            })?
            .clone();
            let alias: NodeId = graph
                .alias_instance_export(instance, &export)
                .map_err(|e| format!("dependency `{}`: {e}", dep.name))?;
            graph
                .set_instantiation_argument(main_instance, import, alias)
                .map_err(|e| format!("dependency `{}` for `{import}`: {e}", dep.name))?;
        }
    }
    for export in &main_exports {
        let alias = graph
            .alias_instance_export(main_instance, export)
            .map_err(|e| format!("export `{export}`: {e}"))?;
        graph
            .export(alias, export)
            .map_err(|e| format!("export `{export}`: {e}"))?;
    }
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| format!("composing its dependencies: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_names_match_interfaces_and_packages() {
        assert!(names("demo:greet/greeter", "demo:greet/greeter@0.1.0"));
        assert!(names(
            "demo:greet/greeter@0.1.0",
            "demo:greet/greeter@0.1.0"
        ));
        assert!(!names(
            "demo:greet/greeter@0.2.0",
            "demo:greet/greeter@0.1.0"
        ));
        assert!(names("demo:greet", "demo:greet/greeter@0.1.0"));
        assert!(names("demo:greet@0.1.0", "demo:greet/other@0.1.0"));
        assert!(!names("demo:greet", "demo:greeting/greeter@0.1.0"));
        assert!(!names("demo:greet/greeter", "demo:greet/other"));
    }

    #[test]
    fn dependency_sources_and_what_is_refused() {
        let value = |text: &str| -> toml::Value {
            toml::from_str::<toml::Table>(&format!("d = {text}")).expect("toml")["d"].clone()
        };
        assert_eq!(
            parse("a:b/c", &value(r#"{ path = "dep.wasm" }"#)),
            Ok(Dependency {
                name: "a:b/c".into(),
                source: Source::Path("dep.wasm".into()),
                export: None
            })
        );
        assert_eq!(
            parse(
                "a:b/c",
                &value(r#"{ component = "impl", export = "a:b/d" }"#)
            )
            .map(|d| (d.source, d.export)),
            Ok((Source::Component("impl".into()), Some("a:b/d".into())))
        );
        for (text, message) in [
            (
                r#""1.0.0""#,
                "registry dependencies (a version string) are not supported",
            ),
            (
                r#"{ version = "1.0", registry = "ttl.sh" }"#,
                "registry dependencies (`version`) are not supported",
            ),
            (
                r#"{ url = "https://x/dep.wasm", digest = "sha256:0" }"#,
                "remote dependencies (`url`) are not supported",
            ),
            (
                r#"{ path = "a.wasm", component = "b" }"#,
                "give `path` or `component`, not both",
            ),
            (
                r#"{ path = "a.wasm", colour = "red" }"#,
                "unknown key `colour`",
            ),
        ] {
            let e = parse("a:b/c", &value(text)).expect_err(text);
            assert!(e.contains(message), "{text}: {e}");
        }
    }
}
