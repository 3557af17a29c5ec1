//! Outbound MySQL: `fermyon:spin/mysql@2.0.0` (spin-sdk 5.2) and
//! `spin:mysql/mysql@3.0.0` (spin-sdk 7, async) against a real MariaDB
//! server, typed columns included, allowed only by `allowed_outbound_hosts`.

use super::{SDKS, manifest_with};
use crate::common::{Host, HostBuilder};
use crate::servers::mariadb;
use serde_json::{Value, json};

fn host_allowing(dir: &std::path::Path, address: &str, allowed: &str) -> Host {
    let manifest = manifest_with(
        dir,
        &format!("mysql_address = {{ default = {address:?} }}"),
        &format!(
            "allowed_outbound_hosts = [{allowed:?}]\nvariables = {{ mysql_address = \"{{{{ mysql_address }}}}\" }}"
        ),
    );
    HostBuilder::manifest(manifest).start()
}

fn mysql(host: &Host, sdk: &str, sql: &str, params: Value, execute: bool) -> (u16, Value) {
    let body = json!({"sql": sql, "params": params, "execute": execute}).to_string();
    let reply = host.post(&format!("{sdk}/mysql"), body.as_bytes());
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, value)
}

#[test]
fn mysql_typed_columns_in_both_sdks_against_a_real_server() {
    let server = mariadb();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(
        dir.path(),
        &server.address,
        &format!("mysql://127.0.0.1:{}", server.server.port),
    );
    let (status, created) = mysql(
        &host,
        "/v2",
        "CREATE TABLE typed (id INT PRIMARY KEY, tiny TINYINT, utiny TINYINT UNSIGNED, small SMALLINT,
            usmall SMALLINT UNSIGNED, uint INT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED, ratio FLOAT,
            exact DOUBLE, name VARCHAR(64), body TEXT, raw VARBINARY(16), data BLOB, nothing TEXT)",
        json!([]),
        true,
    );
    assert_eq!((status, created), (200, json!({"changed": null})));
    let row = |id: i64| {
        json!([
            {"int32": id}, {"int8": -8}, {"uint8": 200}, {"int16": -300}, {"uint16": 60000},
            {"uint32": 4_000_000_000u64}, {"int64": -9_000_000_000i64}, {"uint64": 18_000_000_000_000_000_000u64},
            {"floating32": 0.5}, {"floating64": 0.25}, {"str": "O'Brien; DROP TABLE typed"}, {"str": "héllo"},
            {"binary": "raw"}, {"binary": "blob"}, "null"
        ])
    };
    let insert = "INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    for (sdk, id) in [("/v2", 1), ("/v3", 2)] {
        let (status, inserted) = mysql(&host, sdk, insert, row(id), true);
        assert_eq!((status, inserted), (200, json!({"changed": null})), "{sdk}");
    }
    let expected_types = json!([
        ["id", "DbDataType::Int32"],
        ["tiny", "DbDataType::Int8"],
        ["utiny", "DbDataType::Uint8"],
        ["small", "DbDataType::Int16"],
        ["usmall", "DbDataType::Uint16"],
        ["uint", "DbDataType::Uint32"],
        ["big", "DbDataType::Int64"],
        ["ubig", "DbDataType::Uint64"],
        ["ratio", "DbDataType::Floating32"],
        ["exact", "DbDataType::Floating64"],
        ["name", "DbDataType::Str"],
        ["body", "DbDataType::Str"],
        ["raw", "DbDataType::Binary"],
        ["data", "DbDataType::Binary"],
        ["nothing", "DbDataType::Str"]
    ]);
    for sdk in SDKS {
        for id in [1, 2] {
            let (status, result) = mysql(
                &host,
                sdk,
                "SELECT * FROM typed WHERE id = ?",
                json!([{"int32": id}]),
                false,
            );
            assert_eq!(status, 200, "{sdk}: {result}");
            assert_eq!(result["columns"], expected_types, "{sdk}");
            let values: Vec<String> =
                serde_json::from_value(result["rows"][0].clone()).expect("one row");
            let expected = [
                format!("DbValue::Int32({id})"),
                "DbValue::Int8(-8)".into(),
                "DbValue::Uint8(200)".into(),
                "DbValue::Int16(-300)".into(),
                "DbValue::Uint16(60000)".into(),
                "DbValue::Uint32(4000000000)".into(),
                "DbValue::Int64(-9000000000)".into(),
                "DbValue::Uint64(18000000000000000000)".into(),
                "DbValue::Floating32(0.5)".into(),
                "DbValue::Floating64(0.25)".into(),
                "DbValue::Str(\"O'Brien; DROP TABLE typed\")".into(),
                "DbValue::Str(\"héllo\")".into(),
                "DbValue::Binary([114, 97, 119])".into(),
                "DbValue::Binary([98, 108, 111, 98])".into(),
                "DbValue::DbNull".into(),
            ];
            assert_eq!(values, expected, "{sdk} row {id}");
        }
        // A type the interface lacks is Spin's conversion error: cast it in SQL.
        let (status, error) = mysql(
            &host,
            sdk,
            "SELECT CAST(1.5 AS DECIMAL(4,2))",
            json!([]),
            false,
        );
        assert_eq!(status, 409, "{sdk}");
        assert!(
            error
                .as_str()
                .is_some_and(|e| e.contains("ValueConversionFailed(")
                    && e.contains("data type DbDataType::Other")),
            "{sdk}: {error}"
        );
        // A bad statement: the server's code, state and message.
        let (status, error) = mysql(&host, sdk, "SELECT * FROM missing", json!([]), false);
        assert_eq!(status, 409, "{sdk}");
        let error = error.as_str().unwrap_or_default().to_owned();
        assert!(
            error.contains("QueryFailed(")
                && error.contains("code: 1146")
                && error.contains("doesn't exist"),
            "{sdk}: {error}"
        );
        // A duplicate key is the server's error too, and the row is unchanged.
        let (status, error) = mysql(&host, sdk, insert, row(1), true);
        assert_eq!(status, 409, "{sdk}");
        assert!(
            error.as_str().is_some_and(|e| e.contains("code: 1062")),
            "{sdk}: {error}"
        );
    }
    let (_, count) = mysql(
        &host,
        "/v3",
        "SELECT COUNT(*) AS n FROM typed",
        json!([]),
        false,
    );
    assert_eq!(count["rows"], json!([["DbValue::Int64(2)"]]));
}

