//! `index-map` end to end: `/index/map` and `/index/build` through `cloudfn up`,
//! and the typed `mapper` through `cloudfn invoke`.

use crate::common::{HostBuilder, cloudfn, product_manifest, request};

const RECORDS: &str = "d2\tThe cat; the HAT!\nno tab on this line\n\nd1\tDon't e-mail the cat\r\n";

#[test]
fn index_map_http_maps_and_builds_the_index() {
    let host = HostBuilder::manifest(product_manifest().to_path_buf()).start();
    let post = |path: &str, body: &[u8]| {
        request(
            host.addr,
            "POST",
            path,
            &[("content-type", "text/plain")],
            Some(body),
        )
    };

    let mapped = post("/index/map", RECORDS.as_bytes());
    assert_eq!(mapped.status, 200, "{mapped:?}");
    assert_eq!(
        mapped.body,
        "cat\td1\t1\td2\t1\ndon't\td1\t1\ne-mail\td1\t1\nhat\td2\t1\nthe\td1\t1\td2\t2\n"
    );
    assert_eq!(
        mapped.header("x-cloudfn-counters"),
        Some("lines=4 written=5 blank=1 malformed=1")
    );

    let index = post("/index/build", RECORDS.as_bytes());
    assert_eq!(index.status, 200);
    assert_eq!(
        index.body,
        "cat\t2\td1:1,d2:1\ndon't\t1\td1:1\ne-mail\t1\td1:1\nhat\t1\td2:1\nthe\t2\td1:1,d2:2\n"
    );
    assert_eq!(
        post("/index/build", RECORDS.as_bytes()).body,
        index.body,
        "deterministic"
    );

    let too_big = post("/index/map", &vec![b'x'; (16 << 20) + 1]);
    assert_eq!(too_big.status, 413);
    assert!(
        too_big.body.contains("over the 16 MiB limit"),
        "{}",
        too_big.body
    );
    let get = host.get("/index/map");
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
}

#[test]
fn index_map_invoke_matches_http() {
    let dir = product_manifest().parent().expect("dir");
    let run = |args: &[&str]| {
        let mut all = vec!["invoke", "-f", "spin.toml", "--no-cache", "index-map"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = cloudfn(&all, dir);
        assert!(ok, "invoke {args:?}: {stderr}");
        stdout
    };
    assert_eq!(
        run(&["map", r#"{doc-id: "d2", content: "The cat; the HAT!"}"#]),
        "[{key: \"cat\", value: \"d2\\t1\"}, {key: \"hat\", value: \"d2\\t1\"}, {key: \"the\", value: \"d2\\t2\"}]\n"
    );
    assert_eq!(
        run(&[
            "map-batch",
            r#"[{doc-id: "a", content: "x y"}, {doc-id: "b", content: "x"}]"#
        ]),
        "[{key: \"x\", value: \"a\\t1\\tb\\t1\"}, {key: \"y\", value: \"a\\t1\"}]\n"
    );
}

/// `cloudfn stream PHASE WASM` on `input`, which must succeed; returns stdout and stderr.
fn stream(phase: &str, wasm: &std::path::Path, input: &[u8]) -> (String, String) {
    let (ok, stdout, stderr) = crate::common::cloudfn_stream(phase, wasm, input);
    assert!(ok, "stream {phase}: {stderr}");
    (stdout, stderr)
}

#[test]
fn index_map_stream_http_and_typed_modes_give_identical_output() {
    let release = product_manifest()
        .parent()
        .expect("dir")
        .join("wasm32-wasip2/release");
    let (mapped, map_report) = stream("map", &release.join("index_map.wasm"), RECORDS.as_bytes());
    assert_eq!(
        map_report.trim(),
        "cloudfn stream map: 4 lines read, 5 written, 1 blank, 1 malformed"
    );
    let mut sorted: Vec<&str> = mapped.lines().collect();
    sorted.sort_unstable();
    let sorted = sorted.join("\n") + "\n";
    let (index, reduce_report) = stream(
        "reduce",
        &release.join("index_reduce.wasm"),
        sorted.as_bytes(),
    );
    assert_eq!(
        reduce_report.trim(),
        "cloudfn stream reduce: 5 lines read, 5 written, 0 blank, 0 malformed"
    );

    let host = HostBuilder::manifest(product_manifest().to_path_buf()).start();
    let post = |path: &str, body: &[u8]| request(host.addr, "POST", path, &[], Some(body)).body;
    assert_eq!(
        mapped,
        post("/index/map", RECORDS.as_bytes()),
        "stream map = HTTP map"
    );
    assert_eq!(
        index,
        post("/index/build", RECORDS.as_bytes()),
        "stream map|sort|reduce = HTTP build"
    );
    assert_eq!(
        index,
        post("/index/reduce", sorted.as_bytes()),
        "stream reduce = HTTP reduce"
    );

    // Stream mode takes any length: 60,000 records (1.5 MB, two of the
    // mapper's windows, so each word's postings come in two lines) map and
    // reduce to 3 words.
    let many: String = (0..60_000)
        .map(|i| {
            format!(
                "doc{i:05}\talpha beta {}\n",
                if i % 2 == 0 { "gamma" } else { "beta" }
            )
        })
        .collect();
    let (mapped, report) = stream("map", &release.join("index_map.wasm"), many.as_bytes());
    assert_eq!(
        report.trim(),
        "cloudfn stream map: 60000 lines read, 6 written, 0 blank, 0 malformed",
        "two windows of three words"
    );
    let mut sorted: Vec<&str> = mapped.lines().collect();
    sorted.sort_unstable();
    let (index, _) = stream(
        "reduce",
        &release.join("index_reduce.wasm"),
        (sorted.join("\n") + "\n").as_bytes(),
    );
    let heads: Vec<String> = index
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join("\t"))
        .collect();
    assert_eq!(heads, ["alpha\t60000", "beta\t60000", "gamma\t30000"]);
    assert!(
        index
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("doc00001:2,")),
        "tf 2 for beta in odd documents"
    );
}

#[test]
fn index_map_stream_is_stopped_at_the_timeout() {
    let release = product_manifest()
        .parent()
        .expect("dir")
        .join("wasm32-wasip2/release");
    // Every 1 MiB chunk takes milliseconds to map; the limit is 1 ms.
    let records: String = (0..4_000)
        .map(|i| format!("doc{i}\t{}\n", "lorem ipsum dolor sit amet ".repeat(40)))
        .collect();
    let (status, _, stderr) = crate::common::cloudfn_stream_with(
        "map",
        &release.join("index_map.wasm"),
        &["--timeout", "1ms"],
        records.as_bytes(),
    );
    assert_eq!(status.code(), Some(124), "{stderr}");
    assert_eq!(
        stderr,
        "error: a call into the component ran longer than the timeout (1ms, --timeout); stopped\n"
    );
}
