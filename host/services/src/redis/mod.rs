//! Outbound Redis, as Spin provides it: `fermyon:spin/redis@2.0.0`
//! (spin-sdk 5) and `spin:redis/redis@3.0.0` (spin-sdk 6+, async), to a
//! real server at an address `allowed_outbound_hosts` names
//! (`redis://host:port`); any other address, or one that is not a Redis
//! URL, is `invalid-address`, as in Spin. Each `open` is a multiplexed
//! connection of its own, closed when the guest drops it or its instance ends.
//!
//! An address a `[[trigger.redis]]` of the manifest names goes where that
//! trigger's messages come from ([`cloudfn_events::Routes`]): the embedded
//! broker by default, which takes `publish` (and nothing else), or the real
//! server `--redis` names; on Lambda, Amazon SQS (`publish` only as well).

mod wit;

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::handles::OpenHandles;
use cloudfn_events::sqs::SqsPublisher;
use cloudfn_events::{Broker, Route, Routes};
use redis::aio::MultiplexedConnection;
use wasmtime::component::Linker;

/// Most connections one instance may hold open at once (`too-many-connections` beyond).
pub const MAX_OPEN_CONNECTIONS: usize = 64;

/// Why a Redis operation failed (each interface maps it onto its own error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisError {
    /// Not a Redis URL, or not allowed by `allowed_outbound_hosts`.
    InvalidAddress,
    /// The instance holds [`MAX_OPEN_CONNECTIONS`] connections.
    TooManyConnections,
    /// The key holds a value of another type.
    TypeError,
    /// Anything else, with the client's or server's message.
    Other(String),
}

fn redis_error(e: redis::RedisError) -> RedisError {
    if e.code() == Some("WRONGTYPE") {
        RedisError::TypeError
    } else {
        RedisError::Other(e.to_string())
    }
}

/// Connects to `address` (`redis://…` or `rediss://…`).
pub async fn connect(address: &str) -> Result<MultiplexedConnection, RedisError> {
    let client = redis::Client::open(address).map_err(|_| RedisError::InvalidAddress)?;
    client
        .get_multiplexed_async_connection()
        .await
        .map_err(redis_error)
}

/// A value of a command's reply, as the interfaces return them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// No value.
    Nil,
    /// A status (`OK`).
    Status(String),
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

/// The values of a reply, arrays flattened, as Spin returns `execute`'s.
fn flatten(value: redis::Value, out: &mut Vec<Reply>) -> Result<(), RedisError> {
    use redis::Value as V;
    match value {
        V::Nil => out.push(Reply::Nil),
        V::Int(i) => out.push(Reply::Int(i)),
        V::BulkString(b) => out.push(Reply::Binary(b)),
        V::SimpleString(s) => out.push(Reply::Status(s)),
        V::Okay => out.push(Reply::Status("OK".into())),
        V::Boolean(b) => out.push(Reply::Int(i64::from(b))),
        V::Double(d) => out.push(Reply::Binary(d.to_string().into_bytes())),
        V::VerbatimString { text, .. } => out.push(Reply::Binary(text.into_bytes())),
        V::Array(items) | V::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        V::Map(pairs) => {
            for (k, v) in pairs {
                flatten(k, out)?;
                flatten(v, out)?;
            }
        }
        V::Attribute { data, .. } => flatten(*data, out)?,
        V::ServerError(e) => return Err(RedisError::Other(format!("{e:?}"))),
        other => return Err(RedisError::Other(format!("unsupported reply {other:?}"))),
    }
    Ok(())
}

/// One open connection (the guest's `connection` resource).
#[derive(Clone)]
pub enum Connection {
    /// To a Redis server.
    Redis(MultiplexedConnection),
    /// To the embedded event broker, standing in for the manifest's `address`.
    Broker {
        /// The broker.
        broker: Broker,
        /// The address the guest opened.
        address: String,
    },
    /// To Amazon SQS, standing in for the manifest's `address` on Lambda.
    Sqs {
        /// The publisher.
        sqs: std::sync::Arc<SqsPublisher>,
        /// The address the guest opened.
        address: String,
    },
}

/// An argument of `execute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

