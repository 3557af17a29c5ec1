//! The two outbound Redis interfaces over [`RedisInstance`].

use super::{Argument, Connection, Redis, RedisError, RedisInstance, Reply};
use crate::handles::OpenHandles;
use crate::{HasService, ServiceView};
use wasmtime::component::{Accessor, HasData, Linker, Resource};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/redis",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/redis.connection": crate::redis::Connection,
            "spin:redis/redis.connection": crate::redis::Connection,
        },
    });
}

use generated::fermyon::spin::redis as v2;
use generated::spin::redis::redis as v3;

/// What the Redis host functions see of an instance.
pub type RedisView<'a> = ServiceView<'a, RedisInstance>;

/// The [`HasData`] marker of [`RedisView`].
pub struct HasRedis;

impl HasData for HasRedis {
    type Data<'a> = RedisView<'a>;
}

/// Adds both interfaces to `linker`.
pub fn add_to_linker<T: HasService<Redis>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    generated::Redis::add_to_linker::<T, HasRedis>(linker, <T as HasService<Redis>>::view)
}

impl RedisView<'_> {
    fn push(&mut self, connection: Connection) -> wasmtime::Result<Resource<Connection>> {
        self.state.open.push(self.table, connection)
    }

    fn connection(&self, resource: &Resource<Connection>) -> wasmtime::Result<Connection> {
        OpenHandles::get(self.table, resource)
    }

    fn close(&mut self, resource: Resource<Connection>) -> wasmtime::Result<()> {
        self.state.open.close::<Connection, _>(self.table, resource)
    }
}

/// Maps [`RedisError`] onto one interface's error type (both have the same cases).
macro_rules! error_into {
    ($module:ident) => {
        impl From<RedisError> for $module::Error {
            fn from(e: RedisError) -> Self {
                match e {
                    RedisError::InvalidAddress => $module::Error::InvalidAddress,
                    RedisError::TooManyConnections => $module::Error::TooManyConnections,
                    RedisError::TypeError => $module::Error::TypeError,
                    RedisError::Other(m) => $module::Error::Other(m),
                }
            }
        }
    };
}
error_into!(v2);
error_into!(v3);

fn v2_argument(p: v2::RedisParameter) -> Argument {
    match p {
        v2::RedisParameter::Int64(i) => Argument::Int(i),
        v2::RedisParameter::Binary(b) => Argument::Binary(b),
    }
}

fn v2_reply(r: Reply) -> v2::RedisResult {
    match r {
        Reply::Nil => v2::RedisResult::Nil,
        Reply::Status(s) => v2::RedisResult::Status(s),
        Reply::Int(i) => v2::RedisResult::Int64(i),
        Reply::Binary(b) => v2::RedisResult::Binary(b),
    }
}

fn v3_argument(p: v3::RedisParameter) -> Argument {
    match p {
        v3::RedisParameter::Int64(i) => Argument::Int(i),
        v3::RedisParameter::Binary(b) => Argument::Binary(b),
    }
}

fn v3_reply(r: Reply) -> v3::RedisResult {
    match r {
        Reply::Nil => v3::RedisResult::Nil,
        Reply::Status(s) => v3::RedisResult::Status(s),
        Reply::Int(i) => v3::RedisResult::Int64(i),
        Reply::Binary(b) => v3::RedisResult::Binary(b),
    }
}

// fermyon:spin/redis@2.0.0 (spin-sdk 5).

type V2<T> = wasmtime::Result<Result<T, v2::Error>>;

impl v2::Host for RedisView<'_> {}

