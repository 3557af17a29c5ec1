//! Core WebAssembly modules, as older Spin apps ship them: the spin-sdk 5.2
//! fixture built for `wasm32-wasip1` is made a component when `cloudfn up`
//! loads it and then behaves as its `wasm32-wasip2` build does, and a
//! `wasm32-unknown-unknown` build (no WASI, so no adapter) answers through
//! `cloudfn invoke`; bytes that are no WebAssembly at all are refused at
//! start, naming the file.

use crate::common::{
    HostBuilder, cloudfn, greeter_unknown_core_module, spin_v2_core_module, up_refused,
};
use serde_json::json;

fn manifest(dir: &std::path::Path, source: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        r#"spin_manifest_version = 2
[application]
name = "core-module"
[variables]
greeting = {{ default = "hi" }}

[[trigger.http]]
route = "/v2/..."
component = "legacy"

[component.legacy]
source = {source:?}
key_value_stores = ["default"]
sqlite_databases = ["default"]
variables = {{ greeting = "{{{{ greeting }}}}" }}
"#
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).expect("manifest");
    path
}

#[test]
fn a_wasip1_core_module_is_componentized_and_served_with_its_grants() {
    let module = spin_v2_core_module();
    let bytes = std::fs::read(module).expect("module");
    assert_eq!(
        &bytes[4..8],
        &[1, 0, 0, 0],
        "a core module, not a component"
    );
    let dir = tempfile::tempdir().expect("dir");
    let host = HostBuilder::manifest(manifest(dir.path(), module))
        .arg("--data-dir")
        .arg(dir.path().join("data").display().to_string())
        .start();

    let put = host.request("PUT", "/v2/kv/default/k", &[], Some(b"stored"));
    assert_eq!(put.status, 204, "{}", put.body);
    assert_eq!(host.get("/v2/kv/default/k").body, "stored");
    let denied = host.get("/v2/kv/secrets/k");
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (409, "Error::AccessDenied")
    );

    let body = json!({"sql": "SELECT ?1 + 1 AS n", "params": [41]}).to_string();
    let selected = host.post("/v2/sqlite/default", body.as_bytes());
    assert_eq!(
        (selected.status, selected.body.as_str()),
        (200, r#"{"columns":["n"],"rows":[[42]]}"#)
    );

    assert_eq!(host.get("/v2/vars/greeting").body, "hi");
}

#[test]
fn bytes_that_are_no_webassembly_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let source = dir.path().join("app.wasm");
    std::fs::write(&source, b"#!/bin/sh\necho not wasm\n").expect("write");
    let manifest = manifest(dir.path(), &source);
    let stderr = up_refused(&manifest, &[]);
    assert!(
        stderr.contains("app.wasm is neither a WebAssembly component nor a core module"),
        "{stderr}"
    );
}

#[test]
fn a_wasm32_unknown_unknown_core_module_is_componentized_and_invoked() {
    let module = greeter_unknown_core_module();
    let dir = tempfile::tempdir().expect("dir");
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"unknown\"\n[variables]\nword = {{ default = \"hey\" }}\n[component.greeter]\nsource = {module:?}\nvariables = {{ greeting_word = \"{{{{ word }}}}\" }}\n"
        ),
    )
    .expect("manifest");
    let manifest = manifest.display().to_string();
    let (ok, stdout, stderr) = cloudfn(
        &[
            "invoke",
            "-f",
            &manifest,
            "--no-cache",
            "greeter",
            "greet",
            "\"ann\"",
        ],
        dir.path(),
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "\"hey, ann!\"");
}
