//! `blob-upload` end to end through `cloudfn up` and its filesystem store:
//! every status code, checksums that store nothing when they fail, ranges,
//! the key rules, the size limit, concurrent writers, and a host killed
//! with SIGKILL in the middle of an upload.

use crate::common::{Host, HostBuilder, Reply, product_wasm};
use crate::servers::s3_server;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

fn host(data: &Path) -> Host {
    HostBuilder::product()
        .anonymous_drive()
        .arg("--data-dir")
        .arg(data.display().to_string())
        .start()
}

fn put(host: &Host, key: &str, body: &[u8], headers: &[(&str, &str)]) -> Reply {
    host.request("PUT", &format!("/blobs/{key}"), headers, Some(body))
}

/// The keys of a `GET /blobs` listing page, in order.
fn page_keys(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["key"].as_str().expect("key").to_owned())
        .collect()
}

fn get(host: &Host, key: &str, headers: &[(&str, &str)]) -> Reply {
    host.request("GET", &format!("/blobs/{key}"), headers, None)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tmp_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("tmp")).map_or(0, Iterator::count)
}

#[test]
fn blob_upload_round_trip_with_every_status() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let body: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = sha256_hex(&body);

    let created = put(
        &host,
        "docs/report.bin",
        &body,
        &[("content-type", "application/x-report")],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("etag"), Some(&*format!("\"{sha}\"")));
    assert_eq!(created.header("x-checksum-sha256"), Some(sha.as_str()));
    let meta: serde_json::Value = serde_json::from_str(&created.body).expect("json");
    assert_eq!(meta["size"], 100_000);
    assert_eq!(meta["content_type"], "application/x-report");

    let full = get(&host, "docs/report.bin", &[]);
    assert_eq!(full.status, 200);
    assert_eq!(full.bytes, body);
    assert_eq!(full.header("content-type"), Some("application/x-report"));
    assert_eq!(full.header("content-length"), Some("100000"));
    assert_eq!(full.header("accept-ranges"), Some("bytes"));

    let head = host.request("HEAD", "/blobs/docs/report.bin", &[], None);
    assert_eq!((head.status, head.body_len), (200, 0));
    assert_eq!(head.header("content-length"), Some("100000"));
    assert_eq!(head.header("etag"), full.header("etag"));

    // Ranges: 206 with Content-Range, suffixes, clamping, 416 past the end.
    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-5", 99_995, 99_999),
        ("bytes=99000-200000", 99_000, 99_999),
    ] {
        let part = get(&host, "docs/report.bin", &[("range", range)]);
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(
            part.header("content-range"),
            Some(&*format!("bytes {start}-{end}/100000")),
            "{range}"
        );
        assert_eq!(part.bytes, body[start..=end], "{range}");
    }
    let beyond = get(&host, "docs/report.bin", &[("range", "bytes=100000-")]);
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some("bytes */100000"));
    assert_eq!(
        get(&host, "docs/report.bin", &[("range", "bytes=0-1,5-6")]).status,
        200,
        "multiple ranges: whole blob"
    );

    // Conditional requests.
    let etag = format!("\"{sha}\"");
    let not_modified = get(&host, "docs/report.bin", &[("if-none-match", &etag)]);
    assert_eq!((not_modified.status, not_modified.body_len), (304, 0));
    assert_eq!(
        get(&host, "docs/report.bin", &[("if-none-match", "\"other\"")]).status,
        200
    );
    let exists = put(&host, "docs/report.bin", b"new", &[("if-none-match", "*")]);
    assert_eq!(exists.status, 412, "{}", exists.body);
    assert_eq!(
        get(&host, "docs/report.bin", &[]).bytes,
        body,
        "a refused write changes nothing"
    );
    assert_eq!(
        put(&host, "docs/fresh", b"new", &[("if-none-match", "*")]).status,
        201
    );

    // Listing, paged, sorted by key.
    for key in ["docs/a", "docs/b", "docs/c", "other/x"] {
        assert_eq!(put(&host, key, key.as_bytes(), &[]).status, 201);
    }
    let page = host.request("GET", "/blobs?prefix=docs/&limit=2", &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let page: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(page_keys(&page), ["docs/a", "docs/b"]);
    assert_eq!(page["next_start_after"], "docs/b");
    let rest: serde_json::Value = serde_json::from_str(
        &host
            .request(
                "GET",
                "/blobs?prefix=docs%2F&start-after=docs%2Fb",
                &[],
                None,
            )
            .body,
    )
    .expect("json");
    assert_eq!(
        page_keys(&rest),
        ["docs/c", "docs/fresh", "docs/report.bin"]
    );
    assert_eq!(rest["next_start_after"], serde_json::Value::Null);
    let too_many = host.request("GET", "/blobs?limit=1001", &[], None);
    assert_eq!(too_many.status, 400);
    assert!(
        too_many
            .body
            .contains("limit must be an integer in 1..=1000"),
        "{}",
        too_many.body
    );

    // Delete, then it is gone.
    assert_eq!(
        host.request("DELETE", "/blobs/docs/a", &[], None).status,
        204
    );
    let gone = host.request("DELETE", "/blobs/docs/a", &[], None);
    assert_eq!(gone.status, 404);
    assert_eq!(get(&host, "docs/a", &[]).status, 404);
    let post = host.request("POST", "/blobs/docs/b", &[], Some(b"x"));
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("PUT, GET, HEAD, DELETE"));
}

