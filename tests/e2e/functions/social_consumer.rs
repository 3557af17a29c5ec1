//! `social-consumer` end to end: concurrent deliveries into one minute's
//! records lose no update; what is not a tweet is acknowledged at once, not
//! retried; and the whole pipeline runs on a real `redis-server` with
//! `--redis`.

use super::social_listener::{counted, dashboard, host};
use crate::common::{HostBuilder, product_dead_letters, product_events, wait_until};
use crate::servers::redis;
use serde_json::json;

fn feed(count: usize, from: usize) -> String {
    (from..from + count)
        .map(|i| {
            let text = ["good rust", "bad rust", "rust"][i % 3];
            format!(
                "{}\n",
                json!({"id": i.to_string(), "text": text, "created_at": "2026-12-02T10:15:00Z"})
            )
        })
        .collect()
}

#[test]
fn social_consumer_loses_no_update_under_concurrent_deliveries() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = host(data.path());
    // Three feeds at once, every tweet in the same minute and keyword: the
    // consumer's deliveries run side by side on the same records.
    std::thread::scope(|s| {
        for part in 0..3 {
            let host = &host;
            s.spawn(move || {
                let reply = host.post_as(
                    "/social/tweets",
                    "application/x-ndjson",
                    feed(1000, part * 1000).as_bytes(),
                );
                assert_eq!(reply.status, 202, "{}", reply.body);
            });
        }
    });
    wait_until("3,000 tweets aggregated", || counted(&host), |&n| n >= 3000);
    let rust = &dashboard(&host, "keyword=rust")["totals"]["rust"];
    assert_eq!(rust["count"], 3000);
    assert_eq!(
        (&rust["positive"], &rust["negative"], &rust["neutral"]),
        (&json!(1000), &json!(1000), &json!(1000))
    );
    let most_positive = rust["most_positive"]["id"].as_str().expect("id");
    assert_eq!(most_positive, "0", "ties keep the smallest id (as text)");
    // A delivery's log line follows its swap: wait for the lines, then
    // check that each tweet was handled once, at the first attempt.
    let handled = |log: &String| {
        log.matches("component=\"social-consumer\" attempt=1 outcome=handled")
            .count()
    };
    let log = wait_until(
        "3,000 deliveries logged",
        || host.log_text(),
        |log| handled(log) >= 3000,
    );
    assert_eq!(
        handled(&log),
        3000,
        "each tweet handled once, at the first attempt"
    );
    assert!(
        !log.contains("component=\"social-consumer\" attempt=2"),
        "no delivery was retried"
    );
}

#[test]
fn social_consumer_acknowledges_what_is_not_a_tweet_without_retrying() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = host(data.path());
    let other_event =
        json!({"specversion": "1.0", "id": "x", "source": "/t", "type": "dev.example.other"});
    for payload in ["hello".to_owned(), other_event.to_string()] {
        product_events(data.path(), &["publish", "feed", "--data", &payload]);
    }
    let log = wait_until(
        "both messages acknowledged",
        || host.log_text(),
        |log| {
            log.matches("component=\"social-consumer\" attempt=1 outcome=handled")
                .count()
                == 2
        },
    );
    assert!(log.contains("not a tweet: not a CloudEvent"), "{log}");
    assert!(log.contains("a `dev.example.other` event"), "{log}");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        !host.log_text().contains("attempt=2"),
        "{}",
        host.log_text()
    );
    assert_eq!(product_dead_letters(data.path()), json!([]));
}

#[test]
fn social_pipeline_runs_on_a_real_redis_server() {
    let server = redis();
    let data = tempfile::tempdir().expect("tempdir");
    let host = HostBuilder::product()
        .arg("--data-dir")
        .arg(data.path().display().to_string())
        .arg("--redis")
        .arg(format!("redis://127.0.0.1:{}", server.port))
        .start();
    let reply = host.post_as(
        "/social/tweets",
        "application/x-ndjson",
        feed(300, 0).as_bytes(),
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    wait_until(
        "300 tweets aggregated through redis-server",
        || counted(&host),
        |&n| n == 300,
    );
    assert!(
        !data.path().join("events.db").exists(),
        "the embedded broker stayed out of it"
    );
}
