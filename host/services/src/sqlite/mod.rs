//! SQLite databases, as Spin provides them: `fermyon:spin/sqlite@2.0.0`
//! (spin-sdk 5) and `spin:sqlite/sqlite@3.1.0` (spin-sdk 6+).
//!
//! A component may open the labels its `sqlite_databases` lists; any other
//! label is `access-denied`, and a listed label no database defines stops the
//! component from loading. `default` is built in: `sqlite_db.db` in the data
//! directory; the runtime config defines others. Every `open` is a
//! connection of its own (so a guest's transaction is its own), closed when
//! the guest drops it or its instance ends. Statements run on tokio's
//! blocking pool ([`super::blocking`]) with their parameters bound, never interpolated; a bad
//! statement is the interface's `io` error with SQLite's message.

mod wit;

use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::handles::OpenHandles;
use rusqlite::types::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use wasmtime::component::Linker;

/// Most bytes one query result may hold in the host before it is refused.
pub const MAX_RESULT_BYTES: usize = 64 << 20;
/// Most connections one instance may hold open at once.
pub const MAX_OPEN_CONNECTIONS: usize = 256;

/// Why a database operation failed (each interface maps it onto its own error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteError {
    /// The label is not in the component's `sqlite_databases`.
    AccessDenied,
    /// No database has the label.
    NoSuchDatabase,
    /// The database or disk is full.
    DatabaseFull,
    /// Anything else, with SQLite's message.
    Io(String),
}

fn sql_error(e: rusqlite::Error) -> SqliteError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => SqliteError::DatabaseFull,
        _ => SqliteError::Io(e.to_string()),
    }
}

/// A query's result: column names and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Each row's values, in column order.
    pub rows: Vec<Vec<Value>>,
}

/// One open connection (the guest's `connection` resource).
#[derive(Debug, Clone)]
pub struct Connection {
    inner: Arc<Mutex<rusqlite::Connection>>,
}

impl Connection {
    /// Opens `path`, creating it if needed.
    fn open(path: &std::path::Path) -> Result<Self, SqliteError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| SqliteError::Io(format!("{}: {e}", dir.display())))?;
        }
        let connection = cloudfn_sqlite_file::open(path).map_err(sql_error)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `f` on the connection, on the blocking pool.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<R, SqliteError> + Send + 'static,
    ) -> Result<R, SqliteError> {
        let inner = self.inner.clone();
        super::blocking(move || f(&mut inner.lock().unwrap_or_else(PoisonError::into_inner)))
            .await
            .map_err(SqliteError::Io)?
    }

    /// Runs one statement with `parameters` bound to `?1`, `?2`, …
    pub async fn execute(
        &self,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<Rows, SqliteError> {
        self.run(move |c| {
            let mut stmt = c.prepare(&statement).map_err(sql_error)?;
            let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
            let mut rows = stmt
                .query(rusqlite::params_from_iter(parameters))
                .map_err(sql_error)?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let values = (0..columns.len())
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql_error)?;
                bytes += values.iter().map(value_size).sum::<usize>();
                if bytes > MAX_RESULT_BYTES {
                    return Err(SqliteError::Io(format!(
                        "the query result exceeds the host's limit of {} MiB; select fewer rows",
                        MAX_RESULT_BYTES >> 20
                    )));
                }
                out.push(values);
            }
            Ok(Rows { columns, rows: out })
        })
        .await
    }

    /// The rowid of the last insert on this connection.
    pub async fn last_insert_rowid(&self) -> Result<i64, SqliteError> {
        self.run(|c| Ok(c.last_insert_rowid())).await
    }

    /// Rows changed by the last statement on this connection.
    pub async fn changes(&self) -> Result<u64, SqliteError> {
        self.run(|c| Ok(c.changes())).await
    }
}

fn value_size(value: &Value) -> usize {
    8 + match value {
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
        _ => 0,
    }
}

/// The labels an application's databases answer to.
#[derive(Debug)]
struct Databases {
    paths: BTreeMap<String, PathBuf>,
}

/// What one component may open.
#[derive(Debug, Default)]
pub struct SqliteGrant {
    allowed: Arc<BTreeSet<String>>,
    databases: Option<Arc<Databases>>,
}

/// One instance's view of the databases.
pub struct SqliteInstance {
    allowed: Arc<BTreeSet<String>>,
    databases: Option<Arc<Databases>>,
    open: OpenHandles,
}