#[test]
fn blob_upload_checksum_mismatch_stores_nothing() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let body = b"the quick brown fox".to_vec();
    let sha = sha256_hex(&body);
    assert_eq!(put(&host, "k", b"original", &[]).status, 201);

    let wrong_sha = put(&host, "k", &body, &[("x-checksum-sha256", &"0".repeat(64))]);
    assert_eq!(wrong_sha.status, 400, "{}", wrong_sha.body);
    assert!(
        wrong_sha.body.contains("checksum mismatch"),
        "{}",
        wrong_sha.body
    );
    // base64 MD5 of something else.
    let wrong_md5 = put(
        &host,
        "k",
        &body,
        &[("content-md5", "XrY7u+Ae7tCTyyK7j1rNww==")],
    );
    assert_eq!(wrong_md5.status, 400, "{}", wrong_md5.body);
    assert!(
        wrong_md5.body.contains("Content-MD5 mismatch"),
        "{}",
        wrong_md5.body
    );
    let wrong_amz = put(
        &host,
        "new",
        &body,
        &[(
            "x-amz-checksum-sha256",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )],
    );
    assert_eq!(wrong_amz.status, 400);
    assert_eq!(
        get(&host, "k", &[]).bytes,
        b"original",
        "the earlier blob is untouched"
    );
    assert_eq!(get(&host, "new", &[]).status, 404, "nothing was stored");
    assert_eq!(tmp_files(data.path()), 0);

    use base64::Engine as _;
    let md5 =
        base64::engine::general_purpose::STANDARD.encode(<md5::Md5 as md5::Digest>::digest(&body));
    let sha_b64 = base64::engine::general_purpose::STANDARD.encode(
        (0..32)
            .map(|i| u8::from_str_radix(&sha[i * 2..i * 2 + 2], 16).expect("hex"))
            .collect::<Vec<_>>(),
    );
    let ok = put(
        &host,
        "k",
        &body,
        &[
            ("content-md5", &md5),
            ("x-checksum-sha256", &sha),
            ("x-amz-checksum-sha256", &sha_b64),
        ],
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(get(&host, "k", &[]).bytes, body);
}

