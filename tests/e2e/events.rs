//! Event-triggered components (`[[trigger.redis]]`): the spin-sdk 5.2
//! (`redis-v2`) and spin-sdk 7 (`redis-v3`) consumers, through the embedded
//! durable broker and through a real `redis-server`, with `cloudfn events`
//! publishing and inspecting.
//!
//! Each consumer records what it handled as a key `seen:KEY:<random>` of
//! the key-value store `default` (`sqlite_key_value.db` in the data
//! directory), which the tests count.

use crate::common::{
    CLOUDFN, Host, HostBuilder, cpu_seconds, fixture_wasm, log_duration_ms, up_refused, wait_until,
};
use crate::servers::{Server, free_port, redis};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The Redis address of the manifest: no server runs there; the embedded
/// broker stands in for it (or `--redis` names the one that serves it).
const ADDRESS: &str = "redis://localhost:6379";

/// An application in `dir`: `v2` subscribed to channel `v2`, `v3` to `v3`,
/// both to `both`; `settings` goes under `[application.tool.cloudfn.events]`.
pub fn app(dir: &Path, settings: &str) -> PathBuf {
    let component = |name: &str| {
        format!(
            r#"
[component.{name}]
source = "{}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["{ADDRESS}"]
variables = {{ broken = "{{{{ broken }}}}", redis_address = "{ADDRESS}" }}
"#,
            fixture_wasm(&format!("redis_{name}")).display()
        )
    };
    let manifest = dir.join("spin.toml");
    let text = format!(
        r#"spin_manifest_version = 2
[application]
name = "events"
[application.trigger.redis]
address = "{ADDRESS}"
[application.tool.cloudfn.events]
{settings}

[variables]
broken = {{ default = "yes" }}

[[trigger.redis]]
channel = "v2"
component = "v2"
[[trigger.redis]]
channel = "v3"
component = "v3"
[[trigger.redis]]
channel = "both"
component = "v2"
[[trigger.redis]]
channel = "both"
component = "v3"
{}{}"#,
        component("v2"),
        component("v3")
    );
    std::fs::write(&manifest, text).expect("write manifest");
    manifest
}

/// `cloudfn events -f MANIFEST ARGS…`; (success, stdout, stderr).
pub fn events(manifest: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(CLOUDFN)
        .arg("events")
        .arg("-f")
        .arg(manifest)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cloudfn events");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn publish(manifest: &Path, channel: &str, data: &str) {
    let (ok, out, err) = events(manifest, &["publish", channel, "--data", data]);
    assert!(ok, "publish failed: {out}{err}");
}

