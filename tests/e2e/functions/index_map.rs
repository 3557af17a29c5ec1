//! `index-map` end to end: `/index/map` and `/index/build` through `cloudfn up`,
//! and the typed `mapper` through `cloudfn invoke`.

use crate::common::{HostBuilder, cloudfn_stream, invoke_product_ok, product_wasm};

const RECORDS: &str = "d2\tThe cat; the HAT!\nno tab on this line\n\nd1\tDon't e-mail the cat\r\n";

#[test]
fn index_map_http_maps_and_builds_the_index() {
    let host = HostBuilder::product().start();
    let post = |path: &str, body: &[u8]| host.post_as(path, "text/plain", body);

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
    let run = |args: &[&str]| invoke_product_ok("index-map", args);
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

/// `cloudfn stream PHASE` of a product function on `input`, which must succeed; returns stdout and stderr.
fn stream(phase: &str, function: &str, input: &[u8]) -> (String, String) {
    cloudfn_stream(phase, &product_wasm(function), &[], input).success()
}

#[test]
fn index_map_stream_http_and_typed_modes_give_identical_output() {
    let (mapped, map_report) = stream("map", "index_map", RECORDS.as_bytes());
    assert_eq!(
        map_report.trim(),
        "cloudfn stream map: 4 lines read, 5 written, 1 blank, 1 malformed"
    );
    let mut sorted: Vec<&str> = mapped.lines().collect();
    sorted.sort_unstable();
    let sorted = sorted.join("\n") + "\n";
    let (index, reduce_report) = stream("reduce", "index_reduce", sorted.as_bytes());
    assert_eq!(
        reduce_report.trim(),
        "cloudfn stream reduce: 5 lines read, 5 written, 0 blank, 0 malformed"
    );

    let host = HostBuilder::product().start();
    let post = |path: &str, body: &[u8]| host.post(path, body).body;
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
    let (mapped, report) = stream("map", "index_map", many.as_bytes());
    assert_eq!(
        report.trim(),
        "cloudfn stream map: 60000 lines read, 6 written, 0 blank, 0 malformed",
        "two windows of three words"
    );
    let mut sorted: Vec<&str> = mapped.lines().collect();
    sorted.sort_unstable();
    let (index, _) = stream(
        "reduce",
        "index_reduce",
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
    // Every 1 MiB chunk takes milliseconds to map; the limit is 1 ms.
    let records: String = (0..4_000)
        .map(|i| format!("doc{i}\t{}\n", "lorem ipsum dolor sit amet ".repeat(40)))
        .collect();
    let run = cloudfn_stream(
        "map",
        &product_wasm("index_map"),
        &["--timeout", "1ms"],
        records.as_bytes(),
    );
    assert_eq!(run.status.code(), Some(124), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: a call into the component ran longer than the timeout (1ms, --timeout); stopped\n"
    );
}