impl SqliteInstance {
    /// Opens a new connection to `label`.
    async fn connect(&self, label: &str) -> Result<Connection, SqliteError> {
        if !self.allowed.contains(label) {
            return Err(SqliteError::AccessDenied);
        }
        if self.open.reached(MAX_OPEN_CONNECTIONS) {
            return Err(SqliteError::Io(format!(
                "too many connections open (at most {MAX_OPEN_CONNECTIONS})"
            )));
        }
        let path = self
            .databases
            .as_ref()
            .and_then(|d| d.paths.get(label))
            .ok_or(SqliteError::NoSuchDatabase)?
            .clone();
        super::blocking(move || Connection::open(&path))
            .await
            .map_err(SqliteError::Io)?
    }
}

/// The service.
pub struct Sqlite {
    config: ServiceConfig,
    databases: OnceLock<Arc<Databases>>,
}

impl Service for Sqlite {
    type Grant = SqliteGrant;
    type Instance = SqliteInstance;

    fn new(config: &ServiceConfig) -> Result<Self, String> {
        Ok(Self {
            config: config.clone(),
            databases: OnceLock::new(),
        })
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<SqliteGrant, String> {
        let labels = &ctx.component.sqlite_databases;
        if labels.is_empty() {
            return Ok(SqliteGrant::default());
        }
        let databases = self
            .databases
            .get_or_init(|| {
                let data_dir = self.config.data_dir(ctx.manifest);
                let mut paths =
                    BTreeMap::from([("default".to_owned(), data_dir.join("sqlite_db.db"))]);
                for (label, path) in &self.config.runtime_config.sqlite_databases {
                    let path = path
                        .clone()
                        .unwrap_or_else(|| data_dir.join(format!("sqlite_db_{label}.db")));
                    paths.insert(label.clone(), path);
                }
                Arc::new(Databases { paths })
            })
            .clone();
        if let Some(unknown) = labels.iter().find(|l| !databases.paths.contains_key(*l)) {
            return Err(format!(
                "sqlite_databases: no database is labelled `{unknown}`: `default` is built in; define others as [sqlite_database.{unknown}] in the runtime config file (--runtime-config-file)"
            ));
        }
        Ok(SqliteGrant {
            allowed: Arc::new(labels.iter().cloned().collect()),
            databases: Some(databases),
        })
    }

    fn instance(&self, grant: &SqliteGrant) -> SqliteInstance {
        SqliteInstance {
            allowed: grant.allowed.clone(),
            databases: grant.databases.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn statements_bind_parameters_and_report_sqlite_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let c = Connection::open(&dir.path().join("db/app.db")).expect("open");
        let none = c
            .execute(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)".into(),
                vec![],
            )
            .await
            .expect("create");
        assert_eq!(none.rows, Vec::<Vec<Value>>::new());
        c.execute(
            "INSERT INTO t (name, score, data) VALUES (?1, ?2, ?3)".into(),
            vec![
                Value::Text("x'); DROP TABLE t; --".into()),
                Value::Real(1.5),
                Value::Blob(vec![0, 1]),
            ],
        )
        .await
        .expect("insert");
        assert_eq!(c.last_insert_rowid().await, Ok(1));
        assert_eq!(c.changes().await, Ok(1));
        let rows = c
            .execute(
                "SELECT id, name, score, data, NULL AS empty FROM t WHERE id = ?1".into(),
                vec![Value::Integer(1)],
            )
            .await
            .expect("select");
        assert_eq!(rows.columns, ["id", "name", "score", "data", "empty"]);
        assert_eq!(
            rows.rows,
            vec![vec![
                Value::Integer(1),
                Value::Text("x'); DROP TABLE t; --".into()),
                Value::Real(1.5),
                Value::Blob(vec![0, 1]),
                Value::Null
            ]]
        );
        let bad = c
            .execute("SELEC 1".into(), vec![])
            .await
            .expect_err("syntax");
        assert!(
            matches!(&bad, SqliteError::Io(m) if m.contains("syntax error")),
            "{bad:?}"
        );
        let missing = c
            .execute("SELECT * FROM nope".into(), vec![])
            .await
            .expect_err("no table");
        assert!(
            matches!(&missing, SqliteError::Io(m) if m.contains("no such table: nope")),
            "{missing:?}"
        );
    }
}