/// How often each key was handled, by the keys the consumers set.
fn seen(manifest: &Path) -> BTreeMap<String, usize> {
    let file = manifest.with_file_name(".cloudfn/data/sqlite_key_value.db");
    let mut counts = BTreeMap::new();
    if !file.exists() {
        return counts;
    }
    let db = rusqlite::Connection::open(&file).expect("open the key-value file");
    let keys = match db.prepare("SELECT key FROM spin_key_value") {
        Ok(mut select) => select
            .query_map([], |row| row.get::<_, String>(0))
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("keys"),
        Err(_) => Vec::new(),
    };
    for key in keys {
        if let Some(rest) = key.strip_prefix("seen:")
            && let Some((handled, _unique)) = rest.rsplit_once(':')
        {
            *counts.entry(handled.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

pub fn dead_letters(manifest: &Path) -> Vec<serde_json::Value> {
    let (ok, out, err) = events(manifest, &["dlq", "list", "--json"]);
    assert!(ok, "dlq list failed: {err}");
    serde_json::from_str(&out).expect("dlq list --json")
}

#[test]
fn both_sdk_generations_consume_and_a_guest_publish_reaches_every_subscriber() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let host = HostBuilder::manifest(manifest.clone()).start();
    publish(&manifest, "v2", "hello-v2");
    publish(&manifest, "v3", "hello-v3");
    // v2 publishes `chained` on `both`, which both consumers take.
    publish(&manifest, "v2", "publish:both:chained");
    let counts = wait_until(
        "deliveries",
        || seen(&manifest),
        |c| c.get("chained") == Some(&2) && c.len() == 4,
    );
    assert_eq!(counts.get("hello-v2"), Some(&1));
    assert_eq!(counts.get("hello-v3"), Some(&1));
    let line = host.wait_for_log(|l| {
        l.contains("cloudfn::event")
            && l.contains("channel=\"v3\"")
            && l.contains("outcome=handled")
    });
    for field in [
        "id=",
        "component=\"v3\"",
        "attempt=1",
        "duration_ms=",
        "peak_memory=",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    let (ok, stats, _) = events(&manifest, &["stats", "--json"]);
    assert!(ok);
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats json");
    assert_eq!(stats["messages"], 0, "every message acknowledged: {stats}");
}

#[test]
fn a_failing_handler_is_retried_then_dead_lettered_then_replayed_after_a_fix() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "attempts = 3\nbackoff = \"50ms\"");
    let host = HostBuilder::manifest(manifest.clone()).start();
    publish(&manifest, "both", "flaky-1");
    publish(&manifest, "v2", "fail-1");
    let dead = wait_until("dead letters", || dead_letters(&manifest), |d| d.len() == 3);
    for letter in &dead {
        assert_eq!(letter["attempts"], 3, "{letter}");
    }
    let errors: Vec<&str> = dead
        .iter()
        .filter_map(|d| d["last_error"].as_str())
        .collect();
    assert!(errors.iter().any(|e| e.contains("trapped")), "{errors:?}");
    assert!(
        errors.contains(&"the handler returned `error`"),
        "{errors:?}"
    );
    host.wait_for_log(|l| l.contains("attempt=2") && l.contains("outcome=retry in 100ms"));
    host.wait_for_log(|l| l.contains("attempt=3") && l.contains("outcome=dead-lettered"));
    assert!(!seen(&manifest).contains_key("flaky-1"));
    drop(host);

    // The fix: the same components with `broken` off; replay the flaky ones.
    let _host = HostBuilder::manifest(manifest.clone())
        .env("SPIN_VARIABLE_BROKEN", "no")
        .start();
    let (ok, out, err) = events(
        &manifest,
        &["dlq", "replay", "--id", &dead[0]["seq"].to_string()],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "2 dead letter(s) due again",
        "both consumers' deliveries of message {}",
        dead[0]["seq"]
    );
    wait_until(
        "replayed",
        || seen(&manifest),
        |c| c.get("flaky-1") == Some(&2),
    );
    let left = dead_letters(&manifest);
    assert_eq!(left.len(), 1, "fail-1 stays dead: {left:?}");
    let (ok, out, _) = events(&manifest, &["dlq", "purge"]);
    assert!(ok);
    assert!(
        out.starts_with("1 dead letter(s) purged, 1 message(s)"),
        "{out}"
    );
    assert!(dead_letters(&manifest).is_empty());
}

#[test]
fn sigkill_mid_delivery_loses_nothing_accepted_and_repeats_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "concurrency = 2");
    let feed = dir.path().join("feed.ndjson");
    let lines: Vec<String> = (0..300).map(|i| format!("sleep:10:m{i}")).collect();
    std::fs::write(&feed, lines.join("\n")).expect("feed");
    let host = HostBuilder::manifest(manifest.clone()).start();
    let (ok, out, err) = events(
        &manifest,
        &["publish", "v3", "--ndjson", feed.to_str().expect("utf-8")],
    );
    assert!(
        ok && out.starts_with("published 300 messages"),
        "{out}{err}"
    );
    wait_until("some deliveries", || seen(&manifest).len(), |n| *n >= 30);
    drop(host); // SIGKILL

    let before = seen(&manifest);
    let broker = rusqlite::Connection::open(dir.path().join(".cloudfn/data/events.db"))
        .expect("broker file");
    let pending: Vec<String> = broker
        .prepare("SELECT payload FROM cloudfn_event_message")
        .expect("select")
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|p| {
            let text = String::from_utf8(p.expect("row")).expect("utf-8");
            text.rsplit(':').next().expect("key").to_owned()
        })
        .collect();
    drop(broker);
    let acknowledged: Vec<String> = (0..300)
        .map(|i| format!("m{i}"))
        .filter(|k| !pending.contains(k))
        .collect();
    assert!(
        !pending.is_empty() && !acknowledged.is_empty(),
        "killed mid-way: {} pending",
        pending.len()
    );
    for key in &acknowledged {
        assert_eq!(
            before.get(key),
            Some(&1),
            "{key} was acknowledged, so handled once"
        );
    }

    let _host = HostBuilder::manifest(manifest.clone()).start();
    let after = wait_until("the rest delivered", || seen(&manifest), |c| c.len() == 300);
    for key in &acknowledged {
        assert_eq!(
            after.get(key),
            Some(&1),
            "{key} was acknowledged before the kill: not delivered again"
        );
    }
    let repeated = pending.iter().filter(|k| after.get(*k) > Some(&1)).count();
    eprintln!(
        "{} pending at the kill, {repeated} of them handled twice (at least once)",
        pending.len()
    );
}

