//! The two MySQL interfaces over [`MysqlInstance`]: `fermyon:spin/mysql@2.0.0`
//! goes through the 3.0 code, its types being the same ones in
//! `rdbms-types`.

use super::bindings::fermyon::spin::{mysql as v2, rdbms_types as v2t};
use super::v3;
use super::{Client, Mysql, MysqlInstance};
use crate::handles::OpenHandles;
use crate::{HasService, ServiceView};
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

/// What the MySQL host functions see of an instance.
pub type MysqlView<'a> = ServiceView<'a, MysqlInstance>;

/// The [`HasData`] marker of [`MysqlView`].
pub struct HasMysql;

impl HasData for HasMysql {
    type Data<'a> = MysqlView<'a>;
}

/// Adds both interfaces to `linker`.
pub fn add_to_linker<T: HasService<Mysql>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    super::bindings::Mysql::add_to_linker::<T, HasMysql>(linker, <T as HasService<Mysql>>::view)
}

impl MysqlView<'_> {
    fn push(&mut self, client: Client) -> wasmtime::Result<Resource<Client>> {
        self.state.open.push(self.table, client)
    }

    fn client(&self, resource: &Resource<Client>) -> wasmtime::Result<Client> {
        OpenHandles::get(self.table, resource)
    }

    fn close(&mut self, resource: Resource<Client>) -> wasmtime::Result<()> {
        self.state.open.close::<Client, _>(self.table, resource)
    }
}

// fermyon:spin/mysql@2.0.0 (spin-sdk 5).

fn v2_error(e: v3::Error) -> v2t::Error {
    match e {
        v3::Error::ConnectionFailed(m) => v2t::Error::ConnectionFailed(m),
        v3::Error::BadParameter(m) => v2t::Error::BadParameter(m),
        v3::Error::QueryFailed(m) => v2t::Error::QueryFailed(m),
        v3::Error::ValueConversionFailed(m) => v2t::Error::ValueConversionFailed(m),
        v3::Error::Other(m) => v2t::Error::Other(m),
    }
}

fn v3_param(p: v2t::ParameterValue) -> v3::ParameterValue {
    use v2t::ParameterValue as P;
    use v3::ParameterValue as Q;
    match p {
        P::Boolean(v) => Q::Boolean(v),
        P::Int8(v) => Q::Int8(v),
        P::Int16(v) => Q::Int16(v),
        P::Int32(v) => Q::Int32(v),
        P::Int64(v) => Q::Int64(v),
        P::Uint8(v) => Q::Uint8(v),
        P::Uint16(v) => Q::Uint16(v),
        P::Uint32(v) => Q::Uint32(v),
        P::Uint64(v) => Q::Uint64(v),
        P::Floating32(v) => Q::Floating32(v),
        P::Floating64(v) => Q::Floating64(v),
        P::Str(v) => Q::Str(v),
        P::Binary(v) => Q::Binary(v),
        P::DbNull => Q::DbNull,
    }
}

fn v2_value(value: v3::DbValue) -> v2t::DbValue {
    use v2t::DbValue as W;
    use v3::DbValue as V;
    match value {
        V::Boolean(v) => W::Boolean(v),
        V::Int8(v) => W::Int8(v),
        V::Int16(v) => W::Int16(v),
        V::Int32(v) => W::Int32(v),
        V::Int64(v) => W::Int64(v),
        V::Uint8(v) => W::Uint8(v),
        V::Uint16(v) => W::Uint16(v),
        V::Uint32(v) => W::Uint32(v),
        V::Uint64(v) => W::Uint64(v),
        V::Floating32(v) => W::Floating32(v),
        V::Floating64(v) => W::Floating64(v),
        V::Str(v) => W::Str(v),
        V::Binary(v) => W::Binary(v),
        V::DbNull => W::DbNull,
        V::Unsupported => W::Unsupported,
    }
}

