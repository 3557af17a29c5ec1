//! Opening an SQLite file the way the key-value stores, the SQLite service
//! and the event broker want it: a busy timeout for locks other connections
//! hold, and the write-ahead log, so readers and a writer do not block each
//! other.
//!
//! Many connections open one file at once (a host's first instances, a
//! `cloudfn events publish` beside the host). SQLite does not call the busy
//! handler when `PRAGMA journal_mode = WAL` finds the file locked, because
//! the pragma already holds a read lock and waiting could deadlock; it
//! fails at once with "database is locked". So the switch is tried again
//! until the busy timeout has passed.

use rusqlite::{Connection, ErrorCode};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a statement waits for a lock another connection holds.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between two tries of the switch to WAL.
const RETRY_PAUSE: Duration = Duration::from_millis(2);

/// Opens (creating) the file at `path` with [`BUSY_TIMEOUT`], in WAL mode.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let started = Instant::now();
    loop {
        let switched = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0));
        match switched {
            Ok(_) => return Ok(connection),
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(RETRY_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs `open` on `threads` threads released at the same instant, for
/// tests of connections racing to open one file.
pub fn at_once<T: Send>(threads: usize, open: impl Fn() -> T + Sync) -> Vec<T> {
    let start = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    open()
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("thread"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opening_a_new_file_at_once_all_get_wal() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("db.sqlite");
            let modes = at_once(8, || {
                open(&path)?.query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))
            });
            assert!(modes.iter().all(|m| m.as_deref() == Ok("wal")), "{modes:?}");
        }
    }
}
