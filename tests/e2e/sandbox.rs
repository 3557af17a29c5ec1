//! The sandbox limits: each misbehaving request gets its own clear error
//! while well-behaved requests keep succeeding and the host carries on.

use crate::common::{HostBuilder, Reply, cpu_seconds, log_duration_ms, request};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Runs `misbehave` in a thread while `count` hello requests run here; returns the
/// misbehaving reply, its duration, and the slowest hello.
fn alongside_hellos(
    host: &crate::common::Host,
    path: &str,
    count: usize,
) -> (Reply, Duration, Duration) {
    let addr = host.addr;
    let path = path.to_owned();
    let bad = std::thread::spawn(move || {
        let started = Instant::now();
        let reply = request(addr, "GET", &path, &[], None);
        (reply, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut slowest = Duration::ZERO;
    for _ in 0..count {
        let started = Instant::now();
        let hello = host.get("/hello/x");
        slowest = slowest.max(started.elapsed());
        assert_eq!(
            hello.status, 200,
            "a well-behaved request failed: {hello:?}"
        );
    }
    let (reply, took) = bad.join().expect("misbehaving request thread");
    (reply, took, slowest)
}

/// The request id a host error body starts with (`request 12: …`).
fn request_id(reply: &Reply) -> u64 {
    reply
        .body
        .strip_prefix("request ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no request id in {:?}", reply.body))
}

#[test]
fn infinite_loop_gets_504_at_the_timeout() {
    let host = HostBuilder::fixtures().arg("--timeout").arg("1s").start();
    let (reply, took, slowest) = alongside_hellos(&host, "/bad/loop", 20);
    assert_eq!(reply.status, 504, "{reply:?}");
    assert!(
        reply.body.contains("did not finish within 1s (--timeout)"),
        "{}",
        reply.body
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "hello took {slowest:?} beside a looping guest"
    );
    let log = host.request_log(request_id(&reply));
    assert!(
        log.contains("status=504") && log.contains("component=misbehave"),
        "{log}"
    );
    assert_eq!(
        host.get("/bad/ok").status,
        200,
        "the component still serves after a timeout"
    );
}

#[test]
fn blocking_host_call_gets_504_at_the_timeout() {
    let host = HostBuilder::fixtures().arg("--timeout").arg("1s").start();
    let started = Instant::now();
    let reply = host.get("/bad/sleep?ms=20000");
    assert_eq!(reply.status, 504, "{reply:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let quick = host.get("/bad/sleep?ms=10");
    assert_eq!((quick.status, quick.body.as_str()), (200, "slept"));
}

#[test]
fn memory_hog_gets_500_naming_the_limit() {
    let host = HostBuilder::fixtures()
        .arg("--max-memory")
        .arg("32MiB")
        .start();
    let (reply, _, _) = alongside_hellos(&host, "/bad/hog", 10);
    assert_eq!(reply.status, 500, "{reply:?}");
    assert!(
        reply
            .body
            .ends_with("component `misbehave` exceeded its memory limit of 32MiB (--max-memory)\n"),
        "{}",
        reply.body
    );
    let peak = host.peak_memory(request_id(&reply));
    assert!(peak > 16 << 20 && peak <= 32 << 20, "peak {peak}");
}

#[test]
fn unbounded_recursion_gets_500_naming_the_stack_limit() {
    let host = HostBuilder::fixtures()
        .arg("--max-stack")
        .arg("256KiB")
        .start();
    let (reply, _, _) = alongside_hellos(&host, "/bad/recurse", 5);
    assert_eq!(reply.status, 500, "{reply:?}");
    assert!(
        reply
            .body
            .ends_with("overflowed its stack of 256KiB (--max-stack)\n"),
        "{}",
        reply.body
    );
}

#[test]
fn trap_gets_500_with_the_request_id_in_body_and_log() {
    let host = HostBuilder::fixtures().start();
    let (reply, _, _) = alongside_hellos(&host, "/bad/trap", 5);
    assert_eq!(reply.status, 500, "{reply:?}");
    let id = request_id(&reply);
    assert_eq!(
        reply.body,
        format!(
            "request {id}: component `misbehave` failed: trapped: wasm trap: wasm `unreachable` instruction executed\n"
        )
    );
    let log = host.request_log(id);
    for field in [
        "method=GET",
        "path=/bad/trap",
        "component=misbehave",
        "status=500",
        "duration_ms=",
        "peak_memory=",
    ] {
        assert!(log.contains(field), "`{field}` missing from {log}");
    }
}

/// Sends a POST of `total` bytes by hand (chunked, or with a Content-Length)
/// and returns the status and body. Writing stops quietly when the host
/// answers early and closes, as a real client would.
fn raw_post(addr: SocketAddr, path: &str, total: usize, chunked: bool) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {total}")
    };
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: test\r\n{framing}\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(head.as_bytes());
    let chunk = vec![b'z'; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        let written = if chunked {
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .and_then(|()| stream.write_all(&chunk[..n]))
                .and_then(|()| stream.write_all(b"\r\n"))
        } else {
            stream.write_all(&chunk[..n])
        };
        if written.is_err() {
            break;
        }
        sent += n;
    }
    if chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn oversized_request_body_gets_413() {
    let host = HostBuilder::fixtures()
        .arg("--max-request-body")
        .arg("1MiB")
        .start();
    let (status, body) = raw_post(host.addr, "/hello/x", (1 << 20) + 1, false);
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        body,
        "request body of 1048577 bytes exceeds the limit of 1MiB (--max-request-body)\n"
    );
    let (status, body) = raw_post(host.addr, "/hello/x", 3 << 20, true);
    assert_eq!(status, 413, "chunked bodies are counted too: {body}");
    assert!(
        body.contains("request body exceeds the limit of 1MiB (--max-request-body)"),
        "{body}"
    );
    let fits = host.post("/hello/x", &vec![1u8; 1 << 20]);
    assert_eq!(fits.status, 200);
    assert!(fits.body.contains("body-bytes: 1048576"), "{}", fits.body);
    let (status, body) = raw_post(host.addr, "/hello/x", 512 << 10, true);
    assert_eq!(status, 200);
    assert!(body.contains("body-bytes: 524288"), "{body}");
}

#[test]
fn oversized_response_is_cut_off_at_the_limit() {
    let host = HostBuilder::fixtures()
        .arg("--max-response-body")
        .arg("1MiB")
        .start();
    let reply = host.get("/bad/big");
    assert_eq!(reply.status, 200, "headers were already sent");
    assert!(reply.body_error, "the client must see an incomplete body");
    assert!(reply.body_len <= 1 << 20, "got {} bytes", reply.body_len);
    let log = host.wait_for_log(|l| l.contains("path=/bad/big"));
    assert!(
        log.contains("cutoff=Some(TooLarge)") && log.contains("status=200"),
        "{log}"
    );
    assert_eq!(host.get("/hello/x").status, 200);
}

#[test]
fn excess_concurrent_requests_get_503_with_retry_after() {
    let host = HostBuilder::fixtures()
        .arg("--max-concurrent")
        .arg("2")
        .start();
    let addr = host.addr;
    let sleepers: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || request(addr, "GET", "/bad/sleep?ms=1500", &[], None)))
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let refused = host.get("/hello/x");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        refused
            .body
            .contains("at capacity: 2 instances are running (--max-concurrent)"),
        "{}",
        refused.body
    );
    for sleeper in sleepers {
        assert_eq!(sleeper.join().expect("sleeper").status, 200);
    }
    assert_eq!(host.get("/hello/x").status, 200, "capacity comes back");
}

