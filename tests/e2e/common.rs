//! Shared test helpers: the fixture components (built once per test run), a
//! builder that starts the real `cloudfn` binary on `127.0.0.1:0`, and a small
//! blocking HTTP client.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `cloudfn` binary under test.
pub const CLOUDFN: &str = env!("CARGO_BIN_EXE_cloudfn");

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("host/cloudfn/ has a grandparent")
        .to_path_buf()
}

/// Runs `command` to completion and returns its output, panicking with its
/// stderr unless it succeeded (`what` names it in the panic).
pub fn run_ok(command: &mut Command, what: &str) -> std::process::Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `cargo build --release --target wasm32-wasip2 ARGS…` in `dir`, panicking with cargo's output on failure.
fn build_wasm(dir: &Path, args: &[&std::ffi::OsStr], what: &str) {
    build_for("wasm32-wasip2", dir, args, what)
}

/// The cargo running these tests (`CARGO`), or the one on the `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cargo build --release --target TARGET ARGS…` in `dir`, panicking with cargo's output on failure.
fn build_for(target: &str, dir: &Path, args: &[&std::ffi::OsStr], what: &str) {
    run_ok(
        cargo()
            .current_dir(dir)
            .args(["build", "--release", "--target", target])
            .args(args)
            // Flags meant for the host build must not leak into the guest build.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR"),
        &format!("cargo building {what}"),
    );
}

/// The fixture workspace, with its components built for wasm32-wasip2 (once per run).
pub fn fixtures() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = repo_root().join("tests/fixtures");
        build_wasm(
            &dir,
            &[
                "--manifest-path".as_ref(),
                dir.join("Cargo.toml").as_os_str(),
            ],
            "the fixture components",
        );
        dir
    })
}

/// Path of a built fixture component.
pub fn fixture_wasm(name: &str) -> PathBuf {
    fixtures().join(format!("target/wasm32-wasip2/release/{name}.wasm"))
}

/// The `spin-v2` fixture built for wasm32-wasip1: a core module, as older
/// Spin apps ship (once per run).
pub fn spin_v2_core_module() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = fixtures();
        build_for(
            "wasm32-wasip1",
            dir,
            &[
                "--manifest-path".as_ref(),
                dir.join("Cargo.toml").as_os_str(),
                "-p".as_ref(),
                "spin-v2".as_ref(),
            ],
            "the spin-v2 fixture for wasm32-wasip1",
        );
        dir.join("target/wasm32-wasip1/release/spin_v2.wasm")
    })
}

/// The `greeter` fixture built for wasm32-unknown-unknown: a core module
/// carrying its component type and importing no WASI at all (once per run).
pub fn greeter_unknown_core_module() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = fixtures();
        build_for(
            "wasm32-unknown-unknown",
            dir,
            &[
                "--manifest-path".as_ref(),
                dir.join("Cargo.toml").as_os_str(),
                "-p".as_ref(),
                "greeter".as_ref(),
            ],
            "the greeter fixture for wasm32-unknown-unknown",
        );
        dir.join("target/wasm32-unknown-unknown/release/greeter.wasm")
    })
}

/// The product manifest (`spin.toml` at the root) with every function built
/// for wasm32-wasip2 (once per run, in `target/e2e-wasm` so the nested build
/// never waits on the outer one), its sources pointing at those builds.
pub fn product_manifest() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        let target = root.join("target/e2e-wasm");
        let args: [&std::ffi::OsStr; 4] = [
            "--workspace".as_ref(),
            "--exclude".as_ref(),
            "cloudfn*".as_ref(),
            "--target-dir".as_ref(),
        ];
        let mut all = args.to_vec();
        all.push(target.as_os_str());
        build_wasm(&root, &all, "the functions");
        let text = std::fs::read_to_string(root.join("spin.toml")).expect("root spin.toml");
        // Component sources and dependency paths alike.
        let redirected = text.replace(
            "\"target/wasm32-wasip2/release/",
            &format!("\"{}/wasm32-wasip2/release/", target.display()),
        );
        let manifest = target.join("spin.toml");
        std::fs::write(&manifest, redirected).expect("write the redirected manifest");
        manifest
    })
}

/// A function of the product manifest, built for wasm32-wasip2 (`index_map`, …).
pub fn product_wasm(name: &str) -> PathBuf {
    product_manifest()
        .parent()
        .expect("the manifest has a directory")
        .join(format!("wasm32-wasip2/release/{name}.wasm"))
}

/// One cache directory shared by the tests of this run, so each component compiles once.
pub fn shared_cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// Starts `cloudfn up` with chosen flags.
pub struct HostBuilder {
    manifest: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cache_dir: PathBuf,
    /// Whether to give the host a throwaway data directory (product hosts).
    own_data: bool,
}

impl HostBuilder {
    /// A host serving the fixture manifest.
    pub fn fixtures() -> Self {
        Self::manifest(fixtures().join("spin.toml"))
    }

