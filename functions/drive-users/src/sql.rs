//! The credentials database as the users code sees it: statements with `?`
//! parameters and rows of four kinds of value, over Spin's SQLite
//! (`fermyon:spin/sqlite@2.0.0`) or MySQL (`fermyon:spin/mysql@2.0.0`) in a
//! component, and over `rusqlite` in the native tests.

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// Any integer column.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The integer, if this is one (or text of one: MySQL may type an
    /// expression over a parameter as text).
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Blob(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            Value::Null => None,
        }
    }

    /// The text, if this is some. Spin's MySQL reports a column with a
    /// binary collation (the tables here use `utf8mb4_bin`) as bytes, so
    /// UTF-8 bytes are text too.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Blob(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// MySQL 8 or MariaDB 10.5+.
    Mysql,
}

/// A database error, with whether it was a unique-key violation (a
/// duplicate username, a second migration racing the first).
#[derive(Debug, Clone, thiserror::Error)]
#[error("database: {message}")]
pub struct DbError {
    /// The database's words.
    pub message: String,
    /// A `UNIQUE`/`PRIMARY KEY` violation.
    pub duplicate: bool,
}

impl DbError {
    /// An error from the database's message, recognizing duplicates by
    /// SQLite's and MySQL's wording.
    pub fn new(message: impl Into<String>) -> Self {
        let message = message.into();
        let duplicate = message.contains("UNIQUE constraint failed")
            || message.contains("code: 1062")
            || message.contains("Duplicate entry");
        Self { message, duplicate }
    }
}

/// One connection to the credentials database.
pub trait Sql {
    /// The SQL it speaks.
    fn dialect(&self) -> Dialect;
    /// Runs a statement; how many rows it changed.
    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; its rows.
    fn query(&self, statement: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError>;
}

/// The native tests' database: an in-memory or file SQLite.
#[cfg(all(test, not(target_family = "wasm")))]
pub mod testing {
    use super::*;

    impl Sql for rusqlite::Connection {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }

        fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, DbError> {
            let params = params.iter().map(to_sqlite).collect::<Vec<_>>();
            rusqlite::Connection::execute(self, statement, rusqlite::params_from_iter(params))
                .map(|n| n as u64)
                .map_err(|e| DbError::new(e.to_string()))
        }

        fn query(&self, statement: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
            let params = params.iter().map(to_sqlite).collect::<Vec<_>>();
            let mut stmt = self
                .prepare(statement)
                .map_err(|e| DbError::new(e.to_string()))?;
            let n = stmt.column_count();
            stmt.query_map(rusqlite::params_from_iter(params), |row| {
                (0..n)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                            rusqlite::types::ValueRef::Real(f) => Value::Int(f as i64),
                            rusqlite::types::ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        })
                    })
                    .collect()
            })
            .and_then(Iterator::collect)
            .map_err(|e| DbError::new(e.to_string()))
        }
    }

    fn to_sqlite(v: &Value) -> rusqlite::types::Value {
        match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
            Value::Blob(b) => rusqlite::types::Value::Blob(b.clone()),
        }
    }
}