#[test]
fn the_memory_budget_admits_what_fits_and_refuses_the_rest_with_503() {
    // Each instance reserves its whole memory limit: misbehave 64 MiB
    // (--max-memory), granted 16 MiB (its tool.cloudfn.max_memory).
    let host = HostBuilder::fixtures()
        .arg("--max-memory")
        .arg("64MiB")
        .arg("--max-total-memory")
        .arg("128MiB")
        .start();
    let addr = host.addr;
    let sleepers: Vec<_> = ["/bad/sleep?ms=2500", "/granted/sleep?ms=2500"]
        .into_iter()
        .map(|path| std::thread::spawn(move || request(addr, "GET", path, &[], None)))
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    // 80 of 128 MiB reserved: another 64 MiB does not fit, even after the
    // second it waits; 16 MiB does.
    let started = Instant::now();
    let refused = host.get("/bad/ok");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited first"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        refused.body.contains(
            "the memory budget of 128MiB (--max-total-memory) has no room for another 64MiB instance of `misbehave`"
        ),
        "{}",
        refused.body
    );
    assert_eq!(host.get("/granted/ok").status, 200, "a light function fits");
    for sleeper in sleepers {
        assert_eq!(sleeper.join().expect("sleeper").status, 200);
    }
    assert_eq!(host.get("/bad/ok").status, 200, "the budget comes back");
}

