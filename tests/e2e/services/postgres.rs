//! Outbound PostgreSQL: `fermyon:spin/postgres@2.0.0`, `spin:postgres@4.0.0`
//! (spin-sdk 5.2) and `spin:postgres@4.2.0` (spin-sdk 7, async) against a
//! real PostgreSQL server, typed columns included, allowed only by
//! `allowed_outbound_hosts`.

use super::manifest_with;
use crate::common::{Host, HostBuilder};
use crate::servers::postgres;
use serde_json::{Value, json};

fn host_allowing(dir: &std::path::Path, address: &str, allowed: &str) -> Host {
    let manifest = manifest_with(
        dir,
        &format!("pg_address = {{ default = {address:?} }}"),
        &format!(
            "allowed_outbound_hosts = [{allowed:?}]\nvariables = {{ pg_address = \"{{{{ pg_address }}}}\" }}"
        ),
    );
    HostBuilder::manifest(manifest).start()
}

fn pg(host: &Host, path: &str, sql: &str, params: Value, execute: bool) -> (u16, Value) {
    let body = json!({"sql": sql, "params": params, "execute": execute}).to_string();
    let reply = host.post(path, body.as_bytes());
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, value)
}

#[test]
fn postgres_typed_columns_in_both_sdks_against_a_real_server() {
    let server = postgres();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(
        dir.path(),
        &server.address,
        &format!("postgres://127.0.0.1:{}", server.server.port),
    );
    let (status, created) = pg(
        &host,
        "/v2/pg4",
        "CREATE TABLE typed (id INT PRIMARY KEY, big BIGINT, small SMALLINT, ratio DOUBLE PRECISION, name TEXT,
            data BYTEA, ok BOOLEAN, day DATE, at TIME, local TIMESTAMP, instant TIMESTAMPTZ, key UUID,
            doc JSONB, price NUMERIC(12, 3), span INT4RANGE, band NUMRANGE, ints INT4[], tags TEXT[],
            wait INTERVAL, nothing TEXT)",
        json!([]),
        true,
    );
    assert_eq!((status, created), (200, json!({"changed": 0})));
    let row = |id: i64| {
        json!([
            {"int32": id}, {"int64": 9_000_000_000i64}, {"int16": -7}, {"floating64": 0.25}, {"str": "O'Brien; DROP TABLE typed"},
            {"binary": "raw"}, {"boolean": true}, {"date": [2024, 2, 29]}, {"time": [13, 4, 5, 6000]},
            {"datetime": [2024, 2, 29, 13, 4, 5, 0]}, {"timestamp": 1_700_000_000}, {"uuid": "67e55044-10b1-426f-9247-bb680e5fe0c8"},
            {"jsonb": {"a": [1, 2]}}, {"decimal": "12.5"}, {"range_int32": [[1, "inclusive"], [10, "exclusive"]]},
            {"range_decimal": [null, ["2.5", "inclusive"]]}, {"array_int32": [1, null, 3]}, {"array_str": ["x", null]},
            {"interval": {"micros": 1_500_000, "days": 2, "months": 1}}, "null"
        ])
    };
    let insert = "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";
    for (path, id) in [("/v2/pg4", 1), ("/v3/pg4", 2)] {
        let (status, inserted) = pg(&host, path, insert, row(id), true);
        assert_eq!((status, inserted), (200, json!({"changed": 1})), "{path}");
    }
    let expected_types = json!([
        ["id", "DbDataType::Int32"],
        ["big", "DbDataType::Int64"],
        ["small", "DbDataType::Int16"],
        ["ratio", "DbDataType::Floating64"],
        ["name", "DbDataType::Str"],
        ["data", "DbDataType::Binary"],
        ["ok", "DbDataType::Boolean"],
        ["day", "DbDataType::Date"],
        ["at", "DbDataType::Time"],
        ["local", "DbDataType::Datetime"],
        ["instant", "DbDataType::Timestamp"],
        ["key", "DbDataType::Uuid"],
        ["doc", "DbDataType::Jsonb"],
        ["price", "DbDataType::Decimal"],
        ["span", "DbDataType::RangeInt32"],
        ["band", "DbDataType::RangeDecimal"],
        ["ints", "DbDataType::ArrayInt32"],
        ["tags", "DbDataType::ArrayStr"],
        ["wait", "DbDataType::Interval"],
        ["nothing", "DbDataType::Str"]
    ]);
    for path in ["/v2/pg4", "/v3/pg4"] {
        let (status, result) = pg(
            &host,
            path,
            "SELECT * FROM typed WHERE id = $1",
            json!([{"int32": 2}]),
            false,
        );
        assert_eq!(status, 200, "{path}: {result}");
        assert_eq!(result["columns"], expected_types, "{path}");
        let values: Vec<String> =
            serde_json::from_value(result["rows"][0].clone()).expect("one row");
        let expected = [
            "DbValue::Int32(2)",
            "DbValue::Int64(9000000000)",
            "DbValue::Int16(-7)",
            "DbValue::Floating64(0.25)",
            "DbValue::Str(\"O'Brien; DROP TABLE typed\")",
            "DbValue::Binary([114, 97, 119])",
            "DbValue::Boolean(true)",
            "DbValue::Date((2024, 2, 29))",
            "DbValue::Time((13, 4, 5, 6000))",
            "DbValue::Datetime((2024, 2, 29, 13, 4, 5, 0))",
            "DbValue::Timestamp(1700000000)",
            "DbValue::Uuid(\"67e55044-10b1-426f-9247-bb680e5fe0c8\")",
            "DbValue::Jsonb([123, 34, 97, 34, 58, 91, 49, 44, 50, 93, 125])",
            "DbValue::Decimal(\"12.500\")",
            "DbValue::RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((10, RangeBoundKind::Exclusive))))",
            "DbValue::RangeDecimal((None, Some((\"2.5\", RangeBoundKind::Inclusive))))",
            "DbValue::ArrayInt32([Some(1), None, Some(3)])",
            "DbValue::ArrayStr([Some(\"x\"), None])",
            "DbValue::Interval(Interval { micros: 1500000, days: 2, months: 1 })",
            "DbValue::DbNull",
        ];
        assert_eq!(values, expected, "{path}");
    }
    // fermyon:spin/postgres@2.0.0 sees the basic types and `unsupported` beyond them.
    let (status, result) = pg(
        &host,
        "/v2/pg",
        "SELECT id, name, ok, day FROM typed WHERE id = $1",
        json!([{"int32": 1}]),
        false,
    );
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["columns"],
        json!([
            ["id", "DbDataType::Int32"],
            ["name", "DbDataType::Str"],
            ["ok", "DbDataType::Boolean"],
            ["day", "DbDataType::Other"]
        ])
    );
    assert_eq!(
        result["rows"],
        json!([[
            "DbValue::Int32(1)",
            "DbValue::Str(\"O'Brien; DROP TABLE typed\")",
            "DbValue::Boolean(true)",
            "DbValue::Unsupported"
        ]])
    );
    let (status, unsigned) = pg(&host, "/v2/pg", "SELECT $1", json!([{"uint8": 3}]), false);
    assert_eq!(status, 409);
    assert!(
        unsigned
            .as_str()
            .is_some_and(|s| s.starts_with("Error::BadParameter(")),
        "{unsigned}"
    );

    // A bad statement: the server's code and message.
    for path in ["/v2/pg4", "/v3/pg4"] {
        let (status, error) = pg(&host, path, "SELECT * FROM missing", json!([]), false);
        assert_eq!(status, 409, "{path}");
        let error = error.as_str().unwrap_or_default().to_owned();
        assert!(
            error.contains("code: \"42P01\"")
                && error.contains("relation \\\"missing\\\" does not exist"),
            "{path}: {error}"
        );
    }
    let (_, error) = pg(&host, "/v2/pg", "SELECT * FROM missing", json!([]), false);
    assert!(
        error
            .as_str()
            .is_some_and(|e| e.starts_with("Error::QueryFailed(\"ERROR: relation")),
        "{error}"
    );
}

#[test]
fn postgres_is_refused_without_an_allowed_address() {
    let server = postgres();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(dir.path(), &server.address, "postgres://db.example.com");
    let port = server.server.port;
    let refused = format!(
        "Error::ConnectionFailed(\"address postgres://127.0.0.1:{port} is not permitted\")"
    );
    // spin-sdk 7 wraps the interface's error in its own `Error::PgError`.
    for (path, expected) in [
        ("/v2/pg4", refused.clone()),
        ("/v3/pg4", format!("PgError({refused})")),
    ] {
        let (status, error) = pg(&host, path, "SELECT 1", json!([]), false);
        assert_eq!((status, error), (409, json!(expected)), "{path}");
    }
    let (_, error) = pg(&host, "/v2/pg", "SELECT 1", json!([]), false);
    assert!(
        error
            .as_str()
            .is_some_and(|e| e.contains("is not permitted")),
        "{error}"
    );
}