/// The `in flight` column of `cloudfn events stats` for `component` on `channel`.
fn in_flight(manifest: &Path, channel: &str, component: &str) -> u64 {
    let (ok, out, err) = events(manifest, &["stats"]);
    assert!(ok, "stats failed: {err}");
    out.lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|row| row.len() == 8 && row[0] == channel && row[1] == component)
        .map_or(0, |row| row[4].parse().expect("a count"))
}

#[test]
fn sigterm_lets_a_running_delivery_finish_and_acknowledges_it_once() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    // Publishes `payload`, sends SIGTERM while its delivery runs, and
    // checks that the host exits 0 within `within`.
    let terminate_mid_delivery = |host: &mut Host, payload: &str, within: u64| {
        publish(&manifest, "v2", payload);
        wait_until(
            "the delivery under way",
            || in_flight(&manifest, "v2", "v2"),
            |n| *n == 1,
        );
        host.signal("TERM");
        let status = host
            .wait_exit(Duration::from_secs(within))
            .unwrap_or_else(|| panic!("no exit within {within} s"));
        assert_eq!(status.code(), Some(0), "{}", host.log_text());
    };
    let mut host = HostBuilder::manifest(manifest.clone()).start();
    terminate_mid_delivery(&mut host, "sleep:1500:drained", 10);
    let log = host.log_text();
    assert!(
        log.contains("component=\"v2\" attempt=1 outcome=handled")
            && log.contains("shut down: every request and delivery under way finished"),
        "{log}"
    );
    assert_eq!(seen(&manifest).get("drained"), Some(&1));
    // Acknowledged before the exit: a new host has nothing to deliver.
    assert_eq!(in_flight(&manifest, "v2", "v2"), 0);
    let (_, stats, _) = events(&manifest, &["stats"]);
    assert!(stats.starts_with("0 messages"), "{stats}");

    // A delivery the drain deadline cuts short is not lost: the next host
    // delivers it again (at least once).
    let mut host = HostBuilder::manifest(manifest.clone())
        .arg("--shutdown-timeout")
        .arg("300ms")
        .start();
    terminate_mid_delivery(&mut host, "sleep:5000:cut", 4);
    assert_eq!(seen(&manifest).get("cut"), None);
    let _host = HostBuilder::manifest(manifest.clone()).start();
    wait_until(
        "the cut delivery, again",
        || seen(&manifest),
        |c| c.get("cut") == Some(&1),
    );
}

#[test]
fn a_full_queue_refuses_new_messages_naming_its_limit() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "max_depth = 2");
    // A host declares the subscriptions, then stops: nothing consumes.
    drop(HostBuilder::manifest(manifest.clone()).start());
    publish(&manifest, "v2", "one");
    publish(&manifest, "v2", "two");
    let (ok, _, err) = events(&manifest, &["publish", "v2", "--data", "three"]);
    assert!(!ok);
    assert!(
        err.contains(
            "the event queue is full: it holds 2 messages (6 bytes) and may hold 2 messages"
        ),
        "{err}"
    );
    let _host = HostBuilder::manifest(manifest.clone()).start();
    wait_until("drained", || seen(&manifest), |c| c.len() == 2);
    publish(&manifest, "v2", "three");
}

/// Regression: a consumer looping in guest code held the host past its
/// `--shutdown-timeout`, for good.
#[test]
fn regression_sigterm_ends_the_host_while_a_consumer_loops() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let mut host = HostBuilder::manifest(manifest.clone())
        .arg("--shutdown-timeout")
        .arg("1s")
        .start();
    publish(&manifest, "v2", "spin-forever");
    wait_until(
        "the delivery under way",
        || in_flight(&manifest, "v2", "v2"),
        |n| *n == 1,
    );
    let started = std::time::Instant::now();
    host.signal("TERM");
    let status = host
        .wait_exit(Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no exit within 3 s: {}", host.log_text()));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(status.code(), Some(0), "{}", host.log_text());
    let log = host.log_text();
    assert!(
        log.contains("instances=1 of `v2`")
            && log.contains("the host is shutting down and its --shutdown-timeout has passed"),
        "{log}"
    );
}

