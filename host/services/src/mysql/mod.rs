//! Outbound MySQL, as Spin provides it: `fermyon:spin/mysql@2.0.0`
//! (spin-sdk 5) and `spin:mysql/mysql@3.0.0` (Spin 4.1, async, rows as a
//! stream), to a real server at an address `allowed_outbound_hosts` names
//! (`mysql://host:port`). The rules are Spin's
//! (`crates/factor-outbound-mysql/src/{host,client}.rs`): an address not
//! granted is `connection-failed` "address … is not permitted"; a server that
//! cannot be reached or refuses the credentials is `connection-failed` with
//! the driver's words; a statement the server rejects is `query-failed` with
//! its code, state and message; a column the interface has no type for is
//! `value-conversion-failed`. `?ssl-mode=…` (other than `DISABLED`) turns TLS
//! on, as in Spin. The driver is `mysql_async`, Spin's own: its I/O runs on
//! the host's runtime, never blocking the guest's thread, and an instance's
//! connections close with it.

#![allow(
    clippy::result_large_err,
    reason = "the interface's error is returned as the guest receives it"
)]

mod types;
mod wit;

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig};
use crate::handles::OpenHandles;
use futures::TryStreamExt as _;
use mysql_async::prelude::Queryable as _;
use std::sync::Arc;
use tokio::sync::Mutex;
use wasmtime::component::Linker;

/// Host bindings of the two interfaces.
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/mysql",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/mysql.connection": crate::mysql::Client,
            "spin:mysql/mysql.connection": crate::mysql::Client,
        },
    });
}

use bindings::spin::mysql::mysql as v3;

/// Most connections one instance may hold open at once.
pub const MAX_OPEN_CONNECTIONS: usize = 64;
/// Most bytes one query result may hold in the host before it is refused.
pub const MAX_RESULT_BYTES: usize = 64 << 20;

/// One open connection (the guest's `connection` resource). MySQL runs one
/// statement at a time on a connection: concurrent calls take turns.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Mutex<mysql_async::Conn>>,
}

/// The rows of one `query`, with their columns.
pub struct RowSet {
    /// Name and type of each column.
    pub columns: Vec<v3::Column>,
    /// The rows, each a value per column.
    pub rows: Vec<Vec<v3::DbValue>>,
}

fn query_failed(e: mysql_async::Error) -> v3::Error {
    v3::Error::QueryFailed(format!("{e:?}"))
}

impl Client {
    /// Runs a statement that returns rows, with `params` bound to its `?`s.
    pub async fn query(
        &self,
        statement: &str,
        params: Vec<v3::ParameterValue>,
    ) -> Result<RowSet, v3::Error> {
        let mut conn = self.inner.lock().await;
        let mut result = conn
            .exec_iter(statement, types::params(params))
            .await
            .map_err(query_failed)?;
        let columns = types::columns(result.columns().as_deref().unwrap_or_default());
        let mut rows = Vec::new();
        // The first result set, read as it arrives, so an oversized one is
        // refused before it is all in memory.
        let Some(mut stream) = result
            .stream::<mysql_async::Row>()
            .await
            .map_err(|e| v3::Error::Other(e.to_string()))?
        else {
            return Ok(RowSet { columns, rows });
        };
        let mut bytes = 0;
        while let Some(row) = stream
            .try_next()
            .await
            .map_err(|e| v3::Error::Other(e.to_string()))?
        {
            let values = types::row(row, &columns)?;
            bytes += values.iter().map(types::size).sum::<usize>();
            if bytes > MAX_RESULT_BYTES {
                return Err(v3::Error::Other(format!(
                    "query result exceeds limit of {MAX_RESULT_BYTES} bytes"
                )));
            }
            rows.push(values);
        }
        Ok(RowSet { columns, rows })
    }

    /// Runs a statement (insert, update, delete, DDL).
    pub async fn execute(
        &self,
        statement: &str,
        params: Vec<v3::ParameterValue>,
    ) -> Result<(), v3::Error> {
        self.inner
            .lock()
            .await
            .exec_drop(statement, types::params(params))
            .await
            .map_err(query_failed)
    }
}

/// The driver's options for `address`, TLS as `ssl-mode`/`sslmode` asks:
/// `mysql_async` refuses those keys itself, so they are taken out first.
fn options(address: &str) -> Result<mysql_async::Opts, String> {
    let url = url::Url::parse(address).map_err(|e| format!("{e:?}"))?;
    let is_ssl = |k: &str| ["ssl-mode", "sslmode"].contains(&k.to_ascii_lowercase().as_str());
    let tls = url
        .query_pairs()
        .any(|(k, v)| is_ssl(&k) && !v.eq_ignore_ascii_case("disabled"));
    let rest: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_ssl(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut cleaned = url.clone();
    cleaned.set_query(None);
    if !rest.is_empty() {
        cleaned.query_pairs_mut().extend_pairs(rest);
    }
    let opts = mysql_async::Opts::from_url(cleaned.as_str()).map_err(|e| format!("{e:?}"))?;
    Ok(mysql_async::OptsBuilder::from_opts(opts)
        .ssl_opts(tls.then(mysql_async::SslOpts::default))
        .into())
}

/// One instance's state.
pub struct MysqlInstance {
    allowed: AllowedHosts,
    open: OpenHandles,
}

impl MysqlInstance {
    /// Connects to `address` for the guest: refused when not granted or when
    /// the instance holds its limit of connections, as Spin refuses them.
    async fn open(&self, address: &str) -> Result<Client, v3::Error> {
        if !self.allowed.check_url(address, "mysql") {
            return Err(v3::Error::ConnectionFailed(format!(
                "address {address} is not permitted"
            )));
        }
        if self.open.reached(MAX_OPEN_CONNECTIONS) {
            return Err(v3::Error::ConnectionFailed("too many connections".into()));
        }
        let opts = options(address).map_err(v3::Error::ConnectionFailed)?;
        let conn = mysql_async::Conn::new(opts)
            .await
            .map_err(|e| v3::Error::ConnectionFailed(format!("{e:?}")))?;
        Ok(Client {
            inner: Arc::new(Mutex::new(conn)),
        })
    }
}

/// The service.
pub struct Mysql;

impl Service for Mysql {
    type Grant = AllowedHosts;
    type Instance = MysqlInstance;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<AllowedHosts, String> {
        AllowedHosts::of(ctx)
    }

    fn instance(&self, grant: &AllowedHosts) -> MysqlInstance {
        MysqlInstance {
            allowed: grant.clone(),
            open: OpenHandles::default(),
        }
    }

    fn add_to_linker<T: HasService<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        wit::add_to_linker(linker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_mode_turns_tls_on_unless_disabled_and_other_keys_stay() {
        let plain = options("mysql://app:pw@127.0.0.1/db").expect("opts");
        assert!(plain.ssl_opts().is_none());
        let disabled = options("mysql://app:pw@127.0.0.1/db?ssl-mode=DISABLED").expect("opts");
        assert!(disabled.ssl_opts().is_none());
        let verify =
            options("mysql://app:pw@127.0.0.1/db?sslMode=VERIFY_CA&pool_max=10").expect("opts");
        assert!(verify.ssl_opts().is_some());
        assert_eq!(verify.pool_opts().constraints().max(), 10);
        assert_eq!(verify.db_name(), Some("db"));
        assert_eq!(verify.user(), Some("app"));
    }

    #[test]
    fn an_address_that_is_not_a_url_is_refused_with_the_reason() {
        let e = options("not a url").expect_err("refused");
        assert!(e.contains("RelativeUrlWithoutBase"), "{e}");
    }
}
