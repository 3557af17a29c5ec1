//! Real servers for the tests, from Debian's packages (and S3 and SQS from
//! crates.io and PyPI): each binds `127.0.0.1` on a free port, keeps its
//! data in a throwaway directory, and is killed when dropped.

use crate::common::{LogLines, repo_root, run_ok};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running server process.
pub struct Server {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its data directory, removed with it.
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(program: &str, args: &[&str], dir: &Path) -> Child {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("start {program} (install it from Debian's packages; .ci/run does): {e}")
        })
}

/// Waits until `ready` holds, or panics naming `what`.
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `redis-server` with no persistence.
pub fn redis() -> Server {
    let dir = tempfile::tempdir().expect("redis dir");
    let port = free_port();
    let port_arg = port.to_string();
    let child = spawn(
        "redis-server",
        &[
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            ".",
        ],
        dir.path(),
    );
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    wait_for("redis-server", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok_and(|s| resp(s, &["PING"]) == "+PONG")
    });
    server
}

/// Sends one command to the Redis server on `port`; its reply, as RESP text
/// without the final line break.
pub fn redis_command(port: u16, args: &[&str]) -> String {
    resp(
        TcpStream::connect(("127.0.0.1", port)).expect("connect to redis"),
        args,
    )
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn resp(mut stream: TcpStream, args: &[&str]) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(&encode(args)).expect("send");
    let mut reader = BufReader::new(stream);
    read_reply(&mut reader)
}

fn read_reply(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("reply");
    let line = line.trim_end().to_owned();
    match line.as_bytes().first() {
        Some(b'$') => match line[1..].parse::<i64>() {
            Ok(n) if n >= 0 => {
                let mut data = vec![0; n as usize + 2];
                reader.read_exact(&mut data).expect("bulk");
                String::from_utf8_lossy(&data[..n as usize]).into_owned()
            }
            _ => "(nil)".into(),
        },
        Some(b'*') => {
            let n: usize = line[1..].parse().unwrap_or(0);
            (0..n)
                .map(|_| read_reply(reader))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => line,
    }
}

/// A client subscribed to `channel` on the Redis server on `port`.
pub struct Subscriber {
    reader: BufReader<TcpStream>,
}

impl Subscriber {
    /// Subscribes, and waits for the server to confirm it.
    pub fn new(port: u16, channel: &str) -> Self {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
            .write_all(&encode(&["SUBSCRIBE", channel]))
            .expect("subscribe");
        let mut reader = BufReader::new(stream);
        let confirmation = read_reply(&mut reader);
        assert!(confirmation.starts_with("subscribe\n"), "{confirmation}");
        Self { reader }
    }

    /// The next message's payload.
    pub fn next(&mut self) -> String {
        let message = read_reply(&mut self.reader);
        let mut parts = message.splitn(3, '\n');
        assert_eq!(parts.next(), Some("message"), "{message}");
        parts.nth(1).unwrap_or_default().to_owned()
    }
}

/// The directory of PostgreSQL's server programs (Debian keeps them out of `PATH`).
fn postgres_bin() -> std::path::PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL from Debian's packages (.ci/run installs it)");
    let mut bins: Vec<_> = versions
        .flatten()
        .map(|v| v.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    bins.sort();
    bins.pop().expect("initdb in /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL program; as root, as the `postgres` user, which the
/// server requires (`setpriv` execs it, so killing the child kills the server).
fn postgres_command(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL server with the superuser `postgres` trusted on 127.0.0.1;
/// `address` is its URL.
pub struct Postgres {
    /// The server.
    pub server: Server,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub address: String,
}

/// `initdb` into a throwaway directory, then the server on a free port.
pub fn postgres() -> Postgres {
    let dir = tempfile::tempdir().expect("postgres dir");
    let data = dir.path().join("data");
    let bin = postgres_bin();
    // The server runs as `postgres` when the tests run as root: it must own its directory.
    let _ = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(dir.path())
        .status();
    let status = postgres_command(&bin.join("initdb"))
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "-D",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run initdb");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let child = postgres_command(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-k",
            "",
            "-F",
            "-c",
            "max_connections=200",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    wait_for("postgres", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
            && Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    });
    Postgres {
        address: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        server,
    }
}

/// A MariaDB server with `root` (no password) on 127.0.0.1 and an empty
/// database `cloudfn`; `address` is its URL.
pub struct Mariadb {
    /// The server.
    pub server: Server,
    /// `mysql://root@127.0.0.1:PORT/cloudfn`.
    pub address: String,
}

/// `mariadb-install-db` into a throwaway directory, then `mariadbd` on a
/// free port (Debian's `mariadb-server`; about a second here).
pub fn mariadb() -> Mariadb {
    let dir = tempfile::tempdir().expect("mariadb dir");
    let data = dir.path().join("data");
    let status = Command::new("mariadb-install-db")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "run mariadb-install-db (Debian's mariadb-server; scripts/test.sh installs it): {e}"
            )
        });
    assert!(status.success(), "mariadb-install-db failed");
    let init = dir.path().join("init.sql");
    std::fs::write(&init, "CREATE DATABASE IF NOT EXISTS cloudfn;\n").expect("init.sql");
    let port = free_port();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let program = if Path::new("/usr/sbin/mariadbd").exists() {
        "/usr/sbin/mariadbd"
    } else {
        "mariadbd"
    };
    let child = spawn(
        program,
        &[
            "--no-defaults",
            &format!("--datadir={}", data.display()),
            "--user=root",
            "--bind-address=127.0.0.1",
            &format!("--port={port}"),
            &format!("--socket={}", path("sock")),
            &format!("--pid-file={}", path("pid")),
            &format!("--init-file={}", init.display()),
            "--skip-log-bin",
            "--max-connections=300",
        ],
        dir.path(),
    );
    wait_for("mariadb", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Mariadb {
        address: format!("mysql://root@127.0.0.1:{port}/cloudfn"),
        server: Server {
            child,
            port,
            _dir: dir,
        },
    }
}

/// `mosquitto` listening on 127.0.0.1, anonymous clients allowed.
pub fn mosquitto() -> Server {
    let dir = tempfile::tempdir().expect("mosquitto dir");
    let port = free_port();
    let config = dir.path().join("mosquitto.conf");
    std::fs::write(
        &config,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .expect("mosquitto config");
    let program = if Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    };
    let child = spawn(program, &["-c", &config.display().to_string()], dir.path());
    wait_for("mosquitto", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// A real S3 server for the tests: s3s-fs (crates.io) serving `root` on
/// 127.0.0.1:0 from its own thread; it stops when the test process ends.
pub fn s3_server(root: &Path, access_key: &str, secret_key: &str) -> std::net::SocketAddr {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs root");
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(access_key, secret_key));
    let service = builder.build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// A Python virtual environment `target/<name>` with `pip install ARGS`
/// done once; `bin/<marker>` tells an earlier run's install is there.
/// Returns the environment's `bin/`.
pub fn python_venv(name: &str, pip_args: &[&str], marker: &str) -> PathBuf {
    let venv = repo_root().join("target").join(name);
    let bin = venv.join("bin");
    if bin.join(marker).exists() {
        return bin;
    }
    run_ok(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        &format!("python3 -m venv {}", venv.display()),
    );
    run_ok(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet"])
            .args(pip_args),
        &format!("pip install {pip_args:?} into {}", venv.display()),
    );
    assert!(
        bin.join(marker).exists(),
        "pip installed no {}",
        bin.join(marker).display()
    );
    bin
}

/// moto's server mode (PyPI, pinned in `tests/sqs/requirements.txt`),
/// installed once into `target/sqs-venv`.
fn moto() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let requirements = repo_root().join("tests/sqs/requirements.txt");
        python_venv(
            "sqs-venv",
            &["-r", &requirements.display().to_string()],
            "moto_server",
        )
    })
}