#[test]
fn one_host_delivers_from_a_data_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let _host = HostBuilder::manifest(manifest.clone()).start();
    let err = up_refused(&manifest, &[]);
    assert!(
        err.contains("another `cloudfn up` is delivering the events of"),
        "{err}"
    );
}

#[test]
fn a_component_without_a_redis_export_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let text = text.replacen(
        &fixture_wasm("redis_v3").display().to_string(),
        &fixture_wasm("hello_p2").display().to_string(),
        1,
    );
    std::fs::write(&manifest, text).expect("write");
    let err = up_refused(&manifest, &[]);
    assert!(
        err.contains(
            "component `v3` is subscribed to channel `both` but does not export a Redis interface"
        ) || err.contains(
            "component `v3` is subscribed to channel `v3` but does not export a Redis interface"
        ),
        "{err}"
    );
}

/// The events app served by `cloudfn up --redis` from a real redis-server.
struct RedisMode {
    host: Host,
    server: Server,
    url: String,
    manifest: PathBuf,
    dir: tempfile::TempDir,
}

impl RedisMode {
    fn start() -> Self {
        let server = redis();
        let url = format!("redis://127.0.0.1:{}", server.port);
        let dir = tempfile::tempdir().expect("dir");
        let manifest = app(dir.path(), "");
        let host = HostBuilder::manifest(manifest.clone())
            .arg("--redis")
            .arg(&url)
            .start();
        Self {
            host,
            server,
            url,
            manifest,
            dir,
        }
    }

    /// `cloudfn events --redis URL publish CHANNEL --data DATA`, which must
    /// succeed; its output.
    fn publish(&self, channel: &str, data: &str) -> String {
        let (ok, out, err) = events(
            &self.manifest,
            &["--redis", &self.url, "publish", channel, "--data", data],
        );
        assert!(ok, "{out}{err}");
        out
    }
}

#[test]
fn redis_mode_delivers_through_a_real_server_at_most_once() {
    let redis = RedisMode::start();
    assert!(redis.publish("v2", "real-v2").contains("1 receptions"));
    redis.publish("v3", "real-v3");
    redis.publish("v2", "publish:both:real-chained");
    wait_until(
        "deliveries",
        || seen(&redis.manifest),
        |c| {
            c.get("real-chained") == Some(&2)
                && c.contains_key("real-v2")
                && c.contains_key("real-v3")
        },
    );
    redis.publish("v3", "fail-once");
    redis.host.wait_for_log(|l| {
        l.contains("cloudfn::event") && l.contains("outcome=failed, not retried")
    });
    assert!(
        !redis.dir.path().join(".cloudfn/data/events.db").exists(),
        "no embedded broker in Redis mode"
    );
}

#[test]
fn redis_mode_sigterm_lets_a_running_delivery_finish() {
    // Redis gave the message away when the host read it: a stop must let
    // its delivery finish, or it is lost.
    let mut redis = RedisMode::start();
    let out = redis.publish("v2", "sleep:3000:drained");
    assert!(out.contains("1 receptions"), "{out}");
    // Redis mode logs a delivery only when it ends; the host reads a
    // message within milliseconds, so a second in, it is under way.
    std::thread::sleep(Duration::from_secs(1));
    redis.host.signal("TERM");
    let status = redis
        .host
        .wait_exit(Duration::from_secs(10))
        .expect("no exit within 10 s");
    let log = redis.host.log_text();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("component=\"v2\" attempt=1 outcome=handled")
            && log.contains("shut down: every request and delivery under way finished"),
        "{log}"
    );
    assert_eq!(seen(&redis.manifest).get("drained"), Some(&1));
}

#[test]
fn redis_mode_a_lost_connection_ends_the_host_naming_the_server() {
    let mut redis = RedisMode::start();
    drop(redis.server);
    let status = redis
        .host
        .wait_exit(Duration::from_secs(10))
        .expect("no exit within 10 s of the server's end");
    let log = redis.host.log_text();
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "Redis trigger lost its connection to {}",
            redis.url
        )),
        "{log}"
    );
}

