//! Idle connections to one database file, kept for the next `open`.
//!
//! Spin opens a new SQLite connection for every `open` a guest makes, so
//! a fresh instance per request pays, every time, for opening the file,
//! switching it to WAL and parsing its whole schema, and then for parsing
//! each statement again. The pool keeps the connections guests have closed
//! and hands them to the next `open`, with their prepared statements.
//!
//! A reused connection must look fresh, as Spin's would. The state a
//! connection carries past a statement is its open transaction, its
//! pragmas, its attached databases and its `temp` schema; a connection
//! comes back to the pool only in autocommit mode, and an authorizer hook
//! marks it spoiled as soon as a guest prepares a `PRAGMA`, `ATTACH`,
//! `DETACH` or any `temp` object, which then closes it instead. The
//! counters (`changes`, `last_insert_rowid`) read zero until the guest's
//! first statement on the lease.
//!
//! A kept statement is only worth keeping if SQLite does not compile it
//! again anyway: by default it does, at the first step after new values
//! are bound, whenever a bound value might change the plan, which for an
//! equality in a join is every time (a session lookup spent more time
//! there than anywhere else). The connections run with the query planner
//! stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`): plans are made once
//! per statement. Results are the same; what a guest loses is a plan
//! tailored to one bound value (a `LIKE ?` prefix range, a partial index
//! matched by a bound constant, `sqlite_stat4` samples after `ANALYZE`).

use rusqlite::ErrorCode;
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Most idle connections kept per database.
pub const MAX_IDLE: usize = 16;
/// SQLite virtual machine steps between two calls of the progress handler.
const STEPS_PER_TICK: i32 = 1000;
/// Ticks a statement may run on the async executor before it is
/// interrupted and run again on the blocking pool.
const QUICK_TICKS: i64 = 16;
/// The largest string or blob a statement run in place may make or read:
/// one function over a huge value is a single step the budget cannot see,
/// so a larger one (`SQLITE_TOOBIG`) sends the statement to the blocking
/// pool, which runs it under SQLite's own limit.
const QUICK_MAX_LENGTH: i32 = 1 << 20;

/// One database file and its idle connections.
#[derive(Debug)]
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Pooled>>,
}

/// A connection, whether a guest changed its state, and the step budget
/// of a statement run in place.
#[derive(Debug)]
pub struct Pooled {
    connection: rusqlite::Connection,
    spoiled: Arc<AtomicBool>,
    ticks_left: Arc<AtomicI64>,
}

impl Pool {
    /// A pool for the database at `path` (opened, and created, on demand).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An idle connection, if one is kept.
    pub fn take(&self) -> Option<Pooled> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Opens a new connection (blocking: it reads the file).
    pub fn open(&self) -> rusqlite::Result<Pooled> {
        let mut connection = cloudfn_sqlite_file::open(&self.path)?;
        connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let spoiled = Arc::new(AtomicBool::new(false));
        let mark = spoiled.clone();
        connection.authorizer(Some(move |context: AuthContext<'_>| {
            if changes_connection_state(&context) {
                mark.store(true, Ordering::Relaxed);
            }
            Authorization::Allow
        }))?;
        let ticks_left = Arc::new(AtomicI64::new(i64::MAX));
        let budget = ticks_left.clone();
        connection.progress_handler(
            STEPS_PER_TICK,
            Some(move || budget.fetch_sub(1, Ordering::Relaxed) <= 0),
        )?;
        Ok(Pooled {
            connection,
            spoiled,
            ticks_left,
        })
    }

    /// Keeps `pooled` for the next lease, if it is as fresh as a new one
    /// and the pool has room; closes it otherwise.
    pub fn give_back(&self, pooled: Pooled) {
        if pooled.spoiled.load(Ordering::Relaxed) || !pooled.connection.is_autocommit() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(pooled);
        }
    }
}

impl Pooled {
    /// The connection.
    pub fn connection(&mut self) -> &mut rusqlite::Connection {
        &mut self.connection
    }

    /// Prepares `statement` (from the connection's cache) and runs the
    /// read-only result through `run` right here, if it can
    /// be done without waiting: outside a transaction, on a connection a
    /// guest left plain, within [`QUICK_TICKS`] and [`QUICK_MAX_LENGTH`],
    /// without waiting for a lock. `None` when it cannot; nothing was changed then, so the
    /// caller runs it on the blocking pool. This spares the lookups that
    /// make most of a request's statements two thread switches each.
    pub fn quick<R>(
        &mut self,
        statement: &str,
        run: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<R, rusqlite::Error>,
    ) -> Option<Result<R, rusqlite::Error>> {
        let c = &self.connection;
        if !c.is_autocommit() || self.spoiled.load(Ordering::Relaxed) {
            return None;
        }
        let length = c.limit(Limit::SQLITE_LIMIT_LENGTH).ok()?;
        c.busy_timeout(Duration::ZERO).ok()?;
        c.set_limit(Limit::SQLITE_LIMIT_LENGTH, QUICK_MAX_LENGTH)
            .ok()?;
        self.ticks_left.store(QUICK_TICKS, Ordering::Relaxed);
        let result = match c.prepare_cached(statement) {
            Ok(mut prepared) if prepared.readonly() && !self.spoiled.load(Ordering::Relaxed) => {
                Some(run(&mut prepared))
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        };
        self.ticks_left.store(i64::MAX, Ordering::Relaxed);
        let restored = c.set_limit(Limit::SQLITE_LIMIT_LENGTH, length).is_ok()
            && c.busy_timeout(cloudfn_sqlite_file::BUSY_TIMEOUT).is_ok();
        if !restored {
            // Not as a guest left it: never reused.
            self.spoiled.store(true, Ordering::Relaxed);
        }
        match result? {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(
                        ErrorCode::OperationInterrupted
                            | ErrorCode::DatabaseBusy
                            | ErrorCode::DatabaseLocked
                            | ErrorCode::TooBig
                    )
                ) =>
            {
                None
            }
            done => Some(done),
        }
    }
}

/// Whether a statement doing what `context` says leaves state on the
/// connection that a fresh connection would not have (`temp.name` is
/// reported as a plain create in the database `temp`).
fn changes_connection_state(context: &AuthContext<'_>) -> bool {
    context.database_name == Some("temp")
        || matches!(
            context.action,
            AuthAction::Pragma { .. }
                | AuthAction::Attach { .. }
                | AuthAction::Detach { .. }
                | AuthAction::CreateTempIndex { .. }
                | AuthAction::CreateTempTable { .. }
                | AuthAction::CreateTempTrigger { .. }
                | AuthAction::CreateTempView { .. }
                | AuthAction::DropTempIndex { .. }
                | AuthAction::DropTempTable { .. }
                | AuthAction::DropTempTrigger { .. }
                | AuthAction::DropTempView { .. }
                | AuthAction::Unknown { .. }
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    #[test]
    fn a_kept_statement_is_not_compiled_again_for_new_values() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = Pool::new(dir.path().join("app.db"));
        let mut pooled = pool.open().expect("open");
        let c = pooled.connection();
        c.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT);
             CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id TEXT, expires INTEGER);",
        )
        .expect("schema");
        let lookup = "SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id
                      WHERE s.token = ?1 AND s.expires > ?2";
        for i in 0..5 {
            let mut statement = c.prepare_cached(lookup).expect("prepare");
            let rows = statement
                .query_map(rusqlite::params![format!("token {i}"), i], |_| Ok(()))
                .expect("query")
                .count();
            assert_eq!(rows, 0);
            assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
        }
    }
}
