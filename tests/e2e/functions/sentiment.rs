//! `sentiment` end to end: through `cloudfn up` over HTTP and `cloudfn invoke`.

use crate::common::{HostBuilder, invoke_product_ok, repo_root};
use serde_json::Value;

/// Reference scores from the parity corpus (vaderSentiment 3.3.2).
fn reference(count: usize) -> Vec<Value> {
    let corpus = std::fs::read_to_string(
        repo_root().join("functions/sentiment-score/tests/parity/corpus.jsonl"),
    )
    .expect("parity corpus");
    corpus
        .lines()
        .step_by(37)
        .take(count)
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect()
}

#[test]
fn sentiment_http_scores_match_the_reference() {
    let host = HostBuilder::product().start();
    let expected = reference(30);
    for case in &expected {
        let body = serde_json::json!({ "text": case["text"] }).to_string();
        let reply = host.post_as("/sentiment", "application/json", body.as_bytes());
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let got: Value = serde_json::from_str(&reply.body).expect("json reply");
        for key in ["neg", "neu", "pos", "compound"] {
            assert_eq!(got[key], case[key], "{key} for {:?}", case["text"]);
        }
        let compound = got["compound"].as_f64().expect("compound");
        let label = if compound >= 0.05 {
            "positive"
        } else if compound <= -0.05 {
            "negative"
        } else {
            "neutral"
        };
        assert_eq!(got["label"], label);
    }

    let texts: Vec<&Value> = expected.iter().map(|c| &c["text"]).collect();
    let body = serde_json::json!({ "texts": texts }).to_string();
    let list: Value = serde_json::from_str(
        &host
            .post_as("/sentiment", "application/json", body.as_bytes())
            .body,
    )
    .expect("json list");
    assert_eq!(list.as_array().map(Vec::len), Some(expected.len()));
    for (got, want) in list.as_array().into_iter().flatten().zip(&expected) {
        assert_eq!(got["compound"], want["compound"]);
    }

    let summary: Value = serde_json::from_str(
        &host
            .post_as(
                "/sentiment/aggregate",
                "application/json",
                br#"{"texts": ["I love it", "I hate it", "a chair", "LOVE it!!!"]}"#,
            )
            .body,
    )
    .expect("summary");
    assert_eq!(summary["count"], 4);
    assert_eq!(
        (
            summary["positives"].as_u64(),
            summary["neutrals"].as_u64(),
            summary["negatives"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(summary["most_positive"], "LOVE it!!!");
    assert_eq!(summary["most_negative"], "I hate it");

    let empty: Value = serde_json::from_str(
        &host
            .post_as("/sentiment", "application/json", br#"{"text": ""}"#)
            .body,
    )
    .expect("json");
    assert_eq!(
        empty,
        serde_json::json!({"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0, "label": "neutral"})
    );
}

#[test]
fn sentiment_bad_input_gets_clear_errors() {
    let host = HostBuilder::product().start();
    for (body, message) in [
        (
            &b"{\"text\": \"ok\",\n  oops}"[..],
            "invalid JSON at line 2, column 3: key must be a string\n",
        ),
        (
            &b"{\"text\": \"\xff\xfe\"}"[..],
            "body is not valid UTF-8 (invalid byte at offset 10)\n",
        ),
    ] {
        let reply = host.post_as("/sentiment", "application/json", body);
        assert_eq!((reply.status, reply.body.as_str()), (400, message));
    }
    let shape = host.post_as("/sentiment", "application/json", br#"{"txt": "x"}"#);
    assert_eq!(shape.status, 400);
    assert!(
        shape
            .body
            .contains(r#"expected {"text": "…"} or {"texts": ["…", …]}"#),
        "{}",
        shape.body
    );
    let mut big = br#"{"text": ""#.to_vec();
    big.resize(17 << 20, b'a');
    big.extend_from_slice(br#""}"#);
    let too_big = host.post_as("/sentiment", "application/json", &big);
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    assert!(
        too_big
            .body
            .contains("over the 16 MiB limit; send application/x-ndjson"),
        "{}",
        too_big.body
    );
    let get = host.get("/sentiment");
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
    assert_eq!(host.get("/sentiment/nope").status, 404);
}

#[test]
fn sentiment_ndjson_streams_100k_lines_in_flat_memory() {
    let host = HostBuilder::product().start();
    let feed = |lines: usize| {
        let mut body = String::new();
        for i in 0..lines {
            match i % 4 {
                0 => body.push_str("\"I love this phone\"\n"),
                1 => body.push_str("{\"text\": \"worst service EVER!!!\"}\n"),
                2 => body.push_str("\"it is a phone\"\n"),
                _ => body.push_str("{\"text\": \"not bad at all 😀\"}\n"),
            }
        }
        body
    };
    let small = host.post_as("/sentiment", "application/x-ndjson", feed(1_000).as_bytes());
    assert_eq!(small.status, 200);
    let large = host.post_as(
        "/sentiment",
        "application/x-ndjson",
        feed(100_000).as_bytes(),
    );
    assert_eq!(large.status, 200);
    assert_eq!(large.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<&str> = large.body.lines().collect();
    assert_eq!(lines.len(), 100_000);
    for (i, line) in lines.iter().enumerate().take(8) {
        let v: Value = serde_json::from_str(line).expect("ndjson line");
        let label = ["positive", "negative", "neutral", "positive"][i % 4];
        assert_eq!(v["label"], label, "line {i}: {line}");
    }
    let (small_peak, large_peak) = (host.peak_memory(1), host.peak_memory(2));
    assert!(
        large_peak <= small_peak + (1 << 20),
        "memory grew with the stream: {small_peak} bytes for 1,000 lines, {large_peak} for 100,000"
    );

    let summary = host.post_as(
        "/sentiment/aggregate",
        "application/x-ndjson",
        feed(40_000).as_bytes(),
    );
    let v: Value = serde_json::from_str(summary.body.trim()).expect("summary line");
    assert_eq!(
        (
            v["count"].as_u64(),
            v["positives"].as_u64(),
            v["negatives"].as_u64(),
            v["neutrals"].as_u64()
        ),
        (Some(40_000), Some(20_000), Some(10_000), Some(10_000))
    );
}

#[test]
fn sentiment_invoke_typed_exports() {
    let run = |args: &[&str]| invoke_product_ok("sentiment", args);
    assert_eq!(
        run(&["score", "\"VADER is smart, handsome, and funny.\""]),
        "{neg: 0, neu: 0.254, pos: 0.746, compound: 0.8316}\n"
    );
    assert_eq!(
        run(&["score-batch", "[\"bad\", \"\"]"]),
        "[{neg: 1, neu: 0, pos: 0, compound: -0.5423}, {neg: 0, neu: 0, pos: 0, compound: 0}]\n"
    );
    assert_eq!(
        run(&["classify", "{neg: 0, neu: 1, pos: 0, compound: 0.05}"]),
        "positive\n"
    );
    assert_eq!(
        run(&["aggregate", "[\"I love it\", \"I hate it\"]"]),
        "{count: 2, positives: 1, neutrals: 0, negatives: 1, mean-compound: 0.03250000000000003, most-positive: some(\"I love it\"), most-negative: some(\"I hate it\")}\n"
    );
}
