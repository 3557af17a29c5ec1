//! Key-value: `fermyon:spin/key-value@2.0.0`, `wasi:keyvalue` and
//! `spin:key-value@3.0.0`, their grants and errors, durability, and stores
//! from the runtime config file.

use super::{SDKS, host, manifest_with};
use crate::common::{HostBuilder, up_refused};

#[test]
fn key_value_set_get_exists_delete_and_keys_in_both_sdks() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    for sdk in SDKS {
        let url = |path: &str| format!("{sdk}/kv/default{path}");
        let put = host.request("PUT", &url("/greeting"), &[], Some(b"hello"));
        assert_eq!(put.status, 204, "{sdk}: {}", put.body);
        let got = host.get(&url("/greeting"));
        assert_eq!((got.status, got.body.as_str()), (200, "hello"), "{sdk}");
        assert_eq!(host.get(&url("/greeting?exists")).body, "true", "{sdk}");
        assert_eq!(host.get(&url("/absent?exists")).body, "false", "{sdk}");
        assert_eq!(host.get(&url("/absent")).status, 404, "{sdk}");
        assert_eq!(
            host.request("PUT", &url("/other"), &[], Some(&[0, 159, 146, 150]))
                .status,
            204
        );
        assert_eq!(host.get(&url("?keys")).body, "greeting\nother", "{sdk}");
        assert_eq!(
            host.request("DELETE", &url("/greeting"), &[], None).status,
            204
        );
        assert_eq!(
            host.request("DELETE", &url("/greeting"), &[], None).status,
            204,
            "{sdk}: deleting an absent key is no error"
        );
        assert_eq!(host.get(&url("/greeting")).status, 404, "{sdk}");
        assert_eq!(
            host.request("DELETE", &url("/other"), &[], None).status,
            204
        );
    }
    // Both generations see one store.
    assert_eq!(
        host.request("PUT", "/v2/kv/default/shared", &[], Some(b"from v2"))
            .status,
        204
    );
    assert_eq!(host.get("/v3/kv/default/shared").body, "from v2");
}

#[test]
fn key_value_labels_not_granted_are_access_denied() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    for sdk in SDKS {
        let denied = host.get(&format!("{sdk}/kv/secrets/k"));
        assert_eq!(
            (denied.status, denied.body.as_str()),
            (409, "Error::AccessDenied"),
            "{sdk}"
        );
    }
    let denied = host.get("/v2/wasi-kv/secrets/k");
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (409, "Error::AccessDenied")
    );
    // The host and the granted store carry on.
    assert_eq!(
        host.request("PUT", "/v2/kv/default/k", &[], Some(b"v"))
            .status,
        204
    );
}

#[test]
fn wasi_keyvalue_store_atomics_and_batch() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let url = |path: &str| format!("/v2/wasi-kv/default{path}");
    assert_eq!(
        host.request("PUT", &url("/w"), &[], Some(b"one")).status,
        204
    );
    assert_eq!(host.get(&url("/w")).body, "one");
    assert_eq!(
        host.request("POST", &url("/hits/increment?by=5"), &[], None)
            .body,
        "5"
    );
    assert_eq!(
        host.request("POST", &url("/hits/increment?by=-2"), &[], None)
            .body,
        "3"
    );
    let not_a_number = host.request("POST", &url("/w/increment"), &[], None);
    assert_eq!(not_a_number.status, 409);
    assert!(
        not_a_number.body.contains("not a 64-bit integer"),
        "{}",
        not_a_number.body
    );
    let set_many = host.request("POST", &url("?set-many"), &[], Some(b"a=1\nb=2\n"));
    assert_eq!(set_many.status, 204, "{}", set_many.body);
    assert_eq!(host.get(&url("?many=b,zz,a")).body, "b=2\nzz absent\na=1");
    assert_eq!(
        host.request("POST", &url("/w/cas"), &[], Some(b"two")).body,
        "swapped"
    );
    assert_eq!(host.get(&url("/w")).body, "two");
    assert_eq!(host.get(&url("")).body, "a\nb\nhits\nw");
    // The same store through fermyon:spin/key-value.
    assert_eq!(host.get("/v2/kv/default/w").body, "two");

    // Concurrent atomic increments lose no update.
    let addr = host.addr;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let reply = crate::common::request(
                        addr,
                        "POST",
                        "/v2/wasi-kv/default/n/increment",
                        &[],
                        None,
                    );
                    assert_eq!(reply.status, 200, "{}", reply.body);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    assert_eq!(
        host.request("POST", &url("/n/increment?by=0"), &[], None)
            .body,
        "200"
    );
}

