//! Key-value stores in an SQLite file, in the table Spin's own default store
//! uses (`spin_key_value(store, key, value)`), so a file written by one host
//! reads in the other. One thread of its own owns each file's connection and
//! runs the calls in arrival order, so no executor thread waits on SQLite
//! and no two calls contend for the connection (under load the thread
//! drains its queue without sleeping; a pool of threads taking turns on one
//! connection spent most of its time switching). The file is in WAL mode
//! with `synchronous = NORMAL`, so a completed `set` survives the host
//! being killed.

use rusqlite::{Connection, OptionalExtension, params};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
     ON CONFLICT(store, key) DO UPDATE SET value = excluded.value";
const SELECT: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";

/// A call for the connection's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// One SQLite file of stores, shared by every label kept in it; its thread
/// ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SqliteKv {
    jobs: mpsc::Sender<Job>,
}

impl SqliteKv {
    /// Opens (creating if needed) the file at `path`.
    pub fn open(path: &Path) -> Result<Self, String> {
        let fail = |e: rusqlite::Error| format!("{}: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let connection = cloudfn_sqlite_file::open(path).map_err(fail)?;
        connection
            .execute_batch(
                "PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS spin_key_value (
                     store TEXT NOT NULL,
                     key   TEXT NOT NULL,
                     value BLOB NOT NULL,
                     PRIMARY KEY (store, key)
                 );",
            )
            .map_err(fail)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("cloudfn-kv-sqlite".into())
            .spawn(move || {
                let mut connection = connection;
                for job in queue {
                    // A call that panics fails alone (its caller sees the
                    // reply dropped); the thread serves the next.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut connection)));
                }
            })
            .map_err(|e| format!("{}: cannot start its thread: {e}", path.display()))?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the connection's thread and waits for it without blocking.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, String> {
        let stopped = || "the key-value store's SQLite thread stopped".to_owned();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |connection| {
                let _ = reply.send(f(connection));
            }))
            .map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|e| e.to_string())
    }

    /// The value of `key` in `store`.
    pub async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.run(move |c| {
            c.prepare_cached(SELECT)?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
        .await
    }

    /// Sets `key` in `store`.
    pub async fn set(&self, store: &str, key: &str, value: Vec<u8>) -> Result<(), String> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.run(move |c| {
            c.prepare_cached(UPSERT)?
                .execute(params![store, key, value])
                .map(drop)
        })
        .await
    }

    /// Deletes `keys` from `store` (absent keys are no error).
    pub async fn delete(&self, store: &str, keys: Vec<String>) -> Result<(), String> {
        let store = store.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            {
                let mut delete =
                    tx.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?;
                for key in keys {
                    delete.execute(params![store, key])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// Whether `key` is in `store`.
    pub async fn exists(&self, store: &str, key: &str) -> Result<bool, String> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.run(move |c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
        .await
    }

    /// Every key of `store`, in key order.
    pub async fn keys(&self, store: &str) -> Result<Vec<String>, String> {
        let store = store.to_owned();
        self.run(move |c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
        .await
    }

    /// The values of `keys`, in order (`None` where absent).
    pub async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
        let store = store.to_owned();
        self.run(move |c| {
            let mut select = c.prepare_cached(SELECT)?;
            keys.into_iter()
                .map(|key| {
                    let value = select
                        .query_row(params![store, key], |row| row.get(0))
                        .optional()?;
                    Ok((key, value))
                })
                .collect()
        })
        .await
    }

    /// Sets every pair in one transaction.
    pub async fn set_many(&self, store: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        let store = store.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            {
                let mut upsert = tx.prepare_cached(UPSERT)?;
                for (key, value) in pairs {
                    upsert.execute(params![store, key, value])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// Adds `delta` to the 64-bit little-endian integer under `key` (0 when
    /// absent), atomically; the new value, or `Ok(Err(…))` when the stored
    /// value is not such an integer.
    pub async fn increment(
        &self,
        store: &str,
        key: &str,
        delta: i64,
    ) -> Result<Result<i64, String>, String> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.run(move |c| {
            let tx = c.transaction()?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached(SELECT)?
                .query_row(params![store, key], |row| row.get(0))
                .optional()?;
            let current = match current.map(<[u8; 8]>::try_from) {
                None => 0,
                Some(Ok(bytes)) => i64::from_le_bytes(bytes),
                Some(Err(value)) => {
                    return Ok(Err(format!(
                        "the value of `{key}` is {} bytes, not a 64-bit integer",
                        value.len()
                    )));
                }
            };
            let Some(next) = current.checked_add(delta) else {
                return Ok(Err(format!("`{key}` would overflow a 64-bit integer")));
            };
            tx.prepare_cached(UPSERT)?
                .execute(params![store, key, next.to_le_bytes().to_vec()])?;
            tx.commit()?;
            Ok(Ok(next))
        })
        .await
    }

    /// Sets `key` to `value` if its value is still `expected` (`None`:
    /// still absent); whether it did.
    pub async fn swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.run(move |c| {
            let changed = match expected {
                Some(expected) => c
                    .prepare_cached(
                        "UPDATE spin_key_value SET value = ?4
                         WHERE store = ?1 AND key = ?2 AND value = ?3",
                    )?
                    .execute(params![store, key, expected, value])?,
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT(store, key) DO NOTHING",
                    )?
                    .execute(params![store, key, value])?,
            };
            Ok(changed == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn stores_are_separate_and_values_durable_across_opens() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("kv/sqlite_key_value.db");
        let kv = SqliteKv::open(&path).expect("open");
        kv.set("a", "k", b"1".to_vec()).await.expect("set");
        kv.set("b", "k", b"2".to_vec()).await.expect("set");
        kv.set("a", "j", b"0".to_vec()).await.expect("set");
        assert_eq!(kv.get("a", "k").await, Ok(Some(b"1".to_vec())));
        assert_eq!(kv.keys("a").await, Ok(vec!["j".into(), "k".into()]));
        assert_eq!(kv.exists("b", "j").await, Ok(false));
        kv.delete("a", vec!["k".into(), "absent".into()])
            .await
            .expect("delete");
        assert_eq!(kv.get("a", "k").await, Ok(None));
        drop(kv);
        let again = SqliteKv::open(&path).expect("reopen");
        assert_eq!(again.get("b", "k").await, Ok(Some(b"2".to_vec())));
    }

    #[test]
    fn connections_opening_a_new_file_at_once_all_succeed() {
        // A host's first instances open the file together; none may fail
        // with "database is locked".
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("kv.db");
            let opened = cloudfn_sqlite_file::at_once(8, || SqliteKv::open(&path).map(drop));
            assert!(opened.iter().all(Result::is_ok), "{opened:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn batches_increments_and_swaps() {
        let dir = tempfile::tempdir().expect("dir");
        let kv = SqliteKv::open(&dir.path().join("kv.db")).expect("open");
        kv.set_many(
            "s",
            vec![("x".into(), b"1".to_vec()), ("y".into(), b"2".to_vec())],
        )
        .await
        .expect("set many");
        assert_eq!(
            kv.get_many("s", vec!["y".into(), "z".into()]).await,
            Ok(vec![("y".into(), Some(b"2".to_vec())), ("z".into(), None)])
        );
        assert_eq!(kv.increment("s", "n", 5).await, Ok(Ok(5)));
        assert_eq!(kv.increment("s", "n", -7).await, Ok(Ok(-2)));
        assert_eq!(
            kv.get("s", "n").await,
            Ok(Some((-2i64).to_le_bytes().to_vec()))
        );
        assert!(
            kv.increment("s", "x", 1).await.expect("store").is_err(),
            "not an integer"
        );
        assert_eq!(
            kv.swap("s", "x", Some(b"1".to_vec()), b"9".to_vec()).await,
            Ok(true)
        );
        assert_eq!(
            kv.swap("s", "x", Some(b"1".to_vec()), b"8".to_vec()).await,
            Ok(false)
        );
        assert_eq!(kv.swap("s", "new", None, b"a".to_vec()).await, Ok(true));
        assert_eq!(kv.swap("s", "new", None, b"b".to_vec()).await, Ok(false));
        assert_eq!(kv.get("s", "x").await, Ok(Some(b"9".to_vec())));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_increments_lose_no_update() {
        let dir = tempfile::tempdir().expect("dir");
        let kv = SqliteKv::open(&dir.path().join("kv.db")).expect("open");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let kv = kv.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        kv.increment("s", "n", 1)
                            .await
                            .expect("store")
                            .expect("integer");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(kv.increment("s", "n", 0).await, Ok(Ok(400)));
    }
}
