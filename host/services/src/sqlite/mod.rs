//! SQLite databases, as Spin provides them: `fermyon:spin/sqlite@2.0.0`
//! (spin-sdk 5) and `spin:sqlite/sqlite@3.1.0` (spin-sdk 6+).
//!
//! A component may open the labels its `sqlite_databases` lists; any other
//! label is `access-denied`, and a listed label no database defines stops the
//! component from loading. `default` is built in: `sqlite_db.db` in the data
//! directory; the runtime config defines others. Every `open` is a
//! connection of its own (so a guest's transaction is its own), given back
//! when the guest drops it or its instance ends: the [`pool`] keeps those a
//! guest left as fresh as new for the next `open`. Statements run on tokio's
//! blocking pool ([`super::blocking`]) with their parameters bound, never interpolated; a bad
//! statement is the interface's `io` error with SQLite's message.

mod pool;
mod wit;

use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::handles::OpenHandles;
use pool::{Pool, Pooled};
use rusqlite::types::Value;
use std::collections::{BTreeMap, BTreeSet};
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

/// One open connection (the guest's `connection` resource), leased from
/// its database's [`Pool`] and given back when the guest closes it.
#[derive(Debug, Clone)]
pub struct Connection {
    lease: Arc<Mutex<Lease>>,
}

#[derive(Debug)]
struct Lease {
    pooled: Option<Pooled>,
    pool: Arc<Pool>,
    /// Whether the guest ran a statement on this lease yet.
    ran: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(pooled) = self.pooled.take() {
            self.pool.give_back(pooled);
        }
    }
}

impl Connection {
    /// A connection to `pool`'s database: an idle one, else a new one
    /// (creating the file and its directory if needed).
    async fn lease(pool: &Arc<Pool>) -> Result<Self, SqliteError> {
        let pooled = match pool.take() {
            Some(pooled) => pooled,
            None => {
                let opening = pool.clone();
                super::blocking(move || {
                    if let Some(dir) = opening.path().parent() {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| SqliteError::Io(format!("{}: {e}", dir.display())))?;
                    }
                    opening.open().map_err(sql_error)
                })
                .await
                .map_err(SqliteError::Io)??
            }
        };
        Ok(Self {
            lease: Arc::new(Mutex::new(Lease {
                pooled: Some(pooled),
                pool: pool.clone(),
                ran: false,
            })),
        })
    }

    /// Runs `f` on the connection, on the blocking pool.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<R, SqliteError> + Send + 'static,
    ) -> Result<R, SqliteError> {
        let lease = self.lease.clone();
        super::blocking(move || {
            let mut lease = lease.lock().unwrap_or_else(PoisonError::into_inner);
            lease.ran = true;
            match lease.pooled.as_mut() {
                Some(pooled) => f(pooled.connection()),
                None => Err(SqliteError::Io("the connection is closed".into())),
            }
        })
        .await
        .map_err(SqliteError::Io)?
    }

    /// Reads a counter of the connection, zero before the lease's first
    /// statement (as on a new connection).
    fn counter<R: Default>(&self, read: impl FnOnce(&rusqlite::Connection) -> R) -> R {
        let mut lease = self.lease.lock().unwrap_or_else(PoisonError::into_inner);
        match (lease.ran, lease.pooled.as_mut()) {
            (true, Some(pooled)) => read(pooled.connection()),
            _ => R::default(),
        }
    }

    /// Runs one statement with `parameters` bound to `?1`, `?2`, …: a quick
    /// read in place ([`Pooled::quick`]), anything else on the blocking pool.
    pub async fn execute(
        &self,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<Rows, SqliteError> {
        if let Some(done) = self.quick(&statement, &parameters) {
            return done;
        }
        self.run(move |c| query(c, &statement, &parameters).map_err(sql_error)?)
            .await
    }

    fn quick(&self, statement: &str, parameters: &[Value]) -> Option<Result<Rows, SqliteError>> {
        let mut lease = self.lease.try_lock().ok()?;
        let done = lease
            .pooled
            .as_mut()?
            .quick(statement, |prepared| collect(prepared, parameters))?;
        lease.ran = true;
        Some(done.map_err(sql_error).and_then(|rows| rows))
    }

    /// The rowid of the last insert on this connection.
    pub async fn last_insert_rowid(&self) -> Result<i64, SqliteError> {
        Ok(self.counter(rusqlite::Connection::last_insert_rowid))
    }

    /// Rows changed by the last statement on this connection.
    pub async fn changes(&self) -> Result<u64, SqliteError> {
        Ok(self.counter(rusqlite::Connection::changes))
    }
}

/// Runs `statement` on `c`, collecting its rows up to [`MAX_RESULT_BYTES`]
/// (the outer error is SQLite's, the inner one the host's limit).
fn query(
    c: &rusqlite::Connection,
    statement: &str,
    parameters: &[Value],
) -> rusqlite::Result<Result<Rows, SqliteError>> {
    let mut prepared = c.prepare_cached(statement)?;
    collect(&mut prepared, parameters)
}

