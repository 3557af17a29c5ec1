//! The two PostgreSQL interfaces over [`PgInstance`]; `fermyon:spin/postgres`
//! goes through the 4.2 code, its values narrowed to what `rdbms-types` has.

use super::bindings::fermyon::spin::{postgres as v2, rdbms_types as v2t};
use super::bindings::spin::postgres::postgres as v4;
use super::{Builder, Client, PgInstance, Postgres};
use crate::handles::OpenHandles;
use crate::{HasService, ServiceView};
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

/// What the PostgreSQL host functions see of an instance.
pub type PgView<'a> = ServiceView<'a, PgInstance>;

/// The [`HasData`] marker of [`PgView`].
pub struct HasPg;

impl HasData for HasPg {
    type Data<'a> = PgView<'a>;
}

/// Adds both interfaces to `linker`.
pub fn add_to_linker<T: HasService<Postgres>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    super::bindings::Postgres::add_to_linker::<T, HasPg>(linker, <T as HasService<Postgres>>::view)
}

impl PgView<'_> {
    async fn open(
        &mut self,
        address: &str,
    ) -> wasmtime::Result<Result<Resource<Client>, v4::Error>> {
        match self.state.open(address).await {
            Ok(client) => Ok(Ok(self.push(client)?)),
            Err(e) => Ok(Err(e)),
        }
    }

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

// fermyon:spin/postgres@2.0.0 (spin-sdk 5).

fn v2_error(e: v4::Error) -> v2t::Error {
    match e {
        v4::Error::ConnectionFailed(m) => v2t::Error::ConnectionFailed(m),
        v4::Error::BadParameter(m) => v2t::Error::BadParameter(m),
        v4::Error::QueryFailed(v4::QueryError::Text(m)) => v2t::Error::QueryFailed(m),
        v4::Error::QueryFailed(v4::QueryError::DbError(d)) => v2t::Error::QueryFailed(d.as_text),
        v4::Error::ValueConversionFailed(m) => v2t::Error::ValueConversionFailed(m),
        v4::Error::Other(m) => v2t::Error::Other(m),
    }
}

fn v2_params(params: Vec<v2t::ParameterValue>) -> Result<Vec<v4::ParameterValue>, v2t::Error> {
    use v2t::ParameterValue as P;
    use v4::ParameterValue as Q;
    params
        .into_iter()
        .map(|p| {
            Ok(match p {
                P::Boolean(b) => Q::Boolean(b),
                P::Int8(i) => Q::Int8(i),
                P::Int16(i) => Q::Int16(i),
                P::Int32(i) => Q::Int32(i),
                P::Int64(i) => Q::Int64(i),
                P::Floating32(f) => Q::Floating32(f),
                P::Floating64(f) => Q::Floating64(f),
                P::Str(s) => Q::Str(s),
                P::Binary(b) => Q::Binary(b),
                P::DbNull => Q::DbNull,
                P::Uint8(_) | P::Uint16(_) | P::Uint32(_) | P::Uint64(_) => {
                    return Err(v2t::Error::BadParameter(
                        "PostgreSQL has no unsigned integer types".into(),
                    ));
                }
            })
        })
        .collect()
}

fn v2_value(value: v4::DbValue) -> v2t::DbValue {
    use v2t::DbValue as W;
    use v4::DbValue as V;
    match value {
        V::Boolean(b) => W::Boolean(b),
        V::Int8(i) => W::Int8(i),
        V::Int16(i) => W::Int16(i),
        V::Int32(i) => W::Int32(i),
        V::Int64(i) => W::Int64(i),
        V::Floating32(f) => W::Floating32(f),
        V::Floating64(f) => W::Floating64(f),
        V::Str(s) => W::Str(s),
        V::Binary(b) => W::Binary(b),
        V::DbNull => W::DbNull,
        _ => W::Unsupported,
    }
}

fn v2_type(ty: v4::DbDataType) -> v2t::DbDataType {
    use v2t::DbDataType as W;
    use v4::DbDataType as D;
    match ty {
        D::Boolean => W::Boolean,
        D::Int8 => W::Int8,
        D::Int16 => W::Int16,
        D::Int32 => W::Int32,
        D::Int64 => W::Int64,
        D::Floating32 => W::Floating32,
        D::Floating64 => W::Floating64,
        D::Str => W::Str,
        D::Binary => W::Binary,
        _ => W::Other,
    }
}

