//! The Lambda bootstrap under cargo-lambda's Runtime API emulator (the
//! real one, from PyPI), and the scenarios that run alike on it and on
//! `cloudfn up`.
//!
//! Each [`LambdaHost`] is a fresh emulator (an event stays queued in one
//! after its invoke timed out) plus the `bootstrap` binary serving it, as
//! Lambda's own sandbox would run it: settings from the environment only.

mod scenarios;

use crate::common::{
    CLOUDFN, Host, LogLines, Reply, cargo, repo_root, request, run_ok, shared_cache_dir,
};
use crate::servers::{free_port, python_venv};
use serde_json::Value;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `bootstrap` binary under test: another package's binary (Cargo
/// hands a test only its own package's), so it is built once per run, with
/// the profile and into the target directory of the `cloudfn` under test
/// (a no-op when `cargo test --workspace` or a build already made it).
pub fn bootstrap() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cloudfn = Path::new(CLOUDFN);
        let profile_dir = cloudfn.parent().expect("cloudfn is in a profile directory");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(name) => name,
        };
        run_ok(
            cargo()
                .current_dir(repo_root())
                .args([
                    "build",
                    "--package",
                    "cloudfn-bootstrap",
                    "--profile",
                    profile,
                ])
                .arg("--target-dir")
                .arg(profile_dir.parent().expect("a target directory")),
            "cargo building the bootstrap",
        );
        cloudfn.with_file_name(format!("bootstrap{}", std::env::consts::EXE_SUFFIX))
    })
}

/// The cargo-lambda release the emulator comes from.
const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";

/// cargo-lambda's binary: `CLOUDFN_CARGO_LAMBDA` when set, else installed
/// once from PyPI into `target/lambda-venv` (its binary only: the ziglang
/// package it cross-compiles with is not needed to emulate).
pub fn cargo_lambda() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| match std::env::var_os("CLOUDFN_CARGO_LAMBDA") {
        Some(path) => PathBuf::from(path),
        None => python_venv("lambda-venv", &["--no-deps", CARGO_LAMBDA], "cargo-lambda")
            .join("cargo-lambda"),
    })
}

/// A throwaway Cargo manifest for the emulator to read (it wants one; the
/// function is then named `_`).
fn emulator_manifest() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("emulator dir");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"bootstrap\"\nversion = \"0.0.0\"\nedition = \"2024\"\n",
        )
        .expect("write the emulator's manifest");
        std::fs::create_dir(dir.path().join("src")).expect("src");
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").expect("main.rs");
        dir
    });
    dir.path()
}

/// Starts an emulator on a free port; it, its log and its address. The
/// emulator takes no port 0 and, when its port is taken, exits at once and
/// silently, while the port's owner answers: so the port is checked to be
/// its own (its log names it, and it still runs), else another is tried.
fn emulator() -> (Child, LogLines, SocketAddr) {
    for _ in 0..5 {
        let port = free_port();
        let mut emulator = Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .arg("--manifest-path")
            .arg(emulator_manifest().join("Cargo.toml"))
            .current_dir(emulator_manifest())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch");
        // It logs to stdout.
        let log = LogLines::collect(emulator.stdout.take().expect("stdout"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let starting = format!("runtime_addr={addr}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if !matches!(emulator.try_wait(), Ok(None)) {
                break; // it quit: the port was taken
            }
            if log.text().contains(&starting) && TcpStream::connect(addr).is_ok() {
                std::thread::sleep(Duration::from_millis(200));
                if matches!(emulator.try_wait(), Ok(None)) {
                    return (emulator, log, addr);
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on {addr}:\n{}",
                log.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = emulator.wait();
    }
    panic!("the emulator found no free port in 5 tries");
}

/// Starts a Lambda host: an emulator and a bootstrap serving `manifest`.
pub struct LambdaBuilder {
    manifest: PathBuf,
    env: Vec<(String, String)>,
}

impl LambdaBuilder {
    /// A bootstrap serving `manifest`.
    pub fn manifest(manifest: &Path) -> Self {
        Self {
            manifest: manifest.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable of the bootstrap.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets each of `vars` as [`Self::env`] does.
    pub fn envs<K: Into<String>, V: Into<String>>(
        self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        vars.into_iter().fold(self, |b, (k, v)| b.env(k, v))
    }

    /// Starts the emulator, then the bootstrap, and waits until it is ready.
    pub fn start(self) -> LambdaHost {
        let (emulator, emulator_log, addr) = emulator();
        let data = tempfile::tempdir().expect("data dir");
        let mut bootstrap = Command::new(bootstrap())
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{addr}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("CLOUDFN_MANIFEST", &self.manifest)
            .env("CLOUDFN_CACHE_DIR", shared_cache_dir())
            .env("CLOUDFN_DATA_DIR", data.path())
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bootstrap");
        let log = LogLines::collect(bootstrap.stderr.take().expect("stderr"));
        let host = LambdaHost {
            addr,
            bootstrap,
            emulator,
            log,
            emulator_log,
            _data: data,
        };
        host.wait_for_log(|l| l.contains("cloudfn::lambda") && l.contains("ready"));
        host
    }
}

/// A bootstrap behind its own emulator; both killed on drop.
pub struct LambdaHost {
    addr: SocketAddr,
    bootstrap: Child,
    emulator: Child,
    log: LogLines,
    emulator_log: LogLines,
    _data: tempfile::TempDir,
}

impl LambdaHost {
    /// Invokes the function with `event`, as Lambda's Invoke API does;
    /// returns the emulator's status and the function's response JSON.
    pub fn invoke(&self, event: &Value) -> (u16, Value) {
        let reply = request(
            self.addr,
            "POST",
            "/2015-03-31/functions/_/invocations",
            &[("content-type", "application/json")],
            Some(event.to_string().as_bytes()),
        );
        let json = serde_json::from_slice(&reply.bytes).unwrap_or(Value::String(reply.body));
        (reply.status, json)
    }

    /// The first log line matching `wanted`, waiting up to two minutes
    /// (the first start compiles every component).
    pub fn wait_for_log(&self, wanted: impl Fn(&str) -> bool) -> String {
        self.log.wait_for(wanted, Duration::from_secs(120))
    }
}

impl Drop for LambdaHost {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- bootstrap log:\n{}\n--- emulator log:\n{}",
                self.log.text(),
                self.emulator_log.text()
            );
        }
        for child in [&mut self.bootstrap, &mut self.emulator] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a scenario needs of a platform: HTTP requests to the manifest's routes.
pub trait Platform {
    /// The platform's name, for messages.
    fn name(&self) -> &'static str;

    /// Sends one request to a route of the manifest.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply;
}

impl Platform for Host {
    fn name(&self) -> &'static str {
        "cloudfn up"
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        Host::request(self, method, path, headers, body)
    }
}

impl Platform for LambdaHost {
    fn name(&self) -> &'static str {
        "Lambda bootstrap"
    }

    /// Through the emulator's Function URL: a real HTTP request made a
    /// payload 2.0 event, and the function's response made HTTP again.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        request(
            self.addr,
            method,
            &format!("/lambda-url/_{path}"),
            headers,
            body,
        )
    }
}
