//! `index-reduce` end to end: `/index/reduce` through `cloudfn up` and the
//! typed `reducer` through `cloudfn invoke`.

use crate::common::{HostBuilder, cloudfn_stream, invoke_product, product_wasm};

#[test]
fn index_reduce_http_reduces_sorted_pairs_and_refuses_unsorted_ones() {
    let host = HostBuilder::product().start();
    let post = |body: &str| host.post_as("/index/reduce", "text/plain", body.as_bytes());

    // Textbook values (`doc`, one per occurrence) and combined ones (`doc<TAB>tf`) mix.
    let reply = post("cat\td1\t1\ncat\td2\ncat\td2\ndon't\td1\t1\nthe\td1\t1\nthe\td2\t2\n");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.body,
        "cat\t2\td1:1,d2:2\ndon't\t1\td1:1\nthe\t2\td1:1,d2:2\n"
    );

    let unsorted = post("the\td1\ncat\td1\n");
    assert_eq!(
        (unsorted.status, unsorted.body.as_str()),
        (
            400,
            "input is not sorted by key: line 2 has key \"cat\" after \"the\" (sort with LC_ALL=C sort)\n"
        )
    );
    let malformed = post("cat\td1\tmany\n");
    assert_eq!(malformed.status, 400);
    assert!(
        malformed
            .body
            .contains("is not `doc` or `doc<TAB>tf[<TAB>doc<TAB>tf…]`"),
        "{}",
        malformed.body
    );
}

#[test]
fn index_reduce_invoke_gives_posting_lists() {
    let run = |args: &[&str]| invoke_product("index-reduce", args);
    let (ok, stdout, stderr) = run(&["reduce", "\"cat\"", r#"["d2", "d1\t3", "d2"]"#]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "ok({key: \"cat\", value: \"2\\td1:3,d2:2\"})\n");
    let (ok, stdout, _) = run(&["reduce", "\"cat\"", r#"["d1\t0"]"#]);
    assert!(ok);
    assert_eq!(stdout, "err(malformed-value(\"d1\\t0\"))\n");
    let (ok, stdout, stderr) = run(&["reduce-batch", r#"[("a", ["d1"]), ("b", ["d1", "d2"])]"#]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "ok([{key: \"a\", value: \"1\\td1:1\"}, {key: \"b\", value: \"2\\td1:1,d2:1\"}])\n"
    );
}

#[test]
fn index_reduce_stream_refuses_unsorted_input() {
    let run = cloudfn_stream(
        "reduce",
        &product_wasm("index_reduce"),
        &[],
        b"the\td1\ncat\td1\n",
    );
    assert!(!run.status.success());
    assert_eq!(
        run.stderr,
        "error: input is not sorted by key: line 2 has key \"cat\" after \"the\" (sort with LC_ALL=C sort)\n"
    );
}