impl v2t::Host for PgView<'_> {}
impl v2::Host for PgView<'_> {}

impl v2::HostConnection for PgView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Client>, v2t::Error>> {
        Ok(PgView::open(self, &address).await?.map_err(v2_error))
    }

    async fn query(
        &mut self,
        c: Resource<Client>,
        statement: String,
        params: Vec<v2t::ParameterValue>,
    ) -> wasmtime::Result<Result<v2t::RowSet, v2t::Error>> {
        let params = match v2_params(params) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
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
    ) -> wasmtime::Result<Result<u64, v2t::Error>> {
        let params = match v2_params(params) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
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

// spin:postgres/postgres@4.2.0.

type V4<T> = wasmtime::Result<Result<T, v4::Error>>;

impl v4::Host for PgView<'_> {}

impl v4::HostConnection for PgView<'_> {
    async fn open(&mut self, address: String) -> V4<Resource<Client>> {
        PgView::open(self, &address).await
    }

    async fn query(
        &mut self,
        c: Resource<Client>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> V4<v4::RowSet> {
        Ok(self.client(&c)?.query(&statement, params).await)
    }

    async fn execute(
        &mut self,
        c: Resource<Client>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> V4<u64> {
        Ok(self.client(&c)?.execute(&statement, params).await)
    }

    async fn drop(&mut self, c: Resource<Client>) -> wasmtime::Result<()> {
        self.close(c)
    }
}

const NO_TLS: &str =
    "a custom CA root needs TLS, which cloudfn up's PostgreSQL connections do not have";

impl v4::HostConnectionBuilder for PgView<'_> {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<Builder>> {
        Ok(self.table.push(Builder { address })?)
    }

    async fn set_ca_root(&mut self, _: Resource<Builder>, _certificate: String) -> V4<()> {
        Ok(Err(v4::Error::Other(NO_TLS.into())))
    }

    async fn build(&mut self, builder: Resource<Builder>) -> V4<Resource<Client>> {
        let address = self.table.get(&builder)?.address.clone();
        PgView::open(self, &address).await
    }

    async fn drop(&mut self, builder: Resource<Builder>) -> wasmtime::Result<()> {
        self.table.delete(builder)?;
        Ok(())
    }
}

fn v4_client<T>(accessor: &Accessor<T, HasPg>, c: &Resource<Client>) -> wasmtime::Result<Client> {
    accessor.with(|mut access| access.get().client(c))
}

async fn open_async<T>(accessor: &Accessor<T, HasPg>, address: String) -> V4<Resource<Client>> {
    let opening = accessor.with(|mut access| {
        let state = &access.get().state;
        PgInstance {
            allowed: state.allowed.clone(),
            open: state.open,
        }
    });
    match opening.open(&address).await {
        Ok(client) => accessor.with(|mut access| access.get().push(client).map(Ok)),
        Err(e) => Ok(Err(e)),
    }
}

impl<T> v4::HostConnectionWithStore<T> for HasPg {
    async fn open_async(accessor: &Accessor<T, Self>, address: String) -> V4<Resource<Client>> {
        open_async(accessor, address).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        c: Resource<Client>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> V4<(
        Vec<v4::Column>,
        StreamReader<Vec<v4::DbValue>>,
        FutureReader<Result<(), v4::Error>>,
    )> {
        let set = match v4_client(accessor, &c)?.query(&statement, params).await {
            Ok(set) => set,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, set.rows)?;
            let done = FutureReader::new(&mut access, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(Ok((set.columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        c: Resource<Client>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> V4<u64> {
        Ok(v4_client(accessor, &c)?.execute(&statement, params).await)
    }
}

impl<T> v4::HostConnectionBuilderWithStore<T> for HasPg {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        builder: Resource<Builder>,
    ) -> V4<Resource<Client>> {
        let address = accessor
            .with(|mut access| access.get().table.get(&builder).map(|b| b.address.clone()))?;
        open_async(accessor, address).await
    }
}
