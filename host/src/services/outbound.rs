//! `allowed_outbound_hosts`: which outgoing HTTP requests a guest may make.
//! With an empty list (the default) every outgoing request is denied.

use super::{GrantContext, HasService, Service, ServiceConfig};
use http::uri::Uri;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, Result as HttpResult, WasiBody, WasiHttpHooks,
};

/// One allowed destination, as written in the manifest (`https://api.example.com`,
/// `http://127.0.0.1:8080`, `https://*.example.com`, `*://*:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: String,
    host: String,
    port: Option<String>,
}

/// The outgoing-request policy of one component.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

/// An `allowed_outbound_hosts` entry that cannot be understood.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid allowed_outbound_hosts entry `{0}`: expected scheme://host[:port], for example https://api.example.com or *://*:*"
)]
pub struct InvalidHost(pub String);

impl OutboundPolicy {
    /// Builds the policy from a component's `allowed_outbound_hosts`.
    pub fn new(entries: &[String]) -> Result<Self, InvalidHost> {
        let allowed = entries
            .iter()
            .map(|entry| {
                let (scheme, rest) = entry
                    .split_once("://")
                    .ok_or_else(|| InvalidHost(entry.clone()))?;
                let rest = rest.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p.to_owned())),
                    None => (rest, None),
                };
                if host.is_empty() || scheme.is_empty() {
                    return Err(InvalidHost(entry.clone()));
                }
                Ok(AllowedHost {
                    scheme: scheme.to_owned(),
                    host: host.to_owned(),
                    port,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Whether a request to `uri` is allowed.
    pub fn allows(&self, uri: &Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("http");
        let Some(host) = uri.host() else {
            return false;
        };
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 })
            .to_string();
        self.allowed.iter().any(|a| {
            let scheme_ok = a.scheme == "*" || a.scheme.eq_ignore_ascii_case(scheme);
            let host_ok = a.host == "*"
                || a.host.eq_ignore_ascii_case(host)
                || a.host.strip_prefix("*.").is_some_and(|suffix| {
                    host.len() > suffix.len() + 1
                        && host
                            .to_ascii_lowercase()
                            .ends_with(&format!(".{}", suffix.to_ascii_lowercase()))
                });
            let default_port = match a.scheme.as_str() {
                "https" => "443",
                "http" => "80",
                _ => "",
            };
            let port_ok = match &a.port {
                Some(p) => p == "*" || *p == port,
                None => default_port == port,
            };
            scheme_ok && host_ok && port_ok
        })
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
        OutboundPolicy::new(&ctx.component.allowed_outbound_hosts).map_err(|e| e.to_string())
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
        OutboundPolicy::new(&entries)
            .expect("valid")
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
        assert!(OutboundPolicy::new(&["example.com".into()]).is_err());
    }
}
