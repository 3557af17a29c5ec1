//! The credentials database and settings in a component: Spin's SQLite
//! (`fermyon:spin/sqlite@2.0.0`, the database `default`) unless the
//! component's variable `database` names a `mysql://` URL, then Spin's
//! MySQL (`fermyon:spin/mysql@2.0.0`); the schema is migrated when a
//! statement first finds it behind.

use crate::schema::Migrating;
use crate::sql::{DbError, Dialect, Sql, Value};
use crate::users::Settings;

wit_bindgen::generate!({
    path: ["../../wit/platform", "../../wit/drive"],
    world: "cloudfn:drive/users-db",
    generate_all,
});

use fermyon::spin::{mysql, rdbms_types as rdbms, sqlite, variables};

/// A Spin variable of the component, if it has a value.
pub fn variable(name: &str) -> Option<String> {
    variables::get(name).ok().filter(|v| !v.trim().is_empty())
}

fn number(name: &str, default: i64) -> Result<i64, String> {
    match variable(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("variable {name} = `{v}` is not a whole number")),
    }
}

/// The settings from the component's variables (`session_max_age`,
/// `quota_bytes`, `throttle_window`), defaults for those it lacks.
pub fn settings() -> Result<Settings, String> {
    let d = Settings::default();
    Ok(Settings {
        session_max_age: number("session_max_age", d.session_max_age)?,
        default_quota: number("quota_bytes", d.default_quota)?,
        throttle_window: number("throttle_window", d.throttle_window)?,
        ..d
    })
}

struct Sqlite(sqlite::Connection);

impl Sql for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, DbError> {
        self.query(statement, params)?;
        let rows = self.query("SELECT changes()", &[])?;
        Ok(rows.first().and_then(|r| r.first()?.int()).unwrap_or(0) as u64)
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        let params: Vec<sqlite::Value> = params
            .iter()
            .map(|p| match p {
                Value::Null => sqlite::Value::Null,
                Value::Int(i) => sqlite::Value::Integer(*i),
                Value::Text(s) => sqlite::Value::Text(s.clone()),
                Value::Blob(b) => sqlite::Value::Blob(b.clone()),
            })
            .collect();
        let result = self
            .0
            .execute(statement, &params)
            .map_err(|e| DbError::new(format!("{e:?}")))?;
        Ok(result
            .rows
            .into_iter()
            .map(|r| {
                r.values
                    .into_iter()
                    .map(|v| match v {
                        sqlite::Value::Null => Value::Null,
                        sqlite::Value::Integer(i) => Value::Int(i),
                        sqlite::Value::Real(f) => Value::Int(f as i64),
                        sqlite::Value::Text(s) => Value::Text(s),
                        sqlite::Value::Blob(b) => Value::Blob(b),
                    })
                    .collect()
            })
            .collect())
    }
}

struct Mysql(mysql::Connection);

fn mysql_params(params: &[Value]) -> Vec<rdbms::ParameterValue> {
    params
        .iter()
        .map(|p| match p {
            Value::Null => rdbms::ParameterValue::DbNull,
            Value::Int(i) => rdbms::ParameterValue::Int64(*i),
            Value::Text(s) => rdbms::ParameterValue::Str(s.clone()),
            Value::Blob(b) => rdbms::ParameterValue::Binary(b.clone()),
        })
        .collect()
}

impl Sql for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, DbError> {
        self.0
            .execute(statement, &mysql_params(params))
            .map_err(|e| DbError::new(format!("{e:?}")))?;
        let rows = self.query("SELECT ROW_COUNT()", &[])?;
        Ok(rows
            .first()
            .and_then(|r| r.first()?.int())
            .unwrap_or(0)
            .max(0) as u64)
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        let set = self
            .0
            .query(statement, &mysql_params(params))
            .map_err(|e| DbError::new(format!("{e:?}")))?;
        use rdbms::DbValue as V;
        Ok(set
            .rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| match v {
                        V::Boolean(b) => Value::Int(i64::from(b)),
                        V::Int8(i) => Value::Int(i.into()),
                        V::Int16(i) => Value::Int(i.into()),
                        V::Int32(i) => Value::Int(i.into()),
                        V::Int64(i) => Value::Int(i),
                        V::Uint8(i) => Value::Int(i.into()),
                        V::Uint16(i) => Value::Int(i.into()),
                        V::Uint32(i) => Value::Int(i.into()),
                        V::Uint64(i) => Value::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                        V::Floating32(f) => Value::Int(f as i64),
                        V::Floating64(f) => Value::Int(f as i64),
                        V::Str(s) => Value::Text(s),
                        V::Binary(b) => Value::Blob(b),
                        V::DbNull | V::Unsupported => Value::Null,
                    })
                    .collect()
            })
            .collect())
    }
}

/// Opens the credentials database the variable `database` names (a
/// `mysql://` URL, else Spin's SQLite `default`), migrated when first
/// needed ([`Migrating`]).
pub fn open() -> Result<Box<dyn Sql>, String> {
    let db: Box<dyn Sql> = match variable("database") {
        Some(url) if url.starts_with("mysql://") => Box::new(Migrating::new(Mysql(
            mysql::Connection::open(&url)
                .map_err(|e| format!("the credentials database (MySQL): {e:?}"))?,
        ))),
        _ => Box::new(Migrating::new(Sqlite(
            sqlite::Connection::open("default")
                .map_err(|e| format!("the credentials database (SQLite `default`): {e:?}"))?,
        ))),
    };
    Ok(db)
}
