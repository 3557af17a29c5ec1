//! Key-value stores on a Redis server (`[key_value_store.NAME] type =
//! "redis"` in the runtime config): keys are the server's own keys, as in
//! Spin; `increment` is `INCRBY` (decimal values), compare-and-swap a Lua
//! script, so both are atomic on the server. A dropped connection is opened
//! again on the next call.

use redis::aio::MultiplexedConnection;
use redis::{Cmd, FromRedisValue};
use std::sync::Arc;

const SWAP: &str = "local current = redis.call('GET', KEYS[1])
if (ARGV[1] == '1' and current == ARGV[2]) or (ARGV[1] == '0' and not current) then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0";

/// A store on one Redis server.
#[derive(Clone)]
pub struct RedisKv {
    client: redis::Client,
    connection: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
}

impl std::fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKv")
            .field("server", &self.client.get_connection_info().addr())
            .finish()
    }
}

impl RedisKv {
    /// The store at `url` (connected on first use).
    pub fn new(url: &str) -> Result<Self, String> {
        Ok(Self {
            client: redis::Client::open(url).map_err(|e| format!("{url}: {e}"))?,
            connection: Arc::default(),
        })
    }

    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, String> {
        let mut connection = {
            let mut slot = self.connection.lock().await;
            match &*slot {
                Some(c) => c.clone(),
                None => {
                    let c = self
                        .client
                        .get_multiplexed_async_connection()
                        .await
                        .map_err(|e| e.to_string())?;
                    *slot = Some(c.clone());
                    c
                }
            }
        };
        match cmd.query_async(&mut connection).await {
            Ok(value) => Ok(value),
            Err(e) => {
                if e.is_io_error() || e.is_connection_dropped() {
                    *self.connection.lock().await = None;
                }
                Err(e.to_string())
            }
        }
    }

    /// `GET`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    /// `SET`.
    pub async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        self.query::<redis::Value>(redis::cmd("SET").arg(key).arg(value))
            .await
            .map(drop)
    }

    /// `DEL` (absent keys are no error).
    pub async fn delete(&self, keys: Vec<String>) -> Result<(), String> {
        if keys.is_empty() {
            return Ok(());
        }
        self.query::<i64>(redis::cmd("DEL").arg(keys))
            .await
            .map(drop)
    }

    /// `EXISTS`.
    pub async fn exists(&self, key: &str) -> Result<bool, String> {
        self.query::<i64>(redis::cmd("EXISTS").arg(key))
            .await
            .map(|n| n > 0)
    }

    /// Every key, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, String> {
        let mut keys: Vec<String> = self.query(redis::cmd("KEYS").arg("*")).await?;
        keys.sort();
        Ok(keys)
    }

    /// `MGET`, in order.
    pub async fn get_many(
        &self,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<Vec<u8>>> = self.query(redis::cmd("MGET").arg(&keys)).await?;
        Ok(keys.into_iter().zip(values).collect())
    }

    /// `MSET`.
    pub async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("MSET");
        for (k, v) in pairs {
            cmd.arg(k).arg(v);
        }
        self.query::<redis::Value>(&cmd).await.map(drop)
    }

    /// `INCRBY`; `Ok(Err(…))` when the value is not a decimal integer.
    pub async fn increment(&self, key: &str, delta: i64) -> Result<Result<i64, String>, String> {
        match self.query(redis::cmd("INCRBY").arg(key).arg(delta)).await {
            Ok(n) => Ok(Ok(n)),
            Err(m) if m.contains("not an integer") || m.contains("overflow") => Ok(Err(m)),
            Err(m) => Err(m),
        }
    }

    /// Sets `key` to `value` if it still holds `expected`, atomically on the server.
    pub async fn swap(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(SWAP).arg(1).arg(key);
        match expected {
            Some(expected) => cmd.arg("1").arg(expected),
            None => cmd.arg("0").arg(""),
        };
        cmd.arg(value);
        self.query::<i64>(&cmd).await.map(|n| n == 1)
    }
}