#[test]
fn a_components_own_memory_limit_is_enforced_and_named() {
    let host = HostBuilder::fixtures().start();
    let reply = host.get("/granted/hog");
    assert_eq!(reply.status, 500, "{reply:?}");
    assert!(
        reply
            .body
            .contains("exceeded its memory limit of 16MiB (its tool.cloudfn.max_memory)"),
        "{}",
        reply.body
    );
}

#[test]
fn a_budget_smaller_than_one_instance_is_refused_at_start() {
    let output = std::process::Command::new(crate::common::CLOUDFN)
        .args([
            "up",
            "--max-memory",
            "256MiB",
            "--max-total-memory",
            "128MiB",
            "-f",
        ])
        .arg(crate::common::fixtures().join("spin.toml"))
        .output()
        .expect("run cloudfn");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("--max-total-memory 128MiB cannot hold one instance of --max-memory 256MiB"),
        "{stderr}"
    );
}

#[test]
fn nothing_is_granted_unless_the_manifest_says_so() {
    let host = HostBuilder::fixtures().start();
    let granted_env = host.get("/granted/env");
    assert_eq!(granted_env.body, "GREETING=hello from the manifest");
    let plain_env = host.get("/bad/env");
    assert_eq!(plain_env.body, "", "no environment without `environment`");

    let granted_file = host.get("/granted/read?path=/static/note.txt");
    assert_eq!(
        (granted_file.status, granted_file.body.as_str()),
        (200, "a granted file\n")
    );
    let plain_file = host.get("/bad/read?path=/static/note.txt");
    assert_eq!(
        plain_file.status, 403,
        "no files without `files`: {plain_file:?}"
    );
    let outside = host.get("/granted/read?path=/etc/hostname");
    assert_eq!(
        outside.status, 403,
        "only the granted directory: {outside:?}"
    );
}

/// Busy-loops on `threads` threads of this process until the guard drops.
struct CpuHog(
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    Vec<std::thread::JoinHandle<()>>,
);

impl CpuHog {
    fn start(threads: usize) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handles = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                })
            })
            .collect();
        Self(stop, handles)
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        for handle in self.1.drain(..) {
            let _ = handle.join();
        }
    }
}

/// The CPU time the host uses in the second after `settle` from now.
fn cpu_in_a_second_after(pid: u32, settle: Duration) -> f64 {
    std::thread::sleep(settle);
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(1));
    cpu_seconds(pid) - before
}

/// Regression: a looping guest answered `504` kept its core busy after the
/// request ended (its epoch deadline counted ticks of a sleeping thread,
/// which fall behind wall time), for minutes under load.
#[test]
fn regression_a_looping_guest_stops_with_its_504() {
    let host = HostBuilder::fixtures().arg("--timeout").arg("1s").start();
    let reply = host.get("/bad/loop");
    assert_eq!(reply.status, 504, "{reply:?}");
    // Within one tick (10 ms) of the 504 the guest has stopped: the host
    // idles from then on.
    let used = cpu_in_a_second_after(host.pid(), Duration::from_millis(20));
    assert!(
        used < 0.1,
        "the host used {used:.2} s of CPU in the second after the 504"
    );
}

#[test]
fn regression_a_looping_guest_gets_its_504_on_time_beside_a_cpu_hog() {
    let host = HostBuilder::fixtures().arg("--timeout").arg("2s").start();
    let _hog = CpuHog::start(2);
    let reply = host.get("/bad/loop");
    assert_eq!(reply.status, 504, "{reply:?}");
    // The host's own measure, from the request's arrival to its answer
    // (what this test's threads add on the client side is not the host's).
    let line = host.wait_for_log(|l| l.contains("path=/bad/loop") && l.contains("status=504"));
    let took_ms = log_duration_ms(&line);
    assert!(
        (2000.0..=2200.0).contains(&took_ms),
        "a 2 s timeout answered after {took_ms} ms beside two busy threads"
    );
    let used = cpu_in_a_second_after(host.pid(), Duration::from_millis(20));
    assert!(
        used < 0.1,
        "the guest ran on after its 504: {used:.2} s of CPU in a second"
    );
}
