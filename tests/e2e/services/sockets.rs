//! Outbound TCP through `wasi:sockets` (Rust's `std::net` in both
//! fixtures), granted by `allowed_outbound_hosts` by host and port, by a
//! CIDR network and port range, and by a variable; refused without a grant.

use super::{SDKS, manifest_with};
use crate::common::HostBuilder;
use std::io::{Read, Write};
use std::net::TcpListener;

/// A TCP server on 127.0.0.1 answering each connection with `echo: ` and what it read.
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut input = Vec::new();
                if stream.read_to_end(&mut input).is_ok() {
                    let _ = stream.write_all(b"echo: ");
                    let _ = stream.write_all(&input);
                }
            });
        }
    });
    port
}

#[test]
fn tcp_sockets_need_an_allowed_destination() {
    let port = echo_server();
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        (format!("tcp://127.0.0.1:{port}"), String::new(), true),
        (
            format!("tcp://127.0.0.0/8:{}..{}", port - 1, port + 1),
            String::new(),
            true,
        ),
        ("*://*:*".to_owned(), String::new(), true),
        (
            "tcp://{{ echo_host }}".to_owned(),
            format!("echo_host = {{ default = \"127.0.0.1:{port}\" }}"),
            true,
        ),
        (
            format!("tcp://127.0.0.1:{}", port + 1),
            String::new(),
            false,
        ),
        (format!("udp://127.0.0.1:{port}"), String::new(), false),
        (format!("https://127.0.0.1:{port}"), String::new(), false),
    ];
    for (allowed, variables, expected) in cases {
        let manifest = manifest_with(
            dir.path(),
            &variables,
            &format!("allowed_outbound_hosts = [{allowed:?}]"),
        );
        let host = HostBuilder::manifest(manifest).start();
        for sdk in SDKS {
            let reply = host.request(
                "POST",
                &format!("{sdk}/tcp/127.0.0.1:{port}"),
                &[],
                Some(b"ping"),
            );
            if expected {
                assert_eq!(
                    (reply.status, reply.body.as_str()),
                    (200, "echo: ping"),
                    "{allowed} {sdk}"
                );
            } else {
                assert_eq!(
                    (reply.status, reply.body.as_str()),
                    (409, "connect: PermissionDenied"),
                    "{allowed} {sdk}"
                );
            }
        }
    }
    // Nothing granted: no sockets at all.
    let manifest = manifest_with(dir.path(), "", "");
    let host = HostBuilder::manifest(manifest).start();
    for sdk in SDKS {
        let reply = host.request(
            "POST",
            &format!("{sdk}/tcp/127.0.0.1:{port}"),
            &[],
            Some(b"ping"),
        );
        assert_eq!(reply.status, 409, "{sdk}: {}", reply.body);
        assert!(reply.body.starts_with("connect: "), "{sdk}: {}", reply.body);
    }
}