/// A real SQS-compatible server (moto) that checks every request's
/// signature and the caller's IAM policy, with an account's queues made.
pub struct SqsServer {
    _server: Server,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The access key allowed `sqs:*`.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
}

/// Starts an SQS server with `queues` (a `.fifo` name is a FIFO queue).
/// moto binds a port of the system's choosing and names it, so no other
/// server can take it between a choice and the bind.
pub fn sqs_server(queues: &[&str]) -> SqsServer {
    let dir = tempfile::tempdir().expect("sqs dir");
    let mut child = Command::new(moto().join("moto_server"))
        .args(["-H", "127.0.0.1", "-p", "0"])
        // Only the test's three IAM set-up calls go unsigned.
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start moto_server");
    let log = LogLines::collect(child.stderr.take().expect("stderr"));
    let line = log.wait_for(
        |l| l.contains("Running on http://127.0.0.1:"),
        Duration::from_secs(30),
    );
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in moto's `{line}`"));
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut args = vec![endpoint.as_str(), "setup"];
    args.extend_from_slice(queues);
    let keys = sqs_admin(&args);
    SqsServer {
        _server: server,
        endpoint,
        access_key_id: keys["access_key_id"].as_str().expect("key").to_owned(),
        secret_access_key: keys["secret_access_key"]
            .as_str()
            .expect("secret")
            .to_owned(),
    }
}

impl SqsServer {
    /// Receives every message waiting in `queue`, as an event source
    /// mapping would (each stays invisible for 5 minutes after).
    pub fn receive(&self, queue: &str) -> Vec<Value> {
        let answer = sqs_admin(&[
            &self.endpoint,
            "receive",
            &self.access_key_id,
            &self.secret_access_key,
            queue,
        ]);
        answer.as_array().expect("a list of messages").clone()
    }
}

/// Runs `tests/sqs/admin.py` with boto3 from the server's environment.
fn sqs_admin(args: &[&str]) -> Value {
    let output = run_ok(
        Command::new(moto().join("python"))
            .arg(repo_root().join("tests/sqs/admin.py"))
            .args(args),
        &format!("tests/sqs/admin.py {args:?}"),
    );
    serde_json::from_slice(&output.stdout).expect("admin.py prints JSON")
}