fn v2_type(ty: v3::DbDataType) -> v2t::DbDataType {
    use v2t::DbDataType as W;
    use v3::DbDataType as D;
    match ty {
        D::Boolean => W::Boolean,
        D::Int8 => W::Int8,
        D::Int16 => W::Int16,
        D::Int32 => W::Int32,
        D::Int64 => W::Int64,
        D::Uint8 => W::Uint8,
        D::Uint16 => W::Uint16,
        D::Uint32 => W::Uint32,
        D::Uint64 => W::Uint64,
        D::Floating32 => W::Floating32,
        D::Floating64 => W::Floating64,
        D::Str => W::Str,
        D::Binary => W::Binary,
        D::Other => W::Other,
    }
}

type V2<T> = wasmtime::Result<Result<T, v2t::Error>>;

impl v2t::Host for MysqlView<'_> {}
impl v2::Host for MysqlView<'_> {}

impl v2::HostConnection for MysqlView<'_> {
    async fn open(&mut self, address: String) -> V2<Resource<Client>> {
        match self.state.open(&address).await {
            Ok(client) => Ok(Ok(self.push(client)?)),
            Err(e) => Ok(Err(v2_error(e))),
        }
    }

    async fn query(
        &mut self,
        c: Resource<Client>,
        statement: String,
        params: Vec<v2t::ParameterValue>,
    ) -> V2<v2t::RowSet> {
        let params = params.into_iter().map(v3_param).collect();
        Ok(self
            .client(&c)?
            .query(&statement, params)
            .await
            .map(|set| v2t::RowSet {
                columns: set
                    .columns
                    .into_iter()
                    .map(|c| v2t::Column {
                        name: c.name,
                        data_type: v2_type(c.data_type),
                    })
                    .collect(),
                rows: set
                    .rows
                    .into_iter()
                    .map(|r| r.into_iter().map(v2_value).collect())
                    .collect(),
            })
            .map_err(v2_error))
    }

    async fn execute(
        &mut self,
        c: Resource<Client>,
        statement: String,
        params: Vec<v2t::ParameterValue>,
    ) -> V2<()> {
        let params = params.into_iter().map(v3_param).collect();
        Ok(self
            .client(&c)?
            .execute(&statement, params)
            .await
            .map_err(v2_error))
    }

    async fn drop(&mut self, c: Resource<Client>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

// spin:mysql/mysql@3.0.0 (Spin 4.1): every function async.

type V3<T> = wasmtime::Result<Result<T, v3::Error>>;

impl v3::Host for MysqlView<'_> {}

impl v3::HostConnection for MysqlView<'_> {
    async fn drop(&mut self, c: Resource<Client>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

fn v3_client<T>(
    accessor: &Accessor<T, HasMysql>,
    c: &Resource<Client>,
) -> wasmtime::Result<Client> {
    accessor.with(|mut access| access.get().client(c))
}

impl<T> v3::HostConnectionWithStore<T> for HasMysql {
    async fn open(accessor: &Accessor<T, Self>, address: String) -> V3<Resource<Client>> {
        let opening = accessor.with(|mut access| {
            let state = &access.get().state;
            MysqlInstance {
                allowed: state.allowed.clone(),
                open: state.open,
            }
        });
        match opening.open(&address).await {
            Ok(client) => accessor.with(|mut access| access.get().push(client).map(Ok)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query(
        accessor: &Accessor<T, Self>,
        c: Resource<Client>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> V3<(
        Vec<v3::Column>,
        StreamReader<Vec<v3::DbValue>>,
        FutureReader<Result<(), v3::Error>>,
    )> {
        let set = match v3_client(accessor, &c)?.query(&statement, params).await {
            Ok(set) => set,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, set.rows)?;
            let done = FutureReader::new(&mut access, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(Ok((set.columns, rows, done)))
        })
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        c: Resource<Client>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> V3<()> {
        Ok(v3_client(accessor, &c)?.execute(&statement, params).await)
    }
}
