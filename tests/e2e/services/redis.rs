//! Outbound Redis: `fermyon:spin/redis@2.0.0` and `spin:redis/redis@3.0.0`
//! against a real `redis-server`, allowed only by `allowed_outbound_hosts`;
//! and key-value stores kept on Redis by the runtime config file.

use super::{SDKS, manifest_with};
use crate::common::{Host, HostBuilder};
use crate::servers::{Subscriber, redis, redis_command};

/// A host serving both fixtures with `allowed_outbound_hosts = [allowed]`,
/// their `redis_address` variable pointing at `port`.
fn host_allowing(dir: &std::path::Path, port: u16, allowed: &str, extra_variables: &str) -> Host {
    let manifest = manifest_with(
        dir,
        &format!("redis_address = {{ default = \"redis://127.0.0.1:{port}\" }}\n{extra_variables}"),
        &format!(
            "allowed_outbound_hosts = [{allowed:?}]\nvariables = {{ redis_address = \"{{{{ redis_address }}}}\" }}"
        ),
    );
    HostBuilder::manifest(manifest).start()
}

#[test]
fn outbound_redis_commands_in_both_sdks_against_a_real_server() {
    let server = redis();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(
        dir.path(),
        server.port,
        &format!("redis://127.0.0.1:{}", server.port),
        "",
    );
    for sdk in SDKS {
        let key = |k: &str| format!("{}-{k}", &sdk[1..]);
        let url = |path: &str| format!("{sdk}/redis/{path}");
        assert_eq!(
            host.request("PUT", &url(&key("k")), &[], Some(b"value"))
                .status,
            204,
            "{sdk}"
        );
        assert_eq!(host.get(&url(&key("k"))).body, "value", "{sdk}");
        assert_eq!(
            redis_command(server.port, &["GET", &key("k")]),
            "value",
            "{sdk}: on the server"
        );
        assert_eq!(host.get(&url(&key("absent"))).status, 404, "{sdk}");
        assert_eq!(
            host.request("POST", &url(&format!("incr/{}", key("n"))), &[], None)
                .body,
            "1"
        );
        assert_eq!(
            host.request("POST", &url(&format!("incr/{}", key("n"))), &[], None)
                .body,
            "2"
        );
        assert_eq!(
            host.request("DELETE", &url(&key("k")), &[], None).body,
            "1",
            "{sdk}"
        );
        assert_eq!(
            host.request("DELETE", &url(&key("k")), &[], None).body,
            "0",
            "{sdk}"
        );
        let set = key("set");
        assert_eq!(
            host.request("POST", &url(&format!("sadd/{set}")), &[], Some(b"b\na\nc"))
                .body,
            "3"
        );
        assert_eq!(
            host.request("POST", &url(&format!("srem/{set}")), &[], Some(b"c\nzz"))
                .body,
            "1"
        );
        assert_eq!(
            host.get(&url(&format!("smembers/{set}"))).body,
            "a\nb",
            "{sdk}"
        );
        // A set command on a string: Spin's type-error.
        assert_eq!(
            host.request("PUT", &url(&key("s")), &[], Some(b"x")).status,
            204
        );
        let wrong = host.request("POST", &url(&format!("sadd/{}", key("s"))), &[], Some(b"a"));
        assert_eq!(
            (wrong.status, wrong.body.as_str()),
            (409, "Error::TypeError"),
            "{sdk}"
        );
        let replies = host.request(
            "POST",
            &url("execute"),
            &[],
            Some(format!("HSET\n{}\nf\n7", key("h")).as_bytes()),
        );
        assert_eq!(replies.body, "RedisResult::Int64(1)", "{sdk}");
        let replies = host.request(
            "POST",
            &url("execute"),
            &[],
            Some(format!("HGETALL\n{}", key("h")).as_bytes()),
        );
        assert_eq!(
            replies.body, "RedisResult::Binary([102])\nRedisResult::Binary([55])",
            "{sdk}"
        );
        assert_eq!(
            host.request("POST", &url("execute"), &[], Some(b"PING"))
                .body,
            "RedisResult::Status(\"PONG\")"
        );

        let mut subscriber = Subscriber::new(server.port, "events");
        let published = host.request("POST", &url("publish/events"), &[], Some(sdk.as_bytes()));
        assert_eq!(published.status, 204, "{sdk}: {}", published.body);
        assert_eq!(subscriber.next(), sdk);
    }
}

#[test]
fn outbound_redis_is_refused_without_an_allowed_address() {
    let server = redis();
    let dir = tempfile::tempdir().expect("dir");
    let port = server.port;
    // Another port of the same host is not allowed.
    let host = host_allowing(
        dir.path(),
        port,
        &format!("redis://127.0.0.1:{}", port + 1),
        "",
    );
    for sdk in SDKS {
        let refused = host.get(&format!("{sdk}/redis/k"));
        assert_eq!(
            (refused.status, refused.body.as_str()),
            (409, "Error::InvalidAddress"),
            "{sdk}"
        );
    }
    drop(host);
    // Allowed by a network and any port, and by an application variable.
    for (allowed, variables) in [
        ("redis://127.0.0.0/8:*".to_owned(), String::new()),
        (
            "redis://{{ redis_host }}".to_owned(),
            format!("redis_host = {{ default = \"127.0.0.1:{port}\" }}"),
        ),
    ] {
        let host = host_allowing(dir.path(), port, &allowed, &variables);
        for sdk in SDKS {
            let reply = host.request("PUT", &format!("{sdk}/redis/allowed"), &[], Some(b"yes"));
            assert_eq!(reply.status, 204, "{allowed} {sdk}: {}", reply.body);
        }
    }
}

#[test]
fn key_value_on_redis_from_the_runtime_config_file() {
    let server = redis();
    let dir = tempfile::tempdir().expect("dir");
    let manifest = manifest_with(dir.path(), "", "key_value_stores = [\"default\"]");
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{}\"\n",
            server.port
        ),
    )
    .expect("config");
    let host = HostBuilder::manifest(manifest)
        .arg("--runtime-config-file")
        .arg(config.display().to_string())
        .start();
    for sdk in SDKS {
        let key = format!("kv{}", &sdk[1..]);
        assert_eq!(
            host.request(
                "PUT",
                &format!("{sdk}/kv/default/{key}"),
                &[],
                Some(b"on redis")
            )
            .status,
            204
        );
        assert_eq!(
            redis_command(server.port, &["GET", &key]),
            "on redis",
            "{sdk}: the server holds it"
        );
        assert_eq!(
            host.get(&format!("{sdk}/kv/default/{key}?exists")).body,
            "true"
        );
    }
    assert_eq!(host.get("/v3/kv/default?keys").body, "kvv2\nkvv3");
    assert_eq!(
        host.request("POST", "/v2/wasi-kv/default/hits/increment?by=4", &[], None)
            .body,
        "4"
    );
    assert_eq!(redis_command(server.port, &["GET", "hits"]), "4");
    assert_eq!(
        host.get("/v2/wasi-kv/default?many=kvv2,none").body,
        "kvv2=on redis\nnone absent"
    );
    assert_eq!(
        host.request(
            "POST",
            "/v2/wasi-kv/default/kvv2/cas",
            &[],
            Some(b"swapped")
        )
        .body,
        "swapped"
    );
    assert_eq!(redis_command(server.port, &["GET", "kvv2"]), "swapped");
    assert_eq!(
        host.request("DELETE", "/v3/kv/default/kvv2", &[], None)
            .status,
        204
    );
    assert_eq!(redis_command(server.port, &["EXISTS", "kvv2"]), ":0");
}
