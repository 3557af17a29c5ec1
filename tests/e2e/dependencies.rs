//! Spin's component dependencies, composed by `cloudfn up`: a dependency by
//! `{ path = … }` and by `{ component = … }` (a whole package), answering
//! through the component that imports it, with the component's
//! configuration when `dependencies_inherit_configuration = true`; what
//! cannot be composed is refused at start with the reason.

use crate::common::{HostBuilder, fixture_wasm, up_refused};

fn manifest(dir: &std::path::Path, inherit: bool, dependency: &str) -> std::path::PathBuf {
    let composed = fixture_wasm("composed");
    let greeter = fixture_wasm("greeter");
    let text = format!(
        r#"spin_manifest_version = 2
[application]
name = "dependencies"
[variables]
word = {{ default = "hi" }}

[[trigger.http]]
route = "/by-path/..."
component = "by-path"

[[trigger.http]]
route = "/by-component/..."
component = "by-component"

[component.by-path]
source = {composed:?}
variables = {{ greeting_word = "{{{{ word }}}}" }}
dependencies_inherit_configuration = {inherit}
[component.by-path.dependencies]
"cloudfn:greeting/greeter" = {dependency}

[component.by-component]
source = {composed:?}
dependencies_inherit_configuration = true
[component.by-component.dependencies]
"cloudfn:greeting" = {{ component = "greeter" }}

[component.greeter]
source = {greeter:?}
"#
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).expect("manifest");
    path
}

#[test]
fn dependencies_by_path_and_by_component_answer_through_the_importer() {
    let dir = tempfile::tempdir().expect("dir");
    let greeter = format!(
        "{{ path = {:?} }}",
        fixture_wasm("greeter").display().to_string()
    );
    let host = HostBuilder::manifest(manifest(dir.path(), true, &greeter)).start();
    let by_path = host.get("/by-path/?bob");
    assert_eq!(
        (by_path.status, by_path.body.as_str()),
        (200, "hi, bob!"),
        "the variable reaches the dependency"
    );
    let by_component = host.get("/by-component/?ann");
    assert_eq!(
        (by_component.status, by_component.body.as_str()),
        (200, "hello, ann!"),
        "no variable granted"
    );
}

#[test]
fn dependencies_that_cannot_be_composed_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let greeter = format!(
        "{{ path = {:?} }}",
        fixture_wasm("greeter").display().to_string()
    );
    for (inherit, dependency, expected) in [
        (
            false,
            greeter.as_str(),
            "dependency `cloudfn:greeting/greeter` imports `wasi:config/store@0.2.0-rc.1`",
        ),
        (
            true,
            r#"{ version = "0.1.0", registry = "ghcr.io" }"#,
            "registry dependencies (`version`) are not supported by cloudfn up",
        ),
        (
            true,
            r#"{ path = "missing.wasm" }"#,
            "missing.wasm: No such file",
        ),
        (
            true,
            r#"{ component = "nobody" }"#,
            "no component `nobody` in the manifest",
        ),
    ] {
        let manifest = manifest(dir.path(), inherit, dependency);
        let stderr = up_refused(&manifest, &[]);
        assert!(stderr.contains(expected), "{dependency}: {stderr}");
    }
}