    /// A host serving the product manifest, with a throwaway data directory
    /// unless given `--data-dir`: product hosts run side by side, and one
    /// data directory delivers the events of one host only.
    pub fn product() -> Self {
        Self {
            own_data: true,
            ..Self::manifest(product_manifest().to_path_buf())
        }
    }

    /// A host serving `manifest`.
    pub fn manifest(manifest: PathBuf) -> Self {
        Self {
            manifest,
            args: Vec::new(),
            env: Vec::new(),
            cache_dir: shared_cache_dir().to_path_buf(),
            own_data: false,
        }
    }

    /// Adds a flag (and its value) to `cloudfn up`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable of the host (`SPIN_VARIABLE_…`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Opens the Cloud Drive to requests without credentials (the manifest's
    /// `drive_anonymous`): the tests of the store itself (checksums, ranges,
    /// events, backends) run on that shared drive; the per-user drive has its
    /// own tests (`functions::accounts`).
    pub fn anonymous_drive(self) -> Self {
        self.env("SPIN_VARIABLE_DRIVE_ANONYMOUS", "true")
    }

    /// Sets each of `vars` as [`Self::env`] does.
    pub fn envs<K: Into<String>, V: Into<String>>(
        self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        vars.into_iter().fold(self, |b, (k, v)| b.env(k, v))
    }

    /// Uses its own cache directory.
    pub fn cache_dir(mut self, dir: &Path) -> Self {
        self.cache_dir = dir.to_path_buf();
        self
    }

    /// Spawns the host and waits until it listens.
    pub fn start(self) -> Host {
        let own_data = (self.own_data && !self.args.iter().any(|a| a == "--data-dir"))
            .then(|| tempfile::tempdir().expect("data dir"));
        let mut child = Command::new(CLOUDFN)
            .arg("up")
            .arg("-f")
            .arg(&self.manifest)
            .args(["--listen", "127.0.0.1:0", "--cache-dir"])
            .arg(&self.cache_dir)
            .args(
                own_data
                    .iter()
                    .flat_map(|d| [std::ffi::OsStr::new("--data-dir"), d.path().as_os_str()]),
            )
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cloudfn up");
        let log = LogLines::collect(child.stderr.take().expect("stderr"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut host = Host {
            child,
            addr: "127.0.0.1:0".parse().expect("addr"),
            log,
            _data: own_data,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("Serving http://") {
                        host.addr = addr.trim().parse().expect("listen address");
                        return host;
                    }
                }
                Err(_) => panic!("cloudfn up did not start; stderr:\n{}", host.log_text()),
            }
        }
    }
}

/// A running `cloudfn up` process, killed on drop.
pub struct Host {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: LogLines,
    /// The throwaway data directory, when the host has its own.
    _data: Option<tempfile::TempDir>,
}

impl Host {
    /// Sends one request to the host (see [`request`]).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        request(self.addr, method, path, headers, body)
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    /// POST `body` to `path`.
    pub fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[], Some(body))
    }

    /// POST `body` to `path` with a `Content-Type`.
    pub fn post_as(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[("content-type", content_type)], Some(body))
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the host a signal (`TERM`, `INT`, …) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits up to `timeout` for the host to exit, and returns how it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the host wrote to stderr so far.
    pub fn log_text(&self) -> String {
        self.log.text()
    }

    /// The structured per-request log line for request `id`, waiting briefly for it.
    pub fn request_log(&self, id: u64) -> String {
        let needle = format!("id={id} ");
        self.wait_for_log(|l| l.contains("cloudfn::request") && l.contains(&needle))
    }

    /// `peak_memory` of request `id`'s log line, in bytes.
    pub fn peak_memory(&self, id: u64) -> u64 {
        let line = self.request_log(id);
        line.split("peak_memory=")
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no peak_memory in {line}"))
    }

    /// `peak_memory` of the first request whose log line matches `wanted`
    /// (waiting for it), with that line for messages.
    pub fn peak_memory_of(&self, wanted: impl Fn(&str) -> bool) -> (u64, String) {
        let line = self.wait_for_log(wanted);
        let id: u64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("id="))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no request id in {line}"));
        (self.peak_memory(id), line)
    }

    /// The first log line matching `wanted`, waiting up to five seconds for it.
    pub fn wait_for_log(&self, wanted: impl Fn(&str) -> bool) -> String {
        self.log.wait_for(wanted, Duration::from_secs(5))
    }
}

/// The lines a child process writes to one of its streams, gathered by a
/// thread as they come.
#[derive(Clone, Default)]
pub struct LogLines(Arc<Mutex<Vec<String>>>);

impl LogLines {
    /// Starts gathering the lines of `stream`.
    pub fn collect(stream: impl Read + Send + 'static) -> Self {
        let log = Self::default();
        let sink = log.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        log
    }

    /// Every line so far.
    pub fn text(&self) -> String {
        self.0.lock().expect("log lock").join("\n")
    }

