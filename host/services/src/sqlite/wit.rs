//! The two SQLite interfaces over [`SqliteInstance`].

use super::{Connection, Rows, Sqlite, SqliteError, SqliteInstance};
use crate::handles::OpenHandles;
use crate::{HasService, ServiceView};
use rusqlite::types::Value;
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/sqlite",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/sqlite.connection": crate::sqlite::Connection,
            "spin:sqlite/sqlite.connection": crate::sqlite::Connection,
        },
    });
}

use generated::fermyon::spin::sqlite as v2;
use generated::spin::sqlite::sqlite as v3;

/// What the SQLite host functions see of an instance.
pub type SqliteView<'a> = ServiceView<'a, SqliteInstance>;

/// The [`HasData`] marker of [`SqliteView`].
pub struct HasSqlite;

impl HasData for HasSqlite {
    type Data<'a> = SqliteView<'a>;
}

/// Adds both interfaces to `linker`.
pub fn add_to_linker<T: HasService<Sqlite>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    generated::Sqlite::add_to_linker::<T, HasSqlite>(linker, <T as HasService<Sqlite>>::view)
}

impl SqliteView<'_> {
    fn push(&mut self, connection: Connection) -> wasmtime::Result<Resource<Connection>> {
        self.state.open.push(self.table, connection)
    }

    fn connection(&self, resource: &Resource<Connection>) -> wasmtime::Result<Connection> {
        OpenHandles::get(self.table, resource)
    }

    fn close(&mut self, resource: Resource<Connection>) -> wasmtime::Result<()> {
        self.state.open.close::<Connection, _>(self.table, resource)
    }

    async fn open(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<Connection>, SqliteError>> {
        match self.state.connect(label).await {
            Ok(connection) => Ok(Ok(self.push(connection)?)),
            Err(e) => Ok(Err(e)),
        }
    }
}

// fermyon:spin/sqlite@2.0.0 (spin-sdk 5).

fn v2_error(e: SqliteError) -> v2::Error {
    match e {
        SqliteError::AccessDenied => v2::Error::AccessDenied,
        SqliteError::NoSuchDatabase => v2::Error::NoSuchDatabase,
        SqliteError::DatabaseFull => v2::Error::DatabaseFull,
        SqliteError::Io(m) => v2::Error::Io(m),
    }
}

fn from_v2(value: v2::Value) -> Value {
    match value {
        v2::Value::Integer(i) => Value::Integer(i),
        v2::Value::Real(r) => Value::Real(r),
        v2::Value::Text(t) => Value::Text(t),
        v2::Value::Blob(b) => Value::Blob(b),
        v2::Value::Null => Value::Null,
    }
}

fn to_v2(value: Value) -> v2::Value {
    match value {
        Value::Integer(i) => v2::Value::Integer(i),
        Value::Real(r) => v2::Value::Real(r),
        Value::Text(t) => v2::Value::Text(t),
        Value::Blob(b) => v2::Value::Blob(b),
        Value::Null => v2::Value::Null,
    }
}

fn v2_result(rows: Rows) -> v2::QueryResult {
    v2::QueryResult {
        columns: rows.columns,
        rows: rows
            .rows
            .into_iter()
            .map(|values| v2::RowResult {
                values: values.into_iter().map(to_v2).collect(),
            })
            .collect(),
    }
}

impl v2::Host for SqliteView<'_> {}

impl v2::HostConnection for SqliteView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, v2::Error>> {
        Ok(SqliteView::open(self, &database).await?.map_err(v2_error))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> wasmtime::Result<Result<v2::QueryResult, v2::Error>> {
        let parameters = parameters.into_iter().map(from_v2).collect();
        Ok(self
            .connection(&connection)?
            .execute(statement, parameters)
            .await
            .map(v2_result)
            .map_err(v2_error))
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(connection)
    }
}

// spin:sqlite/sqlite@3.1.0 (spin-sdk 6+, and 3.0.0 guests by semver).