#[test]
fn key_value_survives_sigkill_of_the_host() {
    let data = tempfile::tempdir().expect("data dir");
    {
        let host = host(data.path());
        for sdk in SDKS {
            let put = host.request(
                "PUT",
                &format!("{sdk}/kv/default/kept{}", &sdk[1..]),
                &[],
                Some(b"durable"),
            );
            assert_eq!(put.status, 204);
        }
        assert_eq!(
            host.request("POST", "/v2/kv/default/count/incr", &[], None)
                .body,
            "1"
        );
        // Dropping the host kills it with SIGKILL.
    }
    let host = host(data.path());
    assert_eq!(host.get("/v2/kv/default/keptv2").body, "durable");
    assert_eq!(host.get("/v3/kv/default/keptv3").body, "durable");
    assert_eq!(
        host.request("POST", "/v3/kv/default/count/incr", &[], None)
            .body,
        "2"
    );
    assert!(data.path().join("sqlite_key_value.db").exists());
}

#[test]
fn key_value_stores_from_the_runtime_config_file() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = manifest_with(
        dir.path(),
        "",
        "key_value_stores = [\"default\", \"cache\"]",
    );
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        "[key_value_store.cache]\ntype = \"spin\"\npath = \"stores/cache.db\"\n",
    )
    .expect("config");
    let host = HostBuilder::manifest(manifest.clone())
        .arg("--data-dir")
        .arg(dir.path().join("data").display().to_string())
        .arg("--runtime-config-file")
        .arg(config.display().to_string())
        .start();
    for sdk in SDKS {
        assert_eq!(
            host.request(
                "PUT",
                &format!("{sdk}/kv/cache/k"),
                &[],
                Some(sdk.as_bytes())
            )
            .status,
            204
        );
        assert_eq!(host.get(&format!("{sdk}/kv/cache/k")).body, sdk);
        assert_eq!(
            host.get(&format!("{sdk}/kv/default/k")).status,
            404,
            "labels are separate stores"
        );
    }
    assert!(
        dir.path().join("stores/cache.db").exists(),
        "the file the runtime config names"
    );
    drop(host);

    // A label no store defines stops the component from loading, naming it.
    let manifest = manifest_with(
        dir.path(),
        "",
        "key_value_stores = [\"default\", \"sessions\"]",
    );
    let stderr = up_refused(&manifest, &[]);
    assert!(
        stderr.contains("no store is labelled `sessions`"),
        "{stderr}"
    );
    assert!(stderr.contains("[key_value_store.sessions]"), "{stderr}");

    // A store type cloudfn lacks is refused with the file, line and key.
    std::fs::write(
        &config,
        "[key_value_store.cache]\ntype = \"azure_cosmos\"\n",
    )
    .expect("config");
    let config = config.display().to_string();
    let stderr = up_refused(&manifest, &["--runtime-config-file", &config]);
    assert!(
        stderr.contains(&format!("{config}:2:8: `key_value_store.cache.type`: store type `azure_cosmos` is not supported by cloudfn up")),
        "{stderr}"
    );
}

#[test]
fn the_benchmarks_counter_counts_in_the_default_store() {
    crate::common::fixtures();
    let data = tempfile::tempdir().expect("data dir");
    let host = HostBuilder::manifest(crate::common::repo_root().join("bench/kv.toml"))
        .arg("--data-dir")
        .arg(data.path().display().to_string())
        .start();
    for expected in ["1", "2", "3"] {
        let count = host.get("/count");
        assert_eq!((count.status, count.body.as_str()), (200, expected));
    }
    assert_eq!(host.get("/hello/").status, 200);
    assert!(data.path().join("sqlite_key_value.db").exists());
}
