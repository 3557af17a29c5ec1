//! Outbound TCP and UDP through `wasi:sockets`, granted by
//! `allowed_outbound_hosts` as Spin grants it: a TCP connection to an
//! address needs a `tcp://` entry that allows it (a host, a CIDR network, a
//! port or range), a UDP datagram a `udp://` one (`*://` entries allow
//! both). Listening, accepting and binding to a chosen address are never
//! allowed; a denied socket gets `access-denied`, not a trap. Name lookups
//! are allowed to components with any entry.

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;

/// The service.
pub struct Sockets;

/// Whether a socket use is allowed: outbound destinations by the entries,
/// the OS's own implicit bind (to the unspecified address, port 0) always.
pub fn allows(hosts: &AllowedHosts, addr: SocketAddr, use_: SocketAddrUse) -> bool {
    let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
    let ip = addr.ip().to_string();
    match use_ {
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => implicit_bind,
        SocketAddrUse::TcpConnect => hosts.allows("tcp", &ip, Some(addr.port())),
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
            hosts.allows("udp", &ip, Some(addr.port()))
        }
        _ => false,
    }
}

impl Service for Sockets {
    type Grant = Option<Arc<AllowedHosts>>;
    type Instance = ();

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<Self::Grant, String> {
        if ctx.component.allowed_outbound_hosts.is_empty() {
            return Ok(None);
        }
        AllowedHosts::of(ctx).map(|hosts| Some(Arc::new(hosts)))
    }

    fn instance(&self, _: &Self::Grant) {}

    fn configure_wasi(&self, grant: &Self::Grant, wasi: &mut WasiCtxBuilder) {
        let Some(hosts) = grant else {
            return;
        };
        let hosts = hosts.clone();
        wasi.allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(true);
        wasi.socket_addr_check(move |addr, use_| {
            let allowed = allows(&hosts, addr, use_);
            Box::pin(async move { allowed })
        });
    }

    fn add_to_linker<T: HasService<Self>>(_: &mut Linker<T>) -> wasmtime::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_only_by_the_entries() {
        let entries: Vec<String> = ["tcp://127.0.0.1:7000..7010", "udp://10.0.0.0/8:53"]
            .map(String::from)
            .to_vec();
        let hosts = AllowedHosts::new(&entries, |_| None).expect("valid");
        let at = |s: &str| s.parse::<SocketAddr>().expect("address");
        assert!(allows(
            &hosts,
            at("127.0.0.1:7005"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!allows(
            &hosts,
            at("127.0.0.1:7010"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!allows(
            &hosts,
            at("127.0.0.2:7005"),
            SocketAddrUse::TcpConnect
        ));
        assert!(allows(&hosts, at("10.9.8.7:53"), SocketAddrUse::UdpSend));
        assert!(
            !allows(&hosts, at("10.9.8.7:53"), SocketAddrUse::TcpConnect),
            "udp:// is not tcp://"
        );
        assert!(
            allows(&hosts, at("0.0.0.0:0"), SocketAddrUse::TcpBind),
            "the implicit bind of a connect"
        );
        assert!(allows(&hosts, at("[::]:0"), SocketAddrUse::UdpBind));
        assert!(!allows(
            &hosts,
            at("127.0.0.1:7005"),
            SocketAddrUse::TcpBind
        ));
        assert!(
            !allows(&hosts, at("0.0.0.0:8080"), SocketAddrUse::TcpBind),
            "no chosen port"
        );
        assert!(!allows(&hosts, at("0.0.0.0:0"), SocketAddrUse::TcpListen));
    }
}
