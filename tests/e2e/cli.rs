//! The command line: manifest errors, missing components, a busy port,
//! `build`, `up --build` and `invoke` (with its watchdog).

use crate::common::{CLOUDFN, HostBuilder, cloudfn, fixture_wasm, fixtures};
use std::path::Path;
use std::time::Duration;

const HEADER: &str = "spin_manifest_version = 2\n\n[application]\nname = \"t\"\n\n";

/// Writes `text` as `spin.toml` in a fresh directory and runs `cloudfn up` on it.
fn up_error(text: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("spin.toml"), text).expect("write manifest");
    let (ok, _, stderr) = cloudfn(&["up", "--listen", "127.0.0.1:0", "--no-cache"], dir.path());
    assert!(!ok, "cloudfn up accepted:\n{text}");
    stderr
}

#[test]
fn invalid_manifests_name_file_line_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[[trigger.http]]\nroute = \"/a\"\ncomponent = \"b\"\n\n[component.a]\nsource = \"a.wasm\"\n",
            "error: spin.toml:8:13: `trigger.http[0].component`: no component named `b` (defined: a)\n",
        ),
        (
            "[component.a]\nsource = \"a.wasm\"\nenviroment = { A = \"1\" }\n",
            "error: spin.toml:8:1: `component.a.enviroment`: unknown field `enviroment`, expected one of `source`, `description`, `files`, `exclude_files`, `environment`, `allowed_outbound_hosts`, `variables`, `key_value_stores`, `build`, `dependencies`, `dependencies_inherit_configuration`, `tool`, `sqlite_databases`, `ai_models`\n",
        ),
        (
            "[[trigger.http]]\nroute = \"/a/.../b\"\ncomponent = \"a\"\n\n[component.a]\nsource = \"a.wasm\"\n",
            "error: spin.toml:7:9: `trigger.http[0].route`: `...` may only appear as the last segment of a route (as in `/x/...`)\n",
        ),
        (
            "[component.a]\nsource = \"a.wasm\"\nvariables = { v = \"{{ nope }}\" }\n",
            "error: spin.toml:7:10: `component.a.variables.v`: refers to undefined application variable `nope`\n",
        ),
        (
            "[component.a\nsource = \"a.wasm\"\n",
            "error: spin.toml:6:13: `component.a`: unclosed table, expected `]`\n",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            up_error(&format!("{HEADER}{body}")),
            *expected,
            "for manifest:\n{body}"
        );
    }
    assert_eq!(
        up_error("spin_manifest_version = 1\n[application]\nname = \"t\"\n"),
        "error: spin.toml:1:25: `spin_manifest_version`: cloudfn reads Spin manifest version 2 only\n"
    );
}

#[test]
fn missing_manifest_and_missing_component_say_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = cloudfn(&["up", "-f", "nope.toml"], dir.path());
    assert!(!ok);
    assert!(
        stderr.starts_with("error: cannot read manifest nope.toml: No such file"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("spin.toml"),
        format!("{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"a\"\n\n[component.a]\nsource = \"out/a.wasm\"\n"),
    )
    .expect("write");
    let (ok, _, stderr) = cloudfn(&["up", "--listen", "127.0.0.1:0", "--no-cache"], dir.path());
    assert!(!ok);
    assert_eq!(
        stderr,
        "error: component `a`: ./out/a.wasm not found; build it first (`cloudfn build`, or `cloudfn up --build`)\n"
    );
}

#[test]
fn busy_port_is_reported_as_such() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let manifest = fixtures().join("spin.toml");
    let (ok, _, stderr) = cloudfn(
        &[
            "up",
            "-f",
            manifest.to_str().expect("utf-8 path"),
            "--listen",
            &addr,
            "--no-cache",
        ],
        Path::new("."),
    );
    assert!(!ok);
    assert!(
        stderr.ends_with(&format!("error: cannot listen on {addr}: the address is already in use (pick another with --listen)\n")),
        "{stderr}"
    );
}

/// A manifest whose component is produced by its build command (a copy of hello-p2).
fn buildable_project(dir: &Path, command: &str) {
    std::fs::create_dir_all(dir.join("work")).expect("workdir");
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            "{HEADER}[[trigger.http]]\nroute = \"/built/...\"\ncomponent = \"built\"\n\n\
             [component.built]\nsource = \"work/out/built.wasm\"\n\
             [component.built.build]\ncommand = \"{command}\"\nworkdir = \"work\"\n"
        ),
    )
    .expect("write manifest");
}

