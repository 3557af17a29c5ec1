//! Connection limits and graceful shutdown of `cloudfn up`: slow or silent
//! clients are disconnected at their limit with a log line saying which,
//! while other clients are served; SIGTERM drains, a second signal exits.

use crate::common::{HostBuilder, request};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long the host takes to close `stream` (reads until end of file).
fn time_to_close(mut stream: TcpStream) -> Duration {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    started.elapsed()
}

#[test]
fn a_request_head_that_stalls_is_closed_at_the_header_timeout() {
    let host = HostBuilder::fixtures()
        .arg("--header-read-timeout")
        .arg("400ms")
        .start();
    let mut slow = TcpStream::connect(host.addr).expect("connect");
    slow.write_all(b"GET /hello/x HTTP/1.1\r\nHost: test\r\n")
        .expect("write");
    // Others are served meanwhile.
    assert_eq!(host.get("/hello/x").status, 200);
    let closed_after = time_to_close(slow);
    assert!(
        closed_after >= Duration::from_millis(200) && closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
    host.wait_for_log(|l| {
        l.contains("cloudfn::connection")
            && l.contains(
                "closed: the request headers did not arrive within 400ms (--header-read-timeout)",
            )
    });
}

#[test]
fn a_silent_connection_is_closed_at_the_idle_timeout_and_kept_alive_ones_too() {
    let host = HostBuilder::fixtures()
        .arg("--idle-timeout")
        .arg("400ms")
        .start();
    let silent = TcpStream::connect(host.addr).expect("connect");
    let closed_after = time_to_close(silent);
    assert!(
        closed_after >= Duration::from_millis(300) && closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
    // A kept-alive connection: answered, then closed once idle that long.
    let mut kept = TcpStream::connect(host.addr).expect("connect");
    kept.write_all(b"GET /hello/x HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write");
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).expect("a response");
    assert_eq!(&head, b"HTTP/1.1 200");
    let closed_after = time_to_close(kept);
    assert!(
        closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
    host.wait_for_log(|l| l.contains("closed: no request within 400ms (--idle-timeout)"));
}

#[test]
fn a_request_body_that_stalls_gets_408_at_the_body_read_timeout() {
    let host = HostBuilder::fixtures()
        .arg("--body-read-timeout")
        .arg("400ms")
        .start();
    let mut stream = TcpStream::connect(host.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(
            b"POST /hello/x HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n0123456789",
        )
        .expect("write");
    let started = Instant::now();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("the request body sent nothing for 400ms (--body-read-timeout)"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A body that keeps coming is not cut, however long it takes in all.
    let mut stream = TcpStream::connect(host.addr).expect("connect");
    stream
        .write_all(b"POST /hello/x HTTP/1.1\r\nHost: test\r\nContent-Length: 6\r\nConnection: close\r\n\r\n")
        .expect("write");
    for byte in b"abcdef" {
        std::thread::sleep(Duration::from_millis(200));
        stream.write_all(&[*byte]).expect("write");
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn past_max_connections_new_ones_wait_until_one_closes() {
    let host = HostBuilder::fixtures()
        .arg("--max-connections")
        .arg("2")
        .start();
    let first = TcpStream::connect(host.addr).expect("connect");
    let second = TcpStream::connect(host.addr).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let addr = host.addr;
    let third = std::thread::spawn(move || {
        let started = Instant::now();
        let reply = request(addr, "GET", "/hello/x", &[], None);
        (reply.status, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(600));
    assert!(!third.is_finished(), "the third waits in the backlog");
    drop(first);
    let (status, waited) = third.join().expect("third");
    assert_eq!(status, 200);
    assert!(waited >= Duration::from_millis(500), "waited {waited:?}");
    drop(second);
    host.wait_for_log(|l| l.contains("2 connections are open (--max-connections)"));
}

#[test]
fn sigterm_lets_a_running_request_finish_refuses_new_ones_and_exits_0() {
    let mut host = HostBuilder::fixtures().start();
    let addr = host.addr;
    let slow = std::thread::spawn(move || request(addr, "GET", "/bad/sleep?ms=1500", &[], None));
    std::thread::sleep(Duration::from_millis(400));
    host.signal("TERM");
    host.wait_for_log(|l| l.contains("shutting down: new connections are refused"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "new connections are refused"
    );
    let reply = slow.join().expect("slow request");
    assert_eq!((reply.status, reply.body.as_str()), (200, "slept"));
    let status = host.wait_exit(Duration::from_secs(5)).expect("exited");
    assert_eq!(status.code(), Some(0), "{}", host.log_text());
    assert!(
        host.log_text()
            .contains("shut down: every request and delivery under way finished")
    );
}

#[test]
fn a_second_signal_exits_at_once_and_the_deadline_bounds_the_drain() {
    let mut host = HostBuilder::fixtures().start();
    let addr = host.addr;
    let _slow = std::thread::spawn(move || request(addr, "GET", "/bad/sleep?ms=20000", &[], None));
    std::thread::sleep(Duration::from_millis(400));
    host.signal("TERM");
    host.wait_for_log(|l| l.contains("shutting down"));
    let started = Instant::now();
    host.signal("INT");
    let status = host
        .wait_exit(Duration::from_secs(3))
        .expect("exited at once");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(status.code(), Some(130));

    let mut host = HostBuilder::fixtures()
        .arg("--shutdown-timeout")
        .arg("500ms")
        .start();
    let addr = host.addr;
    let _slow = std::thread::spawn(move || request(addr, "GET", "/bad/sleep?ms=20000", &[], None));
    std::thread::sleep(Duration::from_millis(400));
    let started = Instant::now();
    host.signal("TERM");
    let status = host
        .wait_exit(Duration::from_secs(5))
        .expect("exited at the deadline");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
    assert!(
        host.log_text()
            .contains("still running after 500ms (--shutdown-timeout)")
    );
}

/// Regression: SIGTERM while a guest computed (no host calls) never ended
/// the host: the drain deadline passed, the guest ran on, and the runtime
/// waited for it; a second signal then did nothing.
#[test]
fn regression_sigterm_ends_the_host_while_a_guest_loops() {
    let mut host = HostBuilder::fixtures()
        .arg("--shutdown-timeout")
        .arg("2s")
        .start();
    let addr = host.addr;
    let _looping = std::thread::spawn(move || request(addr, "GET", "/bad/loop", &[], None));
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    host.signal("TERM");
    let status = host
        .wait_exit(Duration::from_secs(4))
        .unwrap_or_else(|| panic!("no exit within 4 s: {}", host.log_text()));
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(status.code(), Some(0), "{}", host.log_text());
    let log = host.log_text();
    assert!(
        log.contains(
            "still running after 2s (--shutdown-timeout) are abandoned and their guests interrupted"
        ) && log.contains("instances=1 of `misbehave`"),
        "{log}"
    );

    // Twice: at once, while the guest loops.
    let mut host = HostBuilder::fixtures().start();
    let addr = host.addr;
    let _looping = std::thread::spawn(move || request(addr, "GET", "/bad/loop", &[], None));
    std::thread::sleep(Duration::from_millis(500));
    host.signal("TERM");
    host.wait_for_log(|l| l.contains("shutting down"));
    let started = Instant::now();
    host.signal("TERM");
    let status = host
        .wait_exit(Duration::from_secs(3))
        .expect("exited at once");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130));
}

#[test]
fn regression_an_answer_sent_before_the_body_is_read_reaches_a_client_still_sending() {
    // The accounts component refuses a body over 64 KiB from its
    // Content-Length, before reading it. The host used to close the socket
    // with the client's bytes unread: the kernel reset the connection and
    // the client, still sending, lost the 413.
    let host = HostBuilder::product().start();
    let body = vec![b'p'; 12 << 20];
    for _ in 0..3 {
        let mut stream = TcpStream::connect(host.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let head = format!(
            "POST /account/register HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("write the head");
        let mut writer = stream.try_clone().expect("clone");
        let sending = body.clone();
        let sender = std::thread::spawn(move || writer.write_all(&sending).is_ok());
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("limit"), "{text}");
        assert!(sender.join().expect("sender"), "the whole body was taken");
    }
}