#[test]
fn an_unreachable_redis_server_fails_the_start_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let url = format!("redis://127.0.0.1:{}", free_port());
    let err = up_refused(&manifest, &["--redis", &url]);
    assert!(
        err.contains(&format!("Redis trigger failed to connect to {url}")),
        "{err}"
    );
}

/// Seconds since midnight of a log line's timestamp (`…T06:08:04.189240Z`).
fn log_time(line: &str) -> f64 {
    let time = line
        .split_whitespace()
        .next()
        .and_then(|t| t.split_once('T'))
        .map(|(_, t)| t.trim_end_matches('Z'))
        .expect("a timestamp");
    time.split(':')
        .map(|p| p.parse::<f64>().expect("a number"))
        .fold(0.0, |acc, p| acc * 60.0 + p)
}

/// Adds `[component.ID.tool.cloudfn.events] concurrency = N` to `manifest`.
fn with_concurrency(manifest: &Path, id: &str, n: usize) {
    let mut text = std::fs::read_to_string(manifest).expect("read");
    text.push_str(&format!(
        "\n[component.{id}.tool.cloudfn.events]\nconcurrency = {n}\n"
    ));
    std::fs::write(manifest, text).expect("write");
}

#[test]
fn a_consumer_limited_to_one_delivery_at_a_time_never_overlaps() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    with_concurrency(&manifest, "v3", 1);
    with_concurrency(&manifest, "v2", 8);
    let host = HostBuilder::manifest(manifest.clone()).start();
    let feed = dir.path().join("feed.ndjson");
    let lines: Vec<String> = (0..6).map(|i| format!("sleep:100:one-{i}")).collect();
    std::fs::write(&feed, lines.join("\n")).expect("feed");
    let (ok, out, err) = events(
        &manifest,
        &["publish", "both", "--ndjson", feed.to_str().expect("utf-8")],
    );
    assert!(ok, "{out}{err}");
    wait_until(
        "deliveries",
        || seen(&manifest),
        |c| c.len() == 6 && c.values().all(|n| *n == 2),
    );
    let spans = |component: &str| -> Vec<(f64, f64)> {
        let needle = format!("component=\"{component}\"");
        let log = host.log_text();
        let mut spans: Vec<(f64, f64)> = log
            .lines()
            .filter(|l| l.contains("cloudfn::event") && l.contains(&needle))
            .map(|l| {
                let end = log_time(l);
                (end - log_duration_ms(l) / 1000.0, end)
            })
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        spans
    };
    let one = spans("v3");
    assert_eq!(one.len(), 6);
    for pair in one.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1 - 0.002,
            "v3 deliveries overlap: {pair:?}"
        );
    }
    // The consumer that opted in to 8 at once ran its deliveries together
    // (and did not wait for v3, which is in order).
    let many = spans("v2");
    let overlap = many
        .iter()
        .map(|(start, _)| many.iter().filter(|(s, e)| s <= start && start < e).count())
        .max()
        .unwrap_or(0);
    assert!(overlap >= 3, "v2 ran at most {overlap} at once: {many:?}");
    let busy = many.last().expect("spans").1 - many[0].0;
    assert!(
        busy < 0.4,
        "6 deliveries of 100 ms, 8 at once, took {busy:.3} s"
    );
}

/// The counter `count:NAME` and the order of its increments, as the
/// consumers' `count:NAME:N` messages left them in the key-value store.
fn counted(manifest: &Path, name: &str) -> (u64, Vec<u64>) {
    let file = manifest.with_file_name(".cloudfn/data/sqlite_key_value.db");
    let Ok(db) = rusqlite::Connection::open(&file) else {
        return (0, Vec::new());
    };
    let value = |key: String| -> Option<String> {
        db.query_row(
            "SELECT value FROM spin_key_value WHERE key = ?1",
            [key],
            |row| row.get::<_, Vec<u8>>(0),
        )
        .ok()
        .map(|v| String::from_utf8(v).expect("utf-8"))
    };
    let count = value(format!("count:{name}")).map_or(0, |v| v.parse().expect("a count"));
    let order = value(format!("order:{name}")).map_or_else(Vec::new, |v| {
        v.split(',').map(|n| n.parse().expect("a number")).collect()
    });
    (count, order)
}