/// Runs the prepared `stmt` with `parameters` bound, collecting its rows
/// as [`query`] does.
fn collect(
    stmt: &mut rusqlite::Statement<'_>,
    parameters: &[Value],
) -> rusqlite::Result<Result<Rows, SqliteError>> {
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(parameters))?;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()?;
        bytes += values.iter().map(value_size).sum::<usize>();
        if bytes > MAX_RESULT_BYTES {
            return Ok(Err(SqliteError::Io(format!(
                "the query result exceeds the host's limit of {} MiB; select fewer rows",
                MAX_RESULT_BYTES >> 20
            ))));
        }
        out.push(values);
    }
    Ok(Ok(Rows { columns, rows: out }))
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
    pools: BTreeMap<String, Arc<Pool>>,
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
        let pool = self
            .databases
            .as_ref()
            .and_then(|d| d.pools.get(label))
            .ok_or(SqliteError::NoSuchDatabase)?;
        Connection::lease(pool).await
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
                let pools = paths
                    .into_iter()
                    .map(|(label, path)| (label, Arc::new(Pool::new(path))))
                    .collect();
                Arc::new(Databases { pools })
            })
            .clone();
        if let Some(unknown) = labels.iter().find(|l| !databases.pools.contains_key(*l)) {
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
        let pool = Arc::new(Pool::new(dir.path().join("db/app.db")));
        let c = Connection::lease(&pool).await.expect("open");
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

    async fn run(c: &Connection, statement: &str) -> Result<Rows, SqliteError> {
        c.execute(statement.into(), vec![]).await
    }

    fn idle(pool: &Pool) -> usize {
        let kept: Vec<_> = std::iter::from_fn(|| pool.take()).collect();
        let n = kept.len();
        kept.into_iter().for_each(|p| pool.give_back(p));
        n
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_long_read_moves_to_the_blocking_pool_and_completes() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = Arc::new(Pool::new(dir.path().join("app.db")));
        let c = Connection::lease(&pool).await.expect("open");
        let long =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
                    SELECT count(*), sum(i) FROM n";
        let rows = run(&c, long)
            .await
            .expect("interrupted in place, run again");
        assert_eq!(
            rows.rows,
            vec![vec![
                Value::Integer(300_000),
                Value::Integer(45_000_150_000)
            ]]
        );
        let huge = "SELECT length(zeroblob(3000000)), length(randomblob(2000000))";
        let rows = run(&c, huge).await.expect("too big in place, run again");
        assert_eq!(
            rows.rows,
            vec![vec![Value::Integer(3_000_000), Value::Integer(2_000_000)]]
        );
        let writer = Connection::lease(&pool).await.expect("open");
        run(&writer, "CREATE TABLE t (x)").await.expect("create");
        run(&writer, "BEGIN IMMEDIATE").await.expect("write lock");
        run(&writer, "INSERT INTO t VALUES (1)")
            .await
            .expect("insert");
        let read = run(&c, "SELECT count(*) FROM t")
            .await
            .expect("WAL readers do not wait");
        assert_eq!(read.rows, vec![vec![Value::Integer(0)]]);
        let blocked = tokio::spawn({
            let c = c.clone();
            async move { run(&c, "BEGIN IMMEDIATE").await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        run(&writer, "COMMIT").await.expect("commit");
        blocked
            .await
            .expect("join")
            .expect("waited for the lock, then took it");
        run(&c, "ROLLBACK").await.expect("rollback");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_reused_connection_looks_new() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = Arc::new(Pool::new(dir.path().join("app.db")));
        let c = Connection::lease(&pool).await.expect("open");
        run(&c, "CREATE TABLE t (x)").await.expect("create");
        run(&c, "INSERT INTO t VALUES (1), (2)")
            .await
            .expect("insert");
        assert_eq!(c.changes().await, Ok(2));
        drop(c);
        assert_eq!(idle(&pool), 1, "a plain connection is kept");

        let c = Connection::lease(&pool).await.expect("reuse");
        assert_eq!(idle(&pool), 0, "the kept one was leased");
        assert_eq!(c.changes().await, Ok(0), "counters start at zero");
        assert_eq!(c.last_insert_rowid().await, Ok(0));
        run(&c, "SELECT * FROM t")
            .await
            .expect("statements still run");
        drop(c);

        for (spoiler, left_behind) in [
            (
                "CREATE TEMP TABLE scratch (x)",
                "SELECT * FROM temp.scratch",
            ),
            (
                "CREATE TABLE temp.scratch (x)",
                "SELECT * FROM temp.scratch",
            ),
            ("PRAGMA query_only = ON", "INSERT INTO t VALUES (3)"),
            ("BEGIN", "BEGIN"),
        ] {
            let c = Connection::lease(&pool).await.expect("open");
            run(&c, spoiler).await.expect(spoiler);
            drop(c);
            assert_eq!(idle(&pool), 0, "{spoiler}: not kept");
            let c = Connection::lease(&pool).await.expect("open");
            let fresh = run(&c, left_behind).await;
            match spoiler {
                "BEGIN" => assert!(fresh.is_ok(), "no transaction left open: {fresh:?}"),
                s if s.starts_with("PRAGMA") => {
                    assert!(fresh.is_ok(), "the pragma did not carry over: {fresh:?}")
                }
                _ => assert!(
                    matches!(&fresh, Err(SqliteError::Io(m)) if m.contains("no such table")),
                    "{spoiler}: {fresh:?}"
                ),
            }
            run(&c, "ROLLBACK").await.ok();
        }
    }
}