impl Connection {
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisError> {
        match self {
            Self::Redis(connection) => cmd
                .query_async(&mut connection.clone())
                .await
                .map_err(redis_error),
            Self::Broker { address, .. } => Err(RedisError::Other(format!(
                "{address} is served by cloudfn's embedded event broker, which takes `publish` only; run `cloudfn up --redis URL` for a Redis server"
            ))),
            Self::Sqs { address, .. } => Err(RedisError::Other(format!(
                "{address} is served by Amazon SQS on Lambda, which takes `publish` only"
            ))),
        }
    }

    /// `PUBLISH channel payload`.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), RedisError> {
        let sent = match self {
            Self::Broker { broker, .. } => broker
                .publish(channel, payload)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::Sqs { sqs, .. } => sqs
                .publish(channel, payload)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::Redis(_) => {
                return self
                    .query::<i64>(redis::cmd("PUBLISH").arg(channel).arg(payload))
                    .await
                    .map(drop);
            }
        };
        sent.map_err(RedisError::Other)
    }

    /// `GET key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RedisError> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    /// `SET key value`.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), RedisError> {
        self.query::<redis::Value>(redis::cmd("SET").arg(key).arg(value))
            .await
            .map(drop)
    }

    /// `INCR key`.
    pub async fn incr(&self, key: &str) -> Result<i64, RedisError> {
        self.query(redis::cmd("INCR").arg(key)).await
    }

    /// `DEL keys…`: how many were deleted.
    pub async fn del(&self, keys: &[String]) -> Result<u32, RedisError> {
        self.query(redis::cmd("DEL").arg(keys)).await
    }

    /// `SADD key values…`: how many were added.
    pub async fn sadd(&self, key: &str, values: &[String]) -> Result<u32, RedisError> {
        self.query(redis::cmd("SADD").arg(key).arg(values)).await
    }

    /// `SMEMBERS key`.
    pub async fn smembers(&self, key: &str) -> Result<Vec<String>, RedisError> {
        self.query(redis::cmd("SMEMBERS").arg(key)).await
    }

    /// `SREM key values…`: how many were removed.
    pub async fn srem(&self, key: &str, values: &[String]) -> Result<u32, RedisError> {
        self.query(redis::cmd("SREM").arg(key).arg(values)).await
    }

    /// Any command; the reply's values, arrays flattened.
    pub async fn execute(
        &self,
        command: &str,
        arguments: Vec<Argument>,
    ) -> Result<Vec<Reply>, RedisError> {
        let mut cmd = redis::cmd(command);
        for argument in arguments {
            match argument {
                Argument::Int(i) => cmd.arg(i),
                Argument::Binary(b) => cmd.arg(b),
            };
        }
        let value: redis::Value = self.query(&cmd).await?;
        let mut out = Vec::new();
        flatten(value, &mut out)?;
        Ok(out)
    }
}

/// One instance's state.
pub struct RedisInstance {
    allowed: AllowedHosts,
    routes: Routes,
    open: OpenHandles,
}

impl RedisInstance {
    /// Connects to `address` for the guest.
    async fn open(&self, address: &str) -> Result<Connection, RedisError> {
        match AllowedHosts::allows_url(&self.allowed, address) {
            Some(true) if address.starts_with("redis://") || address.starts_with("rediss://") => {}
            _ => return Err(RedisError::InvalidAddress),
        }
        if self.open.reached(MAX_OPEN_CONNECTIONS) {
            return Err(RedisError::TooManyConnections);
        }
        Ok(match self.routes.get(address) {
            Some(Route::Embedded(broker)) => Connection::Broker {
                broker: broker.clone(),
                address: address.to_owned(),
            },
            Some(Route::Sqs(sqs)) => Connection::Sqs {
                sqs: sqs.clone(),
                address: address.to_owned(),
            },
            Some(Route::Redis(url)) => Connection::Redis(connect(url).await?),
            None => Connection::Redis(connect(address).await?),
        })
    }
}

/// The service.
pub struct Redis {
    routes: Routes,
}

impl Service for Redis {
    type Grant = AllowedHosts;
    type Instance = RedisInstance;

    fn new(config: &ServiceConfig) -> Result<Self, String> {
        Ok(Self {
            routes: config.event_routes.clone(),
        })
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<AllowedHosts, String> {
        AllowedHosts::of(ctx)
    }

    fn instance(&self, grant: &AllowedHosts) -> RedisInstance {
        RedisInstance {
            allowed: grant.clone(),
            routes: self.routes.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}
