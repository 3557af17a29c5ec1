//! Outbound PostgreSQL, as Spin provides it: `fermyon:spin/postgres@2.0.0`
//! (spin-sdk 5) and `spin:postgres/postgres@4.2.0` (spin-sdk 6+, which also
//! serves guests importing 4.0.0 and 4.1.0), to a real server at an address
//! `allowed_outbound_hosts` names (`postgres://host:port`); any other is
//! `connection-failed` "address … is not permitted", as in Spin. Statements
//! run with their parameters bound, typed columns come back as Spin's values
//! ([`types`]), server errors as `query-failed` with the server's code and
//! message. Connections are plain TCP (no TLS) and close with their instance.

#![allow(
    clippy::result_large_err,
    reason = "the interface's error carries the server's whole error record, returned as it is"
)]

mod types;
mod wit;

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::handles::OpenHandles;
use std::sync::Arc;
use wasmtime::component::Linker;

/// Host bindings of the two interfaces.
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/postgres",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/postgres.connection": crate::postgres::Client,
            "spin:postgres/postgres.connection": crate::postgres::Client,
            "spin:postgres/postgres.connection-builder": crate::postgres::Builder,
        },
    });
}

use bindings::spin::postgres::postgres as v4;

/// Most connections one instance may hold open at once.
pub const MAX_OPEN_CONNECTIONS: usize = 64;
/// Most bytes one query result may hold in the host before it is refused.
pub const MAX_RESULT_BYTES: usize = 64 << 20;

/// One open connection (the guest's `connection` resource).
#[derive(Clone)]
pub struct Client {
    inner: Arc<tokio_postgres::Client>,
}

/// A connection being described (the guest's `connection-builder`).
pub struct Builder {
    address: String,
}

fn query_failed(e: tokio_postgres::Error) -> v4::Error {
    match e.as_db_error() {
        Some(db) => v4::Error::QueryFailed(v4::QueryError::DbError(v4::DbError {
            as_text: db.to_string(),
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: [
                ("hint", db.hint()),
                ("schema", db.schema()),
                ("table", db.table()),
                ("column", db.column()),
                ("constraint", db.constraint()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect(),
        })),
        None => v4::Error::QueryFailed(v4::QueryError::Text(e.to_string())),
    }
}

impl Client {
    /// Runs a statement that returns rows.
    pub async fn query(
        &self,
        statement: &str,
        params: Vec<v4::ParameterValue>,
    ) -> Result<v4::RowSet, v4::Error> {
        let params = types::params(params)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let statement = self.inner.prepare(statement).await.map_err(query_failed)?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| v4::Column {
                name: c.name().to_owned(),
                data_type: types::data_type(c.type_()),
            })
            .collect();
        let rows = self
            .inner
            .query(&statement, &refs)
            .await
            .map_err(query_failed)?;
        let mut bytes = 0;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let values = (0..row.len())
                .map(|i| types::value(row, i))
                .collect::<Result<Vec<_>, _>>()?;
            bytes += values.iter().map(types::size).sum::<usize>();
            if bytes > MAX_RESULT_BYTES {
                return Err(v4::Error::Other(format!(
                    "the query result exceeds the host's limit of {} MiB; select fewer rows",
                    MAX_RESULT_BYTES >> 20
                )));
            }
            out.push(values);
        }
        Ok(v4::RowSet { columns, rows: out })
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(
        &self,
        statement: &str,
        params: Vec<v4::ParameterValue>,
    ) -> Result<u64, v4::Error> {
        let params = types::params(params)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        self.inner
            .execute(statement, &refs)
            .await
            .map_err(query_failed)
    }
}

/// Whether `allowed` permits every host `address` names (URL or `key=value` form).
fn check_address(
    allowed: &AllowedHosts,
    address: &str,
) -> Result<tokio_postgres::Config, v4::Error> {
    let config: tokio_postgres::Config = address
        .parse()
        .map_err(|e: tokio_postgres::Error| v4::Error::ConnectionFailed(e.to_string()))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let tokio_postgres::config::Host::Tcp(name) = host else {
            return Err(v4::Error::ConnectionFailed(
                "Unix sockets are not supported on WebAssembly".into(),
            ));
        };
        let port = ports
            .get(i)
            .or(if ports.len() == 1 {
                ports.first()
            } else {
                None
            })
            .copied();
        if !allowed.allows("postgres", name, port) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            return Err(v4::Error::ConnectionFailed(format!(
                "address postgres://{name}{port} is not permitted"
            )));
        }
    }
    Ok(config)
}

/// One instance's state.
pub struct PgInstance {
    allowed: AllowedHosts,
    open: OpenHandles,
}

impl PgInstance {
    /// Connects to `address` for the guest.
    async fn open(&self, address: &str) -> Result<Client, v4::Error> {
        let config = check_address(&self.allowed, address)?;
        if self.open.reached(MAX_OPEN_CONNECTIONS) {
            return Err(v4::Error::ConnectionFailed("too many connections".into()));
        }
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| v4::Error::ConnectionFailed(format!("{e}")))?;
        // The connection runs until the client is dropped with the guest's resource.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("postgres connection ended: {e}");
            }
        });
        Ok(Client {
            inner: Arc::new(client),
        })
    }
}

/// The service.
pub struct Postgres;

impl Service for Postgres {
    type Grant = AllowedHosts;
    type Instance = PgInstance;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<AllowedHosts, String> {
        AllowedHosts::of(ctx)
    }

    fn instance(&self, grant: &AllowedHosts) -> PgInstance {
        PgInstance {
            allowed: grant.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}