#[test]
fn build_runs_commands_in_their_workdir_and_up_build_serves_the_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wasm = fixture_wasm("hello_p2");
    buildable_project(
        dir.path(),
        &format!("mkdir -p out && cp {} out/built.wasm", wasm.display()),
    );

    let (ok, _, stderr) = cloudfn(&["build"], dir.path());
    assert!(ok, "{stderr}");
    assert!(
        dir.path().join("work/out/built.wasm").exists(),
        "built in workdir"
    );

    std::fs::remove_file(dir.path().join("work/out/built.wasm")).expect("remove");
    let host = HostBuilder::manifest(dir.path().join("spin.toml"))
        .arg("--build")
        .start();
    let reply = host.get("/built/x");
    assert_eq!(reply.status, 200);
    assert!(reply.body.starts_with("hello from p2"), "{}", reply.body);
}

#[test]
fn failing_build_stops_with_the_command_and_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    buildable_project(dir.path(), "exit 3");
    let (ok, _, stderr) = cloudfn(&["build"], dir.path());
    assert!(!ok);
    assert!(
        stderr.ends_with(
            "error: component `built`: build command `exit 3` failed (exit status: 3)\n"
        ),
        "{stderr}"
    );
    let (ok, _, stderr) = cloudfn(&["up", "--build", "--listen", "127.0.0.1:0"], dir.path());
    assert!(!ok, "up --build must not serve after a failed build");
    assert!(stderr.contains("failed (exit status: 3)"), "{stderr}");
}

#[test]
fn invoke_calls_typed_exports_with_wave_values() {
    let dir = fixtures();
    let run = |args: &[&str]| {
        let mut all = vec!["invoke", "-f", "spin.toml", "--no-cache", "typed"];
        all.extend_from_slice(args);
        cloudfn(&all, dir)
    };
    let ok = |args: &[&str]| {
        let (ok, stdout, stderr) = run(args);
        assert!(ok, "invoke {args:?} failed: {stderr}");
        stdout
    };
    assert_eq!(ok(&["sum", "[1, 2, 3, 4000000000]"]), "4000000006\n");
    assert_eq!(ok(&["calc#divide", "7", "2"]), "ok(3)\n");
    assert_eq!(
        ok(&["cloudfn:fixture/calc@0.1.0#divide", "7", "0"]),
        "err(divide-by-zero)\n"
    );
    assert_eq!(ok(&["calc.shift", "{x: 1, y: -2}", "5"]), "{x: 6, y: -2}\n");
    assert_eq!(ok(&["greet", "\"wasm\""]), "\"hello, wasm\"\n");

    let (success, _, stderr) = run(&["greet", "42"]);
    assert!(!success);
    assert!(
        stderr.starts_with("error: argument `name` (string): "),
        "{stderr}"
    );
    let (success, _, stderr) = run(&["sum"]);
    assert!(!success);
    assert_eq!(
        stderr,
        "error: `cloudfn:fixture/calc@0.1.0#sum` takes 1 argument(s) (values: list), 0 given\n"
    );
    let (success, _, stderr) = run(&["nope"]);
    assert!(!success);
    assert!(
        stderr.contains("exports no function `nope`; it exports: cloudfn:fixture/calc@0.1.0#sum,"),
        "{stderr}"
    );
}

#[test]
fn invoke_past_the_timeout_is_stopped_by_the_watchdog() {
    let dir = fixtures();
    let started = std::time::Instant::now();
    let output = std::process::Command::new(CLOUDFN)
        .args(["invoke", "-f", "spin.toml", "--no-cache", "--timeout", "1s"])
        .args(["typed", "spin", "18446744073709551615"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run cloudfn");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(124), "{stderr}");
    assert_eq!(
        stderr,
        "error: `cloudfn:fixture/calc@0.1.0#spin` ran longer than the timeout (1s, --timeout); stopped\n"
    );
    assert!(output.stdout.is_empty());
    assert!(started.elapsed() < Duration::from_secs(30));
    // A call within the timeout is unaffected.
    let (ok, stdout, stderr) = cloudfn(
        &[
            "invoke",
            "-f",
            "spin.toml",
            "--no-cache",
            "typed",
            "spin",
            "3",
        ],
        dir,
    );
    assert!(ok, "{stderr}");
    assert_ne!(stdout, "", "{stderr}");
}

#[test]
fn regression_build_without_workdir_runs_in_the_manifest_directory() {
    // `-f spin.toml` has the parent "": the build used to fail with
    // "No such file or directory" instead of running in the current directory.
    let dir = tempfile::tempdir().expect("temp dir");
    let wasm = fixture_wasm("hello_p2");
    std::fs::write(
        dir.path().join("spin.toml"),
        format!(
            "{HEADER}[component.built]\nsource = \"built.wasm\"\n[component.built.build]\ncommand = \"cp {} built.wasm\"\n",
            wasm.display()
        ),
    )
    .expect("write manifest");
    let (ok, _, stderr) = cloudfn(&["build", "-f", "spin.toml"], dir.path());
    assert!(ok, "{stderr}");
    assert!(dir.path().join("built.wasm").exists());
}