/// Messages each SDK's counter gets in the order tests.
const COUNTED: u64 = 1000;

/// Has each SDK's consumer count [`COUNTED`] messages a guest publishes one
/// after another (`v3` publishes `v2`'s, `v2` publishes `v3`'s), then
/// checks that no update was lost and each saw them in publish order.
fn count_in_order(manifest: &Path, publish: impl Fn(&str, &str)) {
    publish("v3", &format!("publish-count:v2:v2:{COUNTED}"));
    publish("v2", &format!("publish-count:v3:v3:{COUNTED}"));
    let expected: Vec<u64> = (1..=COUNTED).collect();
    for name in ["v2", "v3"] {
        let (count, order) = wait_until(
            &format!("{name}'s {COUNTED} increments"),
            || counted(manifest, name),
            |(count, order)| *count >= COUNTED && order.len() as u64 >= COUNTED,
        );
        assert_eq!(count, COUNTED, "{name}: updates lost or repeated");
        assert!(
            order == expected,
            "{name} handled them out of order: {order:?}"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    for name in ["v2", "v3"] {
        assert_eq!(
            counted(manifest, name).0,
            COUNTED,
            "{name}: counted again later"
        );
    }
}

/// Regression: deliveries ran at once, so a Spin app's `get` then `set`
/// counter lost updates (195 of 200) and saw message 2 before message 1.
/// Spin delivers one message at a time, in order
/// (`crates/trigger-redis/src/lib.rs`).
#[test]
fn regression_deliveries_follow_spins_order_on_the_embedded_broker() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let host = HostBuilder::manifest(manifest.clone()).start();
    count_in_order(&manifest, |channel, data| publish(&manifest, channel, data));
    // The log line says how each delivery was scheduled.
    let log = host.log_text();
    assert!(
        log.contains("channel=\"v2\" order=fifo component=\"v2\" attempt=1 outcome=handled"),
        "{log}"
    );
    let (ok, stats, err) = events(&manifest, &["stats"]);
    assert!(ok, "{err}");
    assert!(
        stats.starts_with("0 messages") && stats.contains("\tfifo\t-"),
        "{stats}"
    );
}

#[test]
fn regression_deliveries_follow_spins_order_on_a_real_redis_server() {
    let redis = RedisMode::start();
    count_in_order(&redis.manifest, |channel, data| {
        redis.publish(channel, data);
    });
}

#[test]
fn a_retry_holds_back_the_messages_after_it_and_stats_show_the_head() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "attempts = 2\nbackoff = \"1500ms\"");
    let _host = HostBuilder::manifest(manifest.clone()).start();
    publish(&manifest, "v2", "fail-first");
    publish(&manifest, "v3", "after-the-failure");
    // fail-first waits for its retry: the message after it waits too.
    let (ok, stats, err) = wait_until(
        "the retry under way",
        || events(&manifest, &["stats"]),
        |(_, out, _)| {
            out.contains("\tfifo\t")
                && out.contains("(attempts 1, last error: the handler returned `error`)")
        },
    );
    assert!(ok, "{err}");
    assert!(
        !seen(&manifest).contains_key("after-the-failure"),
        "{stats}"
    );
    let head = stats
        .lines()
        .find(|l| l.starts_with("v2\tv2\t"))
        .expect("v2's row");
    assert!(
        head.contains("\t0\t1\t0\t0\tfifo\t1 (attempts 1"),
        "{stats}"
    );
    // Dead-lettered after its second attempt; then the next one goes.
    wait_until(
        "the next message",
        || seen(&manifest),
        |c| c.contains_key("after-the-failure"),
    );
    assert_eq!(dead_letters(&manifest).len(), 1);
}

#[test]
fn regression_an_idle_dispatcher_sleeps_instead_of_spinning() {
    // Its own empty claims woke it again at once: 95% of a core, idle.
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "");
    let host = HostBuilder::manifest(manifest.clone()).start();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_seconds(host.pid());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_seconds(host.pid()) - before;
    assert!(used < 0.5, "an idle host used {used:.2} s of CPU in 2 s");
    // And it still wakes for a publish.
    publish(&manifest, "v2", "after-idle");
    wait_until(
        "delivered",
        || seen(&manifest),
        |c| c.contains_key("after-idle"),
    );
}