#[test]
fn blob_upload_key_rules() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let long_ok = "k".repeat(1024);
    let long_bad = "k".repeat(1025);
    for (key, status, message) in [
        ("plain.txt", 201, ""),
        ("deep/er/path/file", 201, ""),
        ("%C3%BCber%20caf%C3%A9", 201, ""),
        (long_ok.as_str(), 201, ""),
        (long_bad.as_str(), 400, "1025 bytes; at most 1024"),
        ("/leading", 400, "starts with `/`"),
        ("a/../b", 400, "`..` segment"),
        ("a/%2E%2E/b", 400, "`..` segment"),
        ("./a", 400, "`.` segment"),
        ("bell%07", 400, "control character (U+0007)"),
        ("%FF%FE", 400, "not UTF-8"),
    ] {
        let reply = put(&host, key, b"x", &[]);
        assert_eq!(reply.status, status, "{key}: {}", reply.body);
        assert!(reply.body.contains(message), "{key}: {}", reply.body);
    }
    assert_eq!(get(&host, "%C3%BCber%20caf%C3%A9", &[]).bytes, b"x");
}

#[test]
fn blob_upload_size_limit_leaves_nothing_half_written() {
    let data = tempfile::tempdir().expect("data dir");
    let host = HostBuilder::product()
        .anonymous_drive()
        .arg("--data-dir")
        .arg(data.path().display().to_string())
        .env("SPIN_VARIABLE_BLOB_MAX_SIZE", "1000")
        .start();
    assert_eq!(put(&host, "fits", &[7; 1000], &[]).status, 201);
    let declared = put(&host, "big", &[7; 1001], &[]);
    assert_eq!(declared.status, 413, "{}", declared.body);
    assert!(
        declared.body.contains("limit of 1000 bytes"),
        "{}",
        declared.body
    );
    // Without Content-Length: the store refuses the chunk that crosses the limit.
    // One write of the whole request: the host may answer (and close) as
    // soon as the limit is crossed, so later writes could hit a closed socket.
    let mut request = String::from(
        "PUT /blobs/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for _ in 0..3 {
        request.push_str(&format!("190\r\n{}\r\n", "y".repeat(400)));
    }
    request.push_str("0\r\n\r\n");
    let mut stream = TcpStream::connect(host.addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("request");
    let mut bytes = Vec::new();
    // A reset after the response is fine: keep what was read.
    let _ = std::io::Read::read_to_end(&mut stream, &mut bytes);
    let response = String::from_utf8_lossy(&bytes);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert_eq!(get(&host, "big", &[]).status, 404);
    assert_eq!(tmp_files(data.path()), 0);
}

#[test]
fn blob_upload_concurrent_writers_never_mix() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let a = vec![b'a'; 3 << 20];
    let b = vec![b'b'; 2 << 20];
    for _ in 0..5 {
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(put(&host, "shared", &a, &[]).status, 201));
            s.spawn(|| assert_eq!(put(&host, "shared", &b, &[]).status, 201));
        });
        let got = get(&host, "shared", &[]).bytes;
        assert!(got == a || got == b, "a mix of {} bytes", got.len());
    }
}

#[test]
fn blob_upload_survives_sigkill_mid_upload() {
    let data = tempfile::tempdir().expect("data dir");
    let kept: Vec<u8> = (0..500_000u32).map(|i| (i % 253) as u8).collect();
    {
        let host = host(data.path());
        assert_eq!(put(&host, "kept", &kept, &[]).status, 201);
        // Start replacing `kept` and writing `partial`, send 2 MiB of each, then kill the host.
        let mut uploads: Vec<TcpStream> = ["kept", "partial"]
            .iter()
            .map(|key| {
                let mut s = TcpStream::connect(host.addr).expect("connect");
                write!(
                    s,
                    "PUT /blobs/{key} HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"
                )
                .expect("head");
                s
            })
            .collect();
        for upload in &mut uploads {
            upload.write_all(&vec![b'z'; 2 << 20]).expect("first bytes");
        }
        // Wait until both uploads are streaming into the store.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tmp_files(data.path()) < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "uploads never reached the store"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        // SIGKILL while both uploads are still open (dropping the streams
        // first would let the host abort them cleanly).
        drop(host);
        drop(uploads);
    }
    assert!(
        tmp_files(data.path()) >= 1,
        "the killed uploads left their temp files"
    );
    let host = host(data.path());
    assert_eq!(tmp_files(data.path()), 0, "a restart clears them");
    let got = get(&host, "kept", &[]);
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, kept, "the earlier blob is intact");
    assert_eq!(
        get(&host, "partial", &[]).status,
        404,
        "no partial blob is visible"
    );
    let list: serde_json::Value =
        serde_json::from_str(&host.request("GET", "/blobs", &[], None).body).expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

