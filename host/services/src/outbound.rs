//! Outgoing `wasi:http` requests: allowed only to the destinations
//! `allowed_outbound_hosts` names (see [`super::allowed_hosts`]); with none
//! (the default) every outgoing request is denied.

use super::allowed_hosts::AllowedHosts;
use super::{GrantContext, HasService, Service, ServiceConfig};
use http::uri::Uri;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, Result as HttpResult, WasiBody, WasiHttpHooks,
};

/// The outgoing-request policy of one component.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    hosts: AllowedHosts,
}

impl OutboundPolicy {
    /// The policy allowing `hosts`.
    pub fn new(hosts: AllowedHosts) -> Self {
        Self { hosts }
    }

    /// Whether a request to `uri` is allowed.
    pub fn allows(&self, uri: &Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        uri.host()
            .is_some_and(|host| self.hosts.allows(scheme, host, uri.port_u16()))
    }
}

/// The service: each component's policy, from its `allowed_outbound_hosts`.
/// It links nothing itself: the engine links `wasi:http` with this policy as
/// its hooks.
pub struct OutboundHttp;

impl Service for OutboundHttp {
    type Grant = OutboundPolicy;
    type Instance = OutboundPolicy;

    fn new(_: &ServiceConfig) -> Result<Self, String> {
        Ok(Self)
    }

    fn grant(&self, ctx: &GrantContext<'_>) -> Result<OutboundPolicy, String> {
        AllowedHosts::of(ctx).map(OutboundPolicy::new)
    }

    fn instance(&self, grant: &OutboundPolicy) -> OutboundPolicy {
        grant.clone()
    }

    fn add_to_linker<T: HasService<Self>>(_: &mut Linker<T>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = HttpResult<()>> + Send>,
    ) -> Box<
        dyn Future<
                Output = HttpResult<(
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = HttpResult<()>> + Send>,
                )>,
            > + Send,
    > {
        if !self.allows(request.uri()) {
            tracing::warn!(uri = %request.uri(), "outgoing request denied: not in allowed_outbound_hosts");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let default: &mut dyn WasiHttpHooks = Default::default();
        default.send_request(request, options, fut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], uri: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        OutboundPolicy::new(AllowedHosts::new(&entries, |_| None).expect("valid"))
            .allows(&uri.parse().expect("uri"))
    }

    #[test]
    fn policy_table() {
        assert!(!allows(&[], "https://example.com/"));
        assert!(allows(&["https://example.com"], "https://example.com/x"));
        assert!(!allows(&["https://example.com"], "http://example.com/x"));
        assert!(!allows(
            &["https://example.com"],
            "https://example.com:8443/x"
        ));
        assert!(allows(
            &["https://example.com:8443"],
            "https://example.com:8443/x"
        ));
        assert!(allows(
            &["https://*.example.com"],
            "https://api.example.com/"
        ));
        assert!(!allows(&["https://*.example.com"], "https://example.com/"));
        assert!(allows(&["*://*:*"], "http://10.0.0.1:1234/"));
        assert!(allows(&["http://127.0.0.1:*"], "http://127.0.0.1:9/"));
        assert!(AllowedHosts::new(&["example.com".into()], |_| None).is_err());
    }
}
