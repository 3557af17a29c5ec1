//! `social-listener` end to end on `cloudfn up` with the product manifest
//! and the embedded broker: tweets in (one JSON object, a batch, NDJSON),
//! kept by keyword, through `feed` to `social-consumer`, out of the
//! dashboard, whose figures must equal the sentiment function's own scores;
//! and every refusal, with nothing published.

use crate::common::{Host, HostBuilder, wait_until};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn host(data: &Path) -> Host {
    HostBuilder::product()
        .arg("--data-dir")
        .arg(data.display().to_string())
        .start()
}

/// The dashboard (`GET /social/dashboard?QUERY`) as JSON.
pub(crate) fn dashboard(host: &Host, query: &str) -> Value {
    let reply = host.get(&format!("/social/dashboard?{query}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("dashboard JSON")
}

/// The tweets the dashboard's totals count, over all keywords.
pub(crate) fn counted(host: &Host) -> u64 {
    dashboard(host, "minutes=1440")["totals"]
        .as_object()
        .expect("totals")
        .values()
        .map(|k| k["count"].as_u64().expect("count"))
        .sum()
}

fn ingest(host: &Host, content_type: &str, body: &[u8]) -> Value {
    let reply = host.post_as("/social/tweets", content_type, body);
    assert_eq!(reply.status, 202, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("ingest JSON")
}

/// A tweet as the sentiment function scored it: (id, text, compound).
type Scored = (String, String, f64);

/// What the dashboard must say of one keyword, computed from the sentiment
/// function's scores of its tweets.
fn expected(scored: &[Scored]) -> Value {
    let label = |c: f64| {
        if c >= 0.05 {
            "positive"
        } else if c <= -0.05 {
            "negative"
        } else {
            "neutral"
        }
    };
    let sum: i64 = scored
        .iter()
        .map(|(_, _, c)| (c * 1e4).round() as i64)
        .sum();
    let count = scored.len();
    let pick = |higher: bool| {
        let best = scored
            .iter()
            .min_by(|a, b| {
                let by_score = if higher {
                    b.2.total_cmp(&a.2)
                } else {
                    a.2.total_cmp(&b.2)
                };
                by_score.then_with(|| a.0.cmp(&b.0))
            })
            .expect("tweets");
        json!({ "id": best.0, "text": best.1, "compound": best.2 })
    };
    json!({
        "count": count,
        "mean_compound": sum as f64 / count as f64 / 10_000.0,
        "positive": scored.iter().filter(|s| label(s.2) == "positive").count(),
        "neutral": scored.iter().filter(|s| label(s.2) == "neutral").count(),
        "negative": scored.iter().filter(|s| label(s.2) == "negative").count(),
        "most_positive": pick(true),
        "most_negative": pick(false),
    })
}

#[test]
fn social_listener_feeds_the_consumer_and_the_dashboard_equals_the_sentiment_function() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = host(data.path());
    let corpus = std::fs::read_to_string(
        crate::common::repo_root().join("functions/sentiment-score/tests/parity/corpus.jsonl"),
    )
    .expect("corpus");
    let texts: Vec<String> = corpus
        .lines()
        .take(300)
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("line")["text"]
                .as_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    // Tweets in two minutes; every third mentions no keyword; some mention two.
    let mut tweets = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let text = match i % 3 {
            0 => format!("{text} #Rust"),
            1 => format!("{text} (wasm and rust)"),
            _ => format!("{text} nothing to see"),
        };
        let minute = 10 + i % 2;
        tweets.push(json!({
            "id": format!("t{i:04}"),
            "text": text,
            "user": {"screen_name": format!("user{i}")},
            "created_at": format!("2026-12-02T10:{minute:02}:{:02}Z", i % 60),
        }));
    }
    let one = ingest(&host, "application/json", tweets[0].to_string().as_bytes());
    assert_eq!(
        one,
        json!({"received": 1, "published": 1, "filtered_out": 0})
    );
    let batch = ingest(
        &host,
        "application/json",
        Value::Array(tweets[1..150].to_vec()).to_string().as_bytes(),
    );
    assert_eq!(batch["received"], 149);
    let ndjson: String = tweets[150..].iter().map(|t| format!("{t}\n")).collect();
    let lines = ingest(&host, "application/x-ndjson", ndjson.as_bytes());
    assert_eq!(lines["received"], 150);
    let kept =
        1 + batch["published"].as_u64().expect("n") + lines["published"].as_u64().expect("n");
    assert_eq!(kept, 200, "two tweets in three mention a keyword");

    // Each keyword's tweets as the sentiment function scores them, by minute.
    let mut by_keyword: BTreeMap<(String, u64), Vec<Scored>> = BTreeMap::new();
    for tweet in &tweets {
        let text = tweet["text"].as_str().expect("text");
        let reply = host.post("/sentiment", json!({ "text": text }).to_string().as_bytes());
        let compound = serde_json::from_str::<Value>(&reply.body).expect("scores")["compound"]
            .as_f64()
            .expect("compound");
        let minute: u64 = tweet["created_at"].as_str().expect("time")[14..16]
            .parse()
            .expect("minute");
        let lower = text.to_lowercase();
        for keyword in ["rust", "wasm"] {
            if lower.contains(keyword) && !lower.ends_with("nothing to see") {
                let scored = (
                    tweet["id"].as_str().expect("id").to_owned(),
                    text.to_owned(),
                    compound,
                );
                by_keyword
                    .entry((keyword.into(), minute))
                    .or_default()
                    .push(scored.clone());
                by_keyword
                    .entry((keyword.into(), 0))
                    .or_default()
                    .push(scored);
            }
        }
    }
    let pairs: usize = by_keyword
        .iter()
        .filter(|((_, m), _)| *m == 0)
        .map(|(_, v)| v.len())
        .sum();
    wait_until(
        "every kept tweet aggregated",
        || counted(&host),
        |&n| n == pairs as u64,
    );

    let view = dashboard(&host, "");
    for keyword in ["rust", "wasm"] {
        let mut want = expected(&by_keyword[&(keyword.to_owned(), 0)]);
        let got = &view["totals"][keyword];
        for extreme in ["most_positive", "most_negative"] {
            assert!(
                got[extreme]["user"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("user"))
            );
            want[extreme]["user"] = got[extreme]["user"].clone();
        }
        assert_eq!(got, &want, "totals of {keyword}");
    }
    let minutes = view["minutes"].as_array().expect("minutes");
    assert_eq!(minutes.len(), 2);
    assert_eq!(minutes[0]["minute"], "2026-12-02T10:10:00Z");
    for (i, minute) in minutes.iter().enumerate() {
        let want = &by_keyword[&("rust".to_owned(), 10 + i as u64)];
        assert_eq!(
            minute["keywords"]["rust"]["count"],
            want.len(),
            "rust in minute {i}"
        );
    }
    for unused in ["webassembly", "serverless", "cloud"] {
        assert_eq!(view["totals"][unused]["count"], 0);
    }
    let only = dashboard(&host, "minutes=1&keyword=WASM");
    assert_eq!(only["keywords"], json!(["wasm"]));
    assert_eq!(only["minutes"].as_array().expect("minutes").len(), 1);
    assert_eq!(only["minutes"][0]["minute"], "2026-12-02T10:11:00Z");
}

#[test]
fn social_listener_refuses_bad_input_and_publishes_nothing_of_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = host(data.path());
    let bad = "{\"id\": 1, \"text\": \"rust is fine\"}\n{\"id\": 2, \"txt\": \"rust\"}\n{\"id\": 3, \"text\": \"rust\", \"created_at\": \"soon\"}\n";
    let reply = host.post_as("/social/tweets", "application/x-ndjson", bad.as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(body["rejected"], 2);
    assert_eq!(
        body["first_rejected"][0],
        json!({"line": 2, "error": "`text` is missing"})
    );
    assert!(
        body["first_rejected"][1]["error"]
            .as_str()
            .expect("error")
            .contains("RFC 3339")
    );
    for (content_type, body, status, says) in [
        ("application/json", &b"[1, 2"[..], 400, "not JSON"),
        (
            "application/json",
            b"\"rust\"",
            400,
            "a tweet object or an array",
        ),
        (
            "application/json",
            b"{\"text\": 7}",
            400,
            "`text` must be a string",
        ),
    ] {
        let reply = host.post_as("/social/tweets", content_type, body);
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.body.contains(says), "{}", reply.body);
    }
    let huge = vec![b' '; (16 << 20) + 1];
    let reply = host.post_as("/social/tweets", "application/json", &huge);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.body.contains("16 MiB"), "{}", reply.body);
    let reply = host.get("/social/tweets");
    assert_eq!((reply.status, reply.header("allow")), (405, Some("POST")));
    assert_eq!(host.get("/social/nope").status, 404);
    assert_eq!(host.get("/social/dashboard?minutes=0").status, 400);
    let reply = host.get("/social/dashboard?keyword=golang");
    assert_eq!(reply.status, 404);
    assert!(reply.body.contains("tracked: rust, wasm"), "{}", reply.body);

    // Nothing of the refused requests went out: one good tweet is all there is.
    ingest(
        &host,
        "application/json",
        br#"{"id": 9, "text": "rust is good"}"#,
    );
    wait_until("the good tweet aggregated", || counted(&host), |&n| n == 1);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(counted(&host), 1);
}

#[test]
fn social_listener_without_keywords_says_which_variable_is_wrong() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = HostBuilder::product()
        .arg("--data-dir")
        .arg(data.path().display().to_string())
        .env("SPIN_VARIABLE_SOCIAL_KEYWORDS", " , ")
        .start();
    let reply = host.post("/social/tweets", br#"{"text": "rust"}"#);
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains("variable `keywords`: no keywords"),
        "{}",
        reply.body
    );
}
