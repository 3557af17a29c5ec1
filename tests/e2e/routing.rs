//! Spin's routing rules and request headers, over HTTP, for p2 and p3 guests.

use crate::common::HostBuilder;

#[test]
fn routes_follow_spin_rules_and_set_spin_headers() {
    let host = HostBuilder::fixtures().start();

    let wildcard = host.get("/hello/a/b?x=1");
    assert_eq!(wildcard.status, 200, "{wildcard:?}");
    assert!(
        wildcard.body.starts_with("hello from p2\n"),
        "{}",
        wildcard.body
    );
    for expected in [
        "spin-path-info: /a/b",
        "spin-matched-route: /hello/...",
        "spin-raw-component-route: /hello/...",
        "spin-component-route: /hello",
        "spin-base-path: /",
        &format!("spin-full-url: http://{}/hello/a/b?x=1", host.addr),
        "spin-client-addr: 127.0.0.1:",
    ] {
        assert!(
            wildcard.body.contains(expected),
            "missing `{expected}` in:\n{}",
            wildcard.body
        );
    }

    let bare = host.get("/hello");
    assert_eq!(bare.status, 200);
    assert!(bare.body.contains("spin-path-info: \n"), "{}", bare.body);

    let param = host.get("/users/42");
    assert_eq!(param.status, 200);
    assert!(
        param.body.contains("spin-path-match-id: 42"),
        "{}",
        param.body
    );
    assert!(
        param.body.contains("spin-matched-route: /users/:id"),
        "{}",
        param.body
    );

    assert_eq!(
        host.get("/users/42/more").status,
        404,
        "a :param matches one segment"
    );
    assert_eq!(host.get("/users/").status, 404, "a :param needs a value");
    assert_eq!(
        host.get("/helloworld").status,
        404,
        "a wildcard matches whole segments"
    );
    let missing = host.get("/nowhere");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, "no route matches /nowhere\n");
}

#[test]
fn client_cannot_forge_spin_headers() {
    let host = HostBuilder::fixtures().start();
    let reply = host.request(
        "GET",
        "/hello/real",
        &[
            ("spin-path-info", "/forged"),
            ("spin-client-addr", "6.6.6.6:1"),
        ],
        None,
    );
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains("spin-path-info: /real"),
        "{}",
        reply.body
    );
    assert!(
        !reply.body.contains("forged") && !reply.body.contains("6.6.6.6"),
        "{}",
        reply.body
    );
}

#[test]
fn serves_p2_and_p3_components_side_by_side() {
    let host = HostBuilder::fixtures().start();
    let p2 = host.get("/hello/x");
    let p3 = host.get("/p3/some/path?q=1");
    assert_eq!((p2.status, p3.status), (200, 200));
    assert!(p2.body.starts_with("hello from p2"), "{}", p2.body);
    assert_eq!(p3.body, "hello from p3\npath: /p3/some/path?q=1\n");
    assert_eq!(p3.header("content-type"), Some("text/plain"));
}

#[test]
fn request_body_reaches_the_guest() {
    let host = HostBuilder::fixtures().start();
    let body = vec![7u8; 300_000];
    let reply = host.post("/hello/upload", &body);
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("body-bytes: 300000"), "{}", reply.body);
}