/// The host's default request-body limit is 64 MiB; the manifest raises it
/// for blob-upload (`tool.cloudfn.max_request_body`), and the body streams
/// through in small chunks (linear memory stays small).
#[test]
fn blob_upload_streams_bodies_over_the_hosts_default_limit() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let body: Vec<u8> = (0..80u32 << 20).map(|i| (i ^ (i >> 11)) as u8).collect();
    let created = put(&host, "large", &body, &[]);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("x-checksum-sha256"),
        Some(&*sha256_hex(&body))
    );
    let (peak, line) = host.peak_memory_of(|l| l.contains("method=PUT path=/blobs/large"));
    assert!(peak < 16 << 20, "{line}");
    let back = get(&host, "large", &[]);
    assert_eq!(back.status, 200);
    assert!(back.bytes == body, "the download differs");
}

/// `spin-blob-adapter`, composed in front of blob-upload on Spin: it must
/// keep blobs in Spin's key-value store (`fermyon:spin/key-value@2.0.0`).
/// Linked here against an in-memory implementation of that interface and
/// driven through its `cloudfn:blob/store` export: chunked writes, ranged
/// reads across chunks, atomic replacement, listing, checksum and
/// create-only failures that store nothing, deletion.
#[test]
fn spin_blob_adapter_keeps_blobs_in_spins_key_value_store() {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use wasmtime::component::{
        Component, ComponentType, Lift, Linker, Lower, Resource, ResourceTable, ResourceType,
    };
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    mod adapter {
        wasmtime::component::bindgen!({
            path: ["../../wit/platform", "../../wit/blob", "../../wit/spin-blob-adapter"],
            world: "cloudfn:spin-blob-adapter/adapter",
        });
    }
    use adapter::cloudfn::blob::types::Error;
    use adapter::exports::cloudfn::blob::store::WriteOptions;

    #[derive(ComponentType, Lift, Lower, Debug)]
    #[component(variant)]
    enum KvError {
        #[component(name = "store-table-full")]
        StoreTableFull,
        #[component(name = "no-such-store")]
        NoSuchStore,
        #[component(name = "access-denied")]
        AccessDenied,
        #[component(name = "other")]
        Other(String),
    }
    struct KvStore;
    type Kv = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;
    struct State {
        ctx: WasiCtx,
        table: ResourceTable,
        kv: Kv,
    }
    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }

    let engine = Engine::default();
    let wasm = product_wasm("spin_blob_adapter");
    let component = Component::from_file(&engine, &wasm).expect("adapter component");
    let mut linker: Linker<State> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
    let mut kv = linker
        .instance("fermyon:spin/key-value@2.0.0")
        .expect("kv instance");
    kv.resource("store", ResourceType::host::<KvStore>(), |_, _| Ok(()))
        .expect("store resource");
    kv.func_wrap("[static]store.open", |mut cx, (label,): (String,)| {
        if label != "default" {
            return Ok((Err(KvError::NoSuchStore),));
        }
        Ok((Ok(cx.data_mut().table.push(KvStore)?),))
    })
    .expect("open");
    kv.func_wrap(
        "[method]store.get",
        |cx, (_, key): (Resource<KvStore>, String)| {
            let value = cx.data().kv.lock().expect("kv").get(&key).cloned();
            Ok((Ok::<_, KvError>(value),))
        },
    )
    .expect("get");
    kv.func_wrap(
        "[method]store.set",
        |cx, (_, key, value): (Resource<KvStore>, String, Vec<u8>)| {
            cx.data().kv.lock().expect("kv").insert(key, value);
            Ok((Ok::<(), KvError>(()),))
        },
    )
    .expect("set");
    kv.func_wrap(
        "[method]store.delete",
        |cx, (_, key): (Resource<KvStore>, String)| {
            cx.data().kv.lock().expect("kv").remove(&key);
            Ok((Ok::<(), KvError>(()),))
        },
    )
    .expect("delete");
    kv.func_wrap(
        "[method]store.exists",
        |cx, (_, key): (Resource<KvStore>, String)| {
            let exists = cx.data().kv.lock().expect("kv").contains_key(&key);
            Ok((Ok::<_, KvError>(exists),))
        },
    )
    .expect("exists");
    kv.func_wrap(
        "[method]store.get-keys",
        |cx, (_,): (Resource<KvStore>,)| {
            let keys: Vec<String> = cx.data().kv.lock().expect("kv").keys().cloned().collect();
            Ok((Ok::<_, KvError>(keys),))
        },
    )
    .expect("get-keys");

    let data: Kv = Arc::default();
    // A fresh instance per call sequence, as Spin gives each request.
    let instance = |data: &Kv| {
        let mut store = Store::new(
            &engine,
            State {
                ctx: WasiCtx::builder().build(),
                table: ResourceTable::new(),
                kv: data.clone(),
            },
        );
        let bindings =
            adapter::Adapter::instantiate(&mut store, &component, &linker).expect("instantiate");
        (store, bindings)
    };
    let options = |create_only| WriteOptions {
        content_type: "application/pdf".into(),
        create_only,
        max_size: 10 << 20,
    };
    let body: Vec<u8> = (0..1_300_000u32).map(|i| (i % 241) as u8).collect();
    let sha = sha256_hex(&body);

    // A blob of three chunks, written in uneven pieces.
    let (mut store, a) = instance(&data);
    let api = a.cloudfn_blob_store();
    let writer = api
        .call_open_writer(&mut store, "docs/r.pdf", &options(false))
        .expect("call")
        .expect("writer");
    for piece in body.chunks(300_001) {
        api.writer()
            .call_write(&mut store, writer, piece)
            .expect("call")
            .expect("write");
    }
    let meta = api
        .writer()
        .call_finish(&mut store, writer, Some(&sha))
        .expect("call")
        .expect("finish");
    assert_eq!(
        (meta.size, meta.sha256.as_str(), meta.content_type.as_str()),
        (1_300_000, sha.as_str(), "application/pdf")
    );
    let chunk_keys = |data: &Kv| {
        data.lock()
            .expect("kv")
            .keys()
            .filter(|k| k.starts_with("blob:d:"))
            .count()
    };
    assert_eq!(chunk_keys(&data), 3, "1.3 MB in 512 KiB chunks");

    // Ranged reads across chunk boundaries, from a fresh instance.
    let (mut store, a) = instance(&data);
    let api = a.cloudfn_blob_store();
    let reader = api
        .call_open_reader(&mut store, "docs/r.pdf")
        .expect("call")
        .expect("reader");
    for (offset, length) in [
        (0, 10),
        (524_280, 20),
        (1_299_990, 100),
        (0, 2_000_000),
        (1_300_000, 5),
    ] {
        let got = api
            .reader()
            .call_read(&mut store, reader, offset, length)
            .expect("call")
            .expect("read");
        let end = (offset + length).min(1_300_000) as usize;
        assert_eq!(got, body[offset as usize..end], "read {offset}+{length}");
    }
    assert_eq!(
        api.call_stat(&mut store, "docs/r.pdf")
            .expect("call")
            .expect("stat")
            .sha256,
        sha
    );

    // Failures store nothing and leave the blob as it was.
    let w = api
        .call_open_writer(&mut store, "docs/r.pdf", &options(false))
        .expect("call")
        .expect("writer");
    api.writer()
        .call_write(&mut store, w, b"other bytes")
        .expect("call")
        .expect("write");
    let err = api
        .writer()
        .call_finish(&mut store, w, Some(&"0".repeat(64)))
        .expect("call");
    assert!(matches!(err, Err(Error::ChecksumMismatch(_))), "{err:?}");
    assert!(matches!(
        api.call_open_writer(&mut store, "docs/r.pdf", &options(true))
            .expect("call"),
        Err(Error::PreconditionFailed)
    ));
    let big = api
        .call_open_writer(
            &mut store,
            "huge",
            &WriteOptions {
                max_size: 10,
                ..options(false)
            },
        )
        .expect("call")
        .expect("writer");
    assert!(matches!(
        api.writer()
            .call_write(&mut store, big, &[0; 11])
            .expect("call"),
        Err(Error::TooLarge(10))
    ));
    assert!(matches!(
        api.call_open_writer(&mut store, "a/../b", &options(false))
            .expect("call"),
        Err(Error::InvalidKey(_))
    ));
    assert_eq!(chunk_keys(&data), 3, "failed writes left no chunks");

    // Replacing swaps versions atomically and drops the old chunks.
    let w = api
        .call_open_writer(&mut store, "docs/r.pdf", &options(false))
        .expect("call")
        .expect("writer");
    api.writer()
        .call_write(&mut store, w, b"v2")
        .expect("call")
        .expect("write");
    api.writer()
        .call_finish(&mut store, w, None)
        .expect("call")
        .expect("finish");
    assert_eq!(chunk_keys(&data), 1);
    let reader = api
        .call_open_reader(&mut store, "docs/r.pdf")
        .expect("call")
        .expect("reader");
    assert_eq!(
        api.reader()
            .call_read(&mut store, reader, 0, 100)
            .expect("call")
            .expect("read"),
        b"v2"
    );

    // Listing in key order, paged; deletion.
    for key in ["docs/a", "docs/c", "docs/b", "zzz"] {
        let w = api
            .call_open_writer(&mut store, key, &options(false))
            .expect("call")
            .expect("writer");
        api.writer()
            .call_write(&mut store, w, key.as_bytes())
            .expect("call")
            .expect("write");
        api.writer()
            .call_finish(&mut store, w, None)
            .expect("call")
            .expect("finish");
    }
    let page = api
        .call_list(&mut store, "docs/", None, 2)
        .expect("call")
        .expect("list");
    let keys: Vec<&str> = page.items.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        (keys, page.next_start_after.as_deref()),
        (vec!["docs/a", "docs/b"], Some("docs/b"))
    );
    let page = api
        .call_list(&mut store, "docs/", Some("docs/b"), 10)
        .expect("call")
        .expect("list");
    assert_eq!(
        page.items
            .iter()
            .map(|m| m.key.as_str())
            .collect::<Vec<_>>(),
        ["docs/c", "docs/r.pdf"]
    );
    api.call_delete(&mut store, "docs/a")
        .expect("call")
        .expect("delete");
    assert!(matches!(
        api.call_delete(&mut store, "docs/a").expect("call"),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        api.call_stat(&mut store, "docs/a").expect("call"),
        Err(Error::NotFound)
    ));
}