fn v3_error(e: SqliteError) -> v3::Error {
    match e {
        SqliteError::AccessDenied => v3::Error::AccessDenied,
        SqliteError::NoSuchDatabase => v3::Error::NoSuchDatabase,
        SqliteError::DatabaseFull => v3::Error::DatabaseFull,
        SqliteError::Io(m) => v3::Error::Io(m),
    }
}

fn from_v3(value: v3::Value) -> Value {
    match value {
        v3::Value::Integer(i) => Value::Integer(i),
        v3::Value::Real(r) => Value::Real(r),
        v3::Value::Text(t) => Value::Text(t),
        v3::Value::Blob(b) => Value::Blob(b),
        v3::Value::Null => Value::Null,
    }
}

fn to_v3(value: Value) -> v3::Value {
    match value {
        Value::Integer(i) => v3::Value::Integer(i),
        Value::Real(r) => v3::Value::Real(r),
        Value::Text(t) => v3::Value::Text(t),
        Value::Blob(b) => v3::Value::Blob(b),
        Value::Null => v3::Value::Null,
    }
}

fn v3_rows(rows: Vec<Vec<Value>>) -> Vec<v3::RowResult> {
    rows.into_iter()
        .map(|values| v3::RowResult {
            values: values.into_iter().map(to_v3).collect(),
        })
        .collect()
}

impl v3::Host for SqliteView<'_> {}

impl v3::HostConnection for SqliteView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, v3::Error>> {
        Ok(SqliteView::open(self, &database).await?.map_err(v3_error))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<Result<v3::QueryResult, v3::Error>> {
        let parameters = parameters.into_iter().map(from_v3).collect();
        Ok(self
            .connection(&connection)?
            .execute(statement, parameters)
            .await
            .map(|rows| v3::QueryResult {
                columns: rows.columns,
                rows: v3_rows(rows.rows),
            })
            .map_err(v3_error))
    }

    async fn last_insert_rowid(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<i64> {
        self.connection(&connection)?
            .last_insert_rowid()
            .await
            .map_err(|e| wasmtime::format_err!("{e:?}"))
    }

    async fn changes(&mut self, connection: Resource<Connection>) -> wasmtime::Result<u64> {
        self.connection(&connection)?
            .changes()
            .await
            .map_err(|e| wasmtime::format_err!("{e:?}"))
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.close(connection)
    }
}

fn v3_connection<T>(
    accessor: &Accessor<T, HasSqlite>,
    resource: &Resource<Connection>,
) -> wasmtime::Result<Connection> {
    accessor.with(|mut access| access.get().connection(resource))
}

impl<T> v3::HostConnectionWithStore<T> for HasSqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, v3::Error>> {
        let opening = accessor.with(|mut access| {
            let state = &access.get().state;
            SqliteInstance {
                allowed: state.allowed.clone(),
                databases: state.databases.clone(),
                open: state.open,
            }
        });
        match opening.connect(&database).await {
            Ok(connection) => accessor.with(|mut access| access.get().push(connection).map(Ok)),
            Err(e) => Ok(Err(v3_error(e))),
        }
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<String>,
                StreamReader<v3::RowResult>,
                FutureReader<Result<(), v3::Error>>,
            ),
            v3::Error,
        >,
    > {
        let parameters = parameters.into_iter().map(from_v3).collect();
        let rows = match v3_connection(accessor, &connection)?
            .execute(statement, parameters)
            .await
        {
            Ok(rows) => rows,
            Err(e) => return Ok(Err(v3_error(e))),
        };
        accessor.with(|mut access| {
            let stream = StreamReader::new(&mut access, v3_rows(rows.rows))?;
            let done = FutureReader::new(&mut access, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(Ok((rows.columns, stream, done)))
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<i64> {
        v3_connection(accessor, &connection)?
            .last_insert_rowid()
            .await
            .map_err(|e| wasmtime::format_err!("{e:?}"))
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<u64> {
        v3_connection(accessor, &connection)?
            .changes()
            .await
            .map_err(|e| wasmtime::format_err!("{e:?}"))
    }
}