    /// The first line matching `wanted`, waiting up to `within` for it.
    pub fn wait_for(&self, wanted: impl Fn(&str) -> bool, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .0
                .lock()
                .expect("log lock")
                .iter()
                .find(|l| wanted(l))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "expected log line not found in:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("cloudfn up's log:\n{}", self.log_text());
        }
    }
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy).
    pub body: String,
    /// Body length in bytes.
    pub body_len: usize,
    /// Body bytes.
    pub bytes: Vec<u8>,
    /// Whether the body ended with an error (cut off).
    pub body_error: bool,
}

impl Reply {
    /// First value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let url = format!("http://{addr}{path}");
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = match body {
        Some(body) => agent.run(builder.body(body.to_vec()).expect("request")),
        None => agent.run(builder.body(()).expect("request")),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut bytes = Vec::new();
    let body_error = response
        .into_body()
        .into_with_config()
        .limit(u64::MAX)
        .reader()
        .read_to_end(&mut bytes)
        .is_err();
    Reply {
        status,
        headers,
        body_len: bytes.len(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
        body_error,
    }
}

/// Runs `cloudfn ARGS…` to completion; returns (success, stdout, stderr).
pub fn cloudfn(args: &[&str], dir: &Path) -> (bool, String, String) {
    let output = Command::new(CLOUDFN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run cloudfn");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `cloudfn up -f MANIFEST --listen 127.0.0.1:0 --no-cache EXTRA…` in
/// the manifest's directory, which must refuse to start; returns its stderr.
pub fn up_refused(manifest: &Path, extra: &[&str]) -> String {
    let dir = manifest.parent().expect("the manifest has a directory");
    let manifest = manifest.display().to_string();
    let mut args = vec![
        "up",
        "-f",
        &manifest,
        "--listen",
        "127.0.0.1:0",
        "--no-cache",
    ];
    args.extend_from_slice(extra);
    let (ok, _, stderr) = cloudfn(&args, dir);
    assert!(!ok, "cloudfn up started with {args:?}");
    stderr
}

/// `cloudfn invoke -f spin.toml --no-cache COMPONENT ARGS…` in the product
/// manifest's directory; returns (success, stdout, stderr).
pub fn invoke_product(component: &str, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["invoke", "-f", "spin.toml", "--no-cache", component];
    all.extend_from_slice(args);
    cloudfn(&all, product_manifest().parent().expect("dir"))
}

/// The output of an [`invoke_product`] that must succeed.
pub fn invoke_product_ok(component: &str, args: &[&str]) -> String {
    let (ok, stdout, stderr) = invoke_product(component, args);
    assert!(ok, "invoke {component} {args:?}: {stderr}");
    stdout
}

/// How a `cloudfn stream` run ended.
pub struct StreamRun {
    /// Exit status.
    pub status: std::process::ExitStatus,
    /// What it wrote to stdout (lossy).
    pub stdout: String,
    /// What it wrote to stderr (lossy).
    pub stderr: String,
}

impl StreamRun {
    /// stdout and stderr of a run that must have succeeded.
    pub fn success(self) -> (String, String) {
        assert!(self.status.success(), "cloudfn stream: {}", self.stderr);
        (self.stdout, self.stderr)
    }
}

/// Runs `cloudfn stream PHASE WASM ARGS…` with `input` on stdin.
pub fn cloudfn_stream(phase: &str, wasm: &Path, args: &[&str], input: &[u8]) -> StreamRun {
    use std::io::Write;
    let mut child = Command::new(CLOUDFN)
        .args(["stream", phase])
        .arg(wasm)
        .args(args)
        .arg("--cache-dir")
        .arg(shared_cache_dir())
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudfn stream");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // A writer thread, so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("cloudfn stream");
    let _ = writer.join();
    StreamRun {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Waits up to 30 s for `ready`, then panics with `what` and the last state.
pub fn wait_until<T: std::fmt::Debug>(
    what: &str,
    mut probe: impl FnMut() -> T,
    ready: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = probe();
        if ready(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: still {value:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `cloudfn events -f <product manifest> --data-dir DATA ARGS…`,
/// asserting it succeeds; its standard output.
pub fn product_events(data: &Path, args: &[&str]) -> String {
    let manifest = product_manifest().display().to_string();
    let data_dir = data.display().to_string();
    let mut all = vec!["events", "-f", &manifest, "--data-dir", &data_dir];
    all.extend_from_slice(args);
    let (ok, out, err) = cloudfn(&all, product_manifest().parent().expect("dir"));
    assert!(ok, "cloudfn {all:?}: {out}{err}");
    out
}

/// The dead letters of the product manifest's embedded broker in `data`
/// (`cloudfn events dlq list --json`).
pub fn product_dead_letters(data: &Path) -> serde_json::Value {
    serde_json::from_str(&product_events(data, &["dlq", "list", "--json"])).expect("json")
}

/// CPU time the process has used (user + system), in seconds (Linux).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

/// The `duration_ms` of a request's or a delivery's log line.
pub fn log_duration_ms(line: &str) -> f64 {
    line.split("duration_ms=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no duration_ms in {line:?}"))
}