/// The same HTTP face with the host's S3 backend (`--blob-store s3://bucket`)
/// against a real S3 server: uploads become objects, and the statuses,
/// checksums, ranges and listing behave as on the filesystem store.
#[test]
fn blob_upload_on_the_s3_backend_against_a_real_s3_server() {
    let root = tempfile::tempdir().expect("s3 root");
    std::fs::create_dir(root.path().join("drive")).expect("bucket");
    let s3 = s3_server(root.path(), "cloudfn", "cloudfn-secret");
    let host = HostBuilder::product()
        .anonymous_drive()
        .arg("--blob-store")
        .arg("s3://drive")
        .env("AWS_ENDPOINT", format!("http://{s3}"))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "cloudfn")
        .env("AWS_SECRET_ACCESS_KEY", "cloudfn-secret")
        .start();

    // Larger than one 5 MiB multipart part.
    let body: Vec<u8> = (0..(6u32 << 20) + 12_345)
        .map(|i| (i ^ (i >> 9)) as u8)
        .collect();
    let sha = sha256_hex(&body);
    let created = put(
        &host,
        "docs/big.bin",
        &body,
        &[
            ("content-type", "application/x-big"),
            ("x-checksum-sha256", &sha),
        ],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("x-checksum-sha256"), Some(sha.as_str()));
    assert!(
        root.path().join("drive/docs/big.bin").exists(),
        "stored as an object of the bucket"
    );

    let back = get(&host, "docs/big.bin", &[]);
    assert_eq!(back.status, 200);
    assert_eq!(back.header("content-type"), Some("application/x-big"));
    assert_eq!(
        back.header("content-length"),
        Some(&*body.len().to_string())
    );
    assert!(back.bytes == body, "the download differs");
    let part = get(&host, "docs/big.bin", &[("range", "bytes=5242870-5242889")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, body[5_242_870..5_242_890]);
    assert_eq!(
        get(
            &host,
            "docs/big.bin",
            &[("if-none-match", &format!("\"{sha}\""))]
        )
        .status,
        304
    );

    assert_eq!(
        put(&host, "docs/big.bin", b"x", &[("if-none-match", "*")]).status,
        412
    );
    let mismatch = put(
        &host,
        "docs/other",
        b"abc",
        &[("x-checksum-sha256", &"0".repeat(64))],
    );
    assert_eq!(mismatch.status, 400, "{}", mismatch.body);
    assert_eq!(
        get(&host, "docs/other", &[]).status,
        404,
        "an aborted upload is not visible"
    );
    assert_eq!(put(&host, "docs/small", b"abc", &[]).status, 201);
    let replaced = put(&host, "docs/small", b"abcd", &[]);
    assert_eq!(replaced.status, 201);
    assert_eq!(get(&host, "docs/small", &[]).bytes, b"abcd");

    let page: serde_json::Value =
        serde_json::from_str(&host.request("GET", "/blobs?prefix=docs/", &[], None).body)
            .expect("json");
    assert_eq!(page_keys(&page), ["docs/big.bin", "docs/small"]);
    assert_eq!(page["items"][0]["sha256"], sha);

    assert_eq!(
        host.request("DELETE", "/blobs/docs/small", &[], None)
            .status,
        204
    );
    assert_eq!(
        host.request("DELETE", "/blobs/docs/small", &[], None)
            .status,
        404
    );
    let unrepresentable = put(&host, "docs//double", b"x", &[]);
    assert_eq!(unrepresentable.status, 400);
    assert!(
        unrepresentable
            .body
            .contains("not representable as an S3 object name"),
        "{}",
        unrepresentable.body
    );
}

/// A download with a `Content-Length` ends when that many bytes are sent:
/// the server drops the body without seeing its end-of-stream, which was
/// logged as `cutoff=Some(ClientGone)` although the client got it all.
#[test]
fn regression_complete_download_with_content_length_is_not_logged_as_client_gone() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    let body = vec![5u8; 3 << 20];
    assert_eq!(put(&host, "whole", &body, &[]).status, 201);
    let got = get(&host, "whole", &[]);
    assert_eq!((got.status, got.body_len), (200, 3 << 20));
    let line = host.wait_for_log(|l| l.contains("method=GET path=/blobs/whole"));
    assert!(line.contains("cutoff=None"), "{line}");
    assert!(line.contains(&format!("bytes={}", 3 << 20)), "{line}");
}