#[test]
fn mysql_is_refused_without_an_allowed_address_and_on_bad_credentials() {
    let server = mariadb();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(dir.path(), &server.address, "mysql://db.example.com");
    let refused = format!(
        "Error::ConnectionFailed(\"address {} is not permitted\")",
        server.address
    );
    // spin-sdk 7 wraps the interface's error in its own `Error::MysqlError`.
    for (sdk, expected) in [
        ("/v2", refused.clone()),
        ("/v3", format!("MysqlError({refused})")),
    ] {
        let (status, error) = mysql(&host, sdk, "SELECT 1", json!([]), false);
        assert_eq!((status, error), (409, json!(expected)), "{sdk}");
    }
    drop(host);

    // Granted, but the server refuses the user: the driver's words.
    let port = server.server.port;
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(
        dir.path(),
        &format!("mysql://nobody:wrong@127.0.0.1:{port}/cloudfn"),
        &format!("mysql://127.0.0.1:{port}"),
    );
    for sdk in SDKS {
        let (status, error) = mysql(&host, sdk, "SELECT 1", json!([]), false);
        assert_eq!(status, 409, "{sdk}");
        assert!(
            error.as_str().is_some_and(
                |e| e.contains("ConnectionFailed(") && e.contains("Access denied for user")
            ),
            "{sdk}: {error}"
        );
    }
}