impl v2::HostConnection for RedisView<'_> {
    async fn open(&mut self, address: String) -> V2<Resource<Connection>> {
        match self.state.open(&address).await {
            Ok(connection) => Ok(Ok(self.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn publish(
        &mut self,
        c: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> V2<()> {
        Ok(self
            .connection(&c)?
            .publish(&channel, &payload)
            .await
            .map_err(Into::into))
    }

    async fn get(&mut self, c: Resource<Connection>, key: String) -> V2<Option<Vec<u8>>> {
        Ok(self.connection(&c)?.get(&key).await.map_err(Into::into))
    }

    async fn set(&mut self, c: Resource<Connection>, key: String, value: Vec<u8>) -> V2<()> {
        Ok(self
            .connection(&c)?
            .set(&key, &value)
            .await
            .map_err(Into::into))
    }

    async fn incr(&mut self, c: Resource<Connection>, key: String) -> V2<i64> {
        Ok(self.connection(&c)?.incr(&key).await.map_err(Into::into))
    }

    async fn del(&mut self, c: Resource<Connection>, keys: Vec<String>) -> V2<u32> {
        Ok(self.connection(&c)?.del(&keys).await.map_err(Into::into))
    }

    async fn sadd(&mut self, c: Resource<Connection>, key: String, values: Vec<String>) -> V2<u32> {
        Ok(self
            .connection(&c)?
            .sadd(&key, &values)
            .await
            .map_err(Into::into))
    }

    async fn smembers(&mut self, c: Resource<Connection>, key: String) -> V2<Vec<String>> {
        Ok(self
            .connection(&c)?
            .smembers(&key)
            .await
            .map_err(Into::into))
    }

    async fn srem(&mut self, c: Resource<Connection>, key: String, values: Vec<String>) -> V2<u32> {
        Ok(self
            .connection(&c)?
            .srem(&key, &values)
            .await
            .map_err(Into::into))
    }

    async fn execute(
        &mut self,
        c: Resource<Connection>,
        command: String,
        arguments: Vec<v2::RedisParameter>,
    ) -> V2<Vec<v2::RedisResult>> {
        let arguments = arguments.into_iter().map(v2_argument).collect();
        Ok(self
            .connection(&c)?
            .execute(&command, arguments)
            .await
            .map(|replies| replies.into_iter().map(v2_reply).collect())
            .map_err(Into::into))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

// spin:redis/redis@3.0.0 (spin-sdk 6+): async functions through the accessor.

type V3<T> = wasmtime::Result<Result<T, v3::Error>>;

fn v3_connection<T>(
    accessor: &Accessor<T, HasRedis>,
    c: &Resource<Connection>,
) -> wasmtime::Result<Connection> {
    accessor.with(|mut access| access.get().connection(c))
}

impl v3::Host for RedisView<'_> {}

impl v3::HostConnection for RedisView<'_> {
    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

impl<T> v3::HostConnectionWithStore<T> for HasRedis {
    async fn open(accessor: &Accessor<T, Self>, address: String) -> V3<Resource<Connection>> {
        let opening = accessor.with(|mut access| {
            let state = &access.get().state;
            RedisInstance {
                allowed: state.allowed.clone(),
                routes: state.routes.clone(),
                open: state.open,
            }
        });
        match opening.open(&address).await {
            Ok(connection) => accessor.with(|mut access| access.get().push(connection).map(Ok)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> V3<()> {
        Ok(v3_connection(accessor, &c)?
            .publish(&channel, &payload)
            .await
            .map_err(Into::into))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> V3<Option<Vec<u8>>> {
        Ok(v3_connection(accessor, &c)?
            .get(&key)
            .await
            .map_err(Into::into))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        value: Vec<u8>,
    ) -> V3<()> {
        Ok(v3_connection(accessor, &c)?
            .set(&key, &value)
            .await
            .map_err(Into::into))
    }

    async fn incr(accessor: &Accessor<T, Self>, c: Resource<Connection>, key: String) -> V3<i64> {
        Ok(v3_connection(accessor, &c)?
            .incr(&key)
            .await
            .map_err(Into::into))
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        keys: Vec<String>,
    ) -> V3<u32> {
        Ok(v3_connection(accessor, &c)?
            .del(&keys)
            .await
            .map_err(Into::into))
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> V3<u32> {
        Ok(v3_connection(accessor, &c)?
            .sadd(&key, &values)
            .await
            .map_err(Into::into))
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> V3<Vec<String>> {
        Ok(v3_connection(accessor, &c)?
            .smembers(&key)
            .await
            .map_err(Into::into))
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> V3<u32> {
        Ok(v3_connection(accessor, &c)?
            .srem(&key, &values)
            .await
            .map_err(Into::into))
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        command: String,
        arguments: Vec<v3::RedisParameter>,
    ) -> V3<Vec<v3::RedisResult>> {
        let arguments = arguments.into_iter().map(v3_argument).collect();
        Ok(v3_connection(accessor, &c)?
            .execute(&command, arguments)
            .await
            .map(|replies| replies.into_iter().map(v3_reply).collect())
            .map_err(Into::into))
    }
}
