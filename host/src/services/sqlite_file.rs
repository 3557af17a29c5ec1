//! Opening an SQLite file the way both SQLite-backed services want it: a
//! busy timeout for locks other connections hold, and the write-ahead log,
//! so readers and a writer do not block each other.
//!
//! Many connections open one file at once (a host's first instances, two
//! hosts on one data directory). SQLite does not call the busy handler
//! when `PRAGMA journal_mode = WAL` finds the file locked, because the
//! pragma already holds a read lock and waiting could deadlock; it fails
//! at once with "database is locked". So the switch is tried again until
//! the busy timeout has passed.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opening_a_new_file_at_once_all_get_wal() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("db.sqlite");
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                let opens: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            let connection = open(&path)?;
                            connection
                                .query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))
                        })
                    })
                    .collect();
                for opened in opens {
                    assert_eq!(opened.join().expect("thread"), Ok("wal".to_owned()));
                }
            });
        }
    }
}
