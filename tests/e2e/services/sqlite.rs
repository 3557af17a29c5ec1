//! SQLite: `fermyon:spin/sqlite@2.0.0` and `spin:sqlite@3.1.0`, parameters,
//! SQLite's errors, grants, concurrency and the runtime config file.

use super::{SDKS, host, manifest_with};
use crate::common::{Host, HostBuilder};
use serde_json::{Value, json};

fn sql(host: &Host, path: &str, statement: &str, params: Value) -> (u16, String) {
    let body = json!({"sql": statement, "params": params}).to_string();
    let reply = host.post(path, body.as_bytes());
    (reply.status, reply.body)
}

#[test]
fn sqlite_statements_with_bound_parameters_in_both_sdks() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    for sdk in SDKS {
        let db = format!("{sdk}/sqlite/default");
        let table = format!("people_{}", &sdk[1..]);
        let (status, body) = sql(
            &host,
            &db,
            &format!(
                "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT)"
            ),
            json!([]),
        );
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"columns":[],"rows":[]}"#),
            "{sdk}"
        );
        // A value that would break an interpolated statement is stored as it is.
        let hostile = "Robert'); DROP TABLE people; --";
        let (status, body) = sql(
            &host,
            &db,
            &format!("INSERT INTO {table} (name, score, note) VALUES (?1, ?2, ?3)"),
            json!([hostile, 1.5, null]),
        );
        assert_eq!(status, 200, "{sdk}: {body}");
        sql(
            &host,
            &db,
            &format!("INSERT INTO {table} (name, score) VALUES (?1, ?2)"),
            json!(["ada", 3]),
        );
        let (status, body) = sql(
            &host,
            &db,
            &format!("SELECT id, name, score, note FROM {table} WHERE score > ?1 ORDER BY id"),
            json!([1]),
        );
        assert_eq!(status, 200, "{sdk}: {body}");
        let result: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            result["columns"],
            json!(["id", "name", "score", "note"]),
            "{sdk}"
        );
        // `score` has REAL affinity: the integer 3 comes back as 3.0.
        assert_eq!(
            result["rows"],
            json!([[1, hostile, 1.5, null], [2, "ada", 3.0, null]]),
            "{sdk}"
        );
        let (status, body) = sql(&host, &db, "SELEC 1", json!([]));
        assert_eq!(status, 409, "{sdk}");
        assert!(
            body.starts_with("Error::Io(") && body.contains("syntax error"),
            "{sdk}: {body}"
        );
        let (_, body) = sql(&host, &db, "SELECT * FROM nowhere", json!([]));
        assert!(body.contains("no such table: nowhere"), "{sdk}: {body}");
        let (status, body) = sql(
            &host,
            &format!("{sdk}/sqlite/analytics"),
            "SELECT 1",
            json!([]),
        );
        assert_eq!(
            (status, body.as_str()),
            (409, "Error::AccessDenied"),
            "{sdk}"
        );
    }
    assert!(data.path().join("sqlite_db.db").exists());
}

#[test]
fn sqlite_concurrent_increments_lose_no_update() {
    let data = tempfile::tempdir().expect("data dir");
    let host = host(data.path());
    sql(
        &host,
        "/v2/sqlite/default",
        "CREATE TABLE counter (n INTEGER NOT NULL)",
        json!([]),
    );
    sql(
        &host,
        "/v2/sqlite/default",
        "INSERT INTO counter (n) VALUES (0)",
        json!([]),
    );
    let addr = host.addr;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let path = SDKS[i % 2];
                for _ in 0..25 {
                    let body =
                        json!({"sql": "UPDATE counter SET n = n + 1", "params": []}).to_string();
                    let reply = crate::common::request(
                        addr,
                        "POST",
                        &format!("{path}/sqlite/default"),
                        &[],
                        Some(body.as_bytes()),
                    );
                    assert_eq!(reply.status, 200, "{}", reply.body);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    let (_, body) = sql(
        &host,
        "/v3/sqlite/default",
        "SELECT n FROM counter",
        json!([]),
    );
    assert_eq!(body, r#"{"columns":["n"],"rows":[[200]]}"#);
}

#[test]
fn sqlite_databases_from_the_runtime_config_file() {
    let dir = tempfile::tempdir().expect("dir");
    let manifest = manifest_with(
        dir.path(),
        "",
        "sqlite_databases = [\"default\", \"analytics\"]",
    );
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        "[sqlite_database.analytics]\ntype = \"spin\"\npath = \"db/analytics.db\"\n",
    )
    .expect("config");
    let host = HostBuilder::manifest(manifest)
        .arg("--data-dir")
        .arg(dir.path().join("data").display().to_string())
        .arg("--runtime-config-file")
        .arg(config.display().to_string())
        .start();
    let (status, body) = sql(
        &host,
        "/v3/sqlite/analytics",
        "CREATE TABLE t (x)",
        json!([]),
    );
    assert_eq!(status, 200, "{body}");
    sql(
        &host,
        "/v2/sqlite/analytics",
        "INSERT INTO t VALUES (?1)",
        json!(["kept"]),
    );
    assert_eq!(
        sql(&host, "/v3/sqlite/analytics", "SELECT x FROM t", json!([])).1,
        r#"{"columns":["x"],"rows":[["kept"]]}"#
    );
    let (_, body) = sql(&host, "/v2/sqlite/default", "SELECT x FROM t", json!([]));
    assert!(
        body.contains("no such table: t"),
        "a separate database: {body}"
    );
    assert!(dir.path().join("db/analytics.db").exists());
}
