//! `allowed_outbound_hosts`, read as Spin reads it, for every outbound
//! service: HTTP, Redis, PostgreSQL, MQTT and `wasi:sockets`.
//!
//! An entry is `scheme://host[:port]`:
//! - `scheme` is a name (`https`, `redis`, `postgres`, `mqtt`, `tcp`, `udp`)
//!   or `*`;
//! - `host` is a name, `*`, `*.example.com` (any subdomain), or an IP
//!   address or network in CIDR form (`10.0.0.0/8`);
//! - `port` is a number, a range `8000..9000` (end excluded), or `*`; without
//!   one, the scheme's well-known port (http 80, https 443, postgres 5432,
//!   mysql 3306, redis 6379, mqtt 1883), and a scheme without one (`tcp`)
//!   needs an explicit port.
//!
//! Entries may use application variables, `"redis://{{ redis_host }}"`,
//! resolved when the component loads. Nothing is allowed by default.

use super::GrantContext;
use std::net::IpAddr;

/// One entry that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed_outbound_hosts entry {entry:?}: {reason}")]
pub struct InvalidHost {
    /// The entry as written (after variable substitution).
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    Subdomain(String),
    Name(String),
    Network {
        address: IpAddr,
        prefix: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Port {
    Any,
    One(u16),
    /// `start..end`, end excluded.
    Range(u16, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scheme: Option<String>,
    host: Host,
    port: Port,
}

/// The destinations one component may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

/// The port a scheme uses when none is given.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHosts {
    /// The hosts the manifest allows `ctx.component`.
    pub fn of(ctx: &GrantContext<'_>) -> Result<Self, String> {
        Self::new(&ctx.component.allowed_outbound_hosts, |name| {
            super::variables::application_value(ctx.manifest, name, |k| std::env::var(k).ok())
        })
        .map_err(|e| e.to_string())
    }

    /// Parses a component's entries, `{{ name }}` replaced through `variable`.
    pub fn new(
        entries: &[String],
        variable: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, InvalidHost> {
        let entries = entries
            .iter()
            .map(|entry| parse_entry(&substitute(entry, &variable)?))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Whether `scheme://host:port` may be reached (`port` `None`: the scheme's own).
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return false;
        };
        self.entries.iter().any(|e| {
            e.scheme
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(scheme))
                && host_allows(&e.host, host)
                && match e.port {
                    Port::Any => true,
                    Port::One(p) => p == port,
                    Port::Range(start, end) => (start..end).contains(&port),
                }
        })
    }

    /// Whether the URL `address` (`redis://host:port/…`, `postgres://user@host/db`) may be
    /// reached; `None` when it is not a URL with a host.
    pub fn allows_url(&self, address: &str) -> Option<bool> {
        let (scheme, host, port) = url_parts(address)?;
        Some(self.allows(&scheme, &host, port))
    }

    /// Whether `address` may be reached, checked as Spin's
    /// `OutboundAllowedHosts::check_url(address, scheme)` checks it
    /// (`crates/outbound-networking-config/src/allowed_hosts.rs`): an address
    /// without `scheme://` is read with `scheme` put in front, and one that
    /// cannot be read either way is not allowed.
    pub fn check_url(&self, address: &str, scheme: &str) -> bool {
        let parsed = match url::Url::parse(address) {
            Ok(url) if url.has_host() => Ok(url),
            _ => url::Url::parse(&format!("{scheme}://{address}")),
        };
        parsed.ok().is_some_and(|url| {
            url.host_str()
                .is_some_and(|host| self.allows(url.scheme(), host, url.port()))
        })
    }
}

fn host_allows(allowed: &Host, host: &str) -> bool {
    match allowed {
        Host::Any => true,
        Host::Subdomain(suffix) => {
            host.len() > suffix.len() && host.to_ascii_lowercase().ends_with(suffix.as_str())
        }
        Host::Name(name) => name.eq_ignore_ascii_case(host),
        Host::Network { address, prefix } => host
            .parse::<IpAddr>()
            .is_ok_and(|ip| in_network(ip, *address, *prefix)),
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let (ip, network, bits) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (ip >> shift) == (network >> shift)
}

/// Replaces `{{ name }}` by the application variable's value.
fn substitute(
    entry: &str,
    variable: &impl Fn(&str) -> Option<String>,
) -> Result<String, InvalidHost> {
    let mut out = String::new();
    let mut rest = entry;
    while let Some(start) = rest.find("{{") {
        let invalid = |reason: String| InvalidHost {
            entry: entry.to_owned(),
            reason,
        };
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| invalid("a `{{` is not closed".into()))?;
        let name = rest[start + 2..start + end].trim();
        let value =
            variable(name).ok_or_else(|| invalid(format!("variable `{name}` has no value")))?;
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_entry(entry: &str) -> Result<Entry, InvalidHost> {
    let invalid = |reason: &str| InvalidHost {
        entry: entry.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = entry.trim();
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| {
        invalid("expected <scheme>://<host>[:<port>] (e.g. https://api.example.com, redis://127.0.0.1:6379, *://*:*)")
    })?;
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') && rest.parse::<IpAddr>().is_err() && !looks_like_cidr(rest) {
        return Err(invalid("hosts must not contain paths"));
    }
    let (host, port) = split_host_port(rest);
    let scheme = match scheme {
        "*" => None,
        s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(s.to_ascii_lowercase())
        }
        _ => return Err(invalid("the scheme must be letters or `*`")),
    };
    let port =
        match port {
            None => Port::One(scheme.as_deref().and_then(well_known_port).ok_or_else(|| {
                invalid("no port was given and the scheme has no well-known port")
            })?),
            Some("*") => Port::Any,
            Some(p) => match p.split_once("..") {
                Some((start, end)) => match (start.parse(), end.parse()) {
                    (Ok(start), Ok(end)) => Port::Range(start, end),
                    _ => return Err(invalid("a port range is two numbers, `8000..9000`")),
                },
                None => Port::One(p.parse().map_err(|_| invalid("the port is not a number"))?),
            },
        };
    let host = parse_host(host)
        .ok_or_else(|| invalid("wildcards are allowed only as `*` or a `*.` prefix"))?;
    Ok(Entry { scheme, host, port })
}

fn looks_like_cidr(rest: &str) -> bool {
    split_host_port(rest)
        .0
        .split_once('/')
        .is_some_and(|(ip, prefix)| {
            ip.trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .is_ok()
                && prefix.parse::<u8>().is_ok()
        })
}

/// `host[:port]`, with IPv6 addresses in brackets.
fn split_host_port(rest: &str) -> (&str, Option<&str>) {
    if let Some(inner) = rest.strip_prefix('[') {
        return match inner.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (rest, None),
        };
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (rest, None),
    }
}

fn parse_host(host: &str) -> Option<Host> {
    if host == "*" {
        return Some(Host::Any);
    }
    if let Some((address, prefix)) = host.split_once('/') {
        let address: IpAddr = address.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        return (prefix <= max).then_some(Host::Network { address, prefix });
    }
    if let Ok(address) = host.parse::<IpAddr>() {
        let prefix = if address.is_ipv4() { 32 } else { 128 };
        return Some(Host::Network { address, prefix });
    }
    if let Some(domain) = host.strip_prefix("*.") {
        return (!domain.contains('*') && !domain.is_empty())
            .then(|| Host::Subdomain(format!(".{}", domain.to_ascii_lowercase())));
    }
    (!host.contains('*') && !host.is_empty()).then(|| Host::Name(host.to_owned()))
}

/// `(scheme, host, port)` of a URL such as `redis://user:pw@host:6380/0`.
fn url_parts(address: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = address.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_host_port(authority);
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((scheme.to_ascii_lowercase(), host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::new(&entries, |name| {
            (name == "redis_host").then(|| "10.1.2.3:6380".into())
        })
        .expect("valid")
    }

    #[test]
    fn schemes_hosts_and_well_known_ports() {
        assert!(!AllowedHosts::default().allows("https", "example.com", None));
        let h = hosts(&[
            "https://example.com",
            "redis://cache",
            "postgres://db.internal:6543",
        ]);
        assert!(h.allows("https", "example.com", None));
        assert!(h.allows("https", "EXAMPLE.com", Some(443)));
        assert!(!h.allows("http", "example.com", None));
        assert!(!h.allows("https", "example.com", Some(8443)));
        assert!(h.allows("redis", "cache", Some(6379)));
        assert!(!h.allows("redis", "cache", Some(6380)));
        assert!(h.allows("postgres", "db.internal", Some(6543)));
        assert!(
            !h.allows("postgres", "db.internal", None),
            "5432 is not 6543"
        );
    }

    #[test]
    fn wildcards_ranges_and_networks() {
        let h = hosts(&[
            "https://*.example.com",
            "tcp://127.0.0.1:8000..8010",
            "*://10.0.0.0/8:*",
            "udp://[::1]:53",
        ]);
        assert!(h.allows("https", "api.example.com", None));
        assert!(!h.allows("https", "example.com", None));
        assert!(!h.allows("https", "badexample.com", None));
        assert!(h.allows("tcp", "127.0.0.1", Some(8009)));
        assert!(
            !h.allows("tcp", "127.0.0.1", Some(8010)),
            "the range's end is excluded"
        );
        assert!(!h.allows("udp", "127.0.0.1", Some(8005)));
        assert!(h.allows("tcp", "10.200.3.4", Some(1)));
        assert!(h.allows("mqtt", "10.0.0.1", None));
        assert!(!h.allows("tcp", "11.0.0.1", Some(1)));
        assert!(h.allows("udp", "::1", Some(53)));
        assert!(
            !h.allows("tcp", "some.host", None),
            "tcp has no well-known port"
        );
        assert!(hosts(&["*://*:*"]).allows("tcp", "anything", Some(9)));
    }

    #[test]
    fn variables_in_entries() {
        let h = hosts(&["redis://{{ redis_host }}"]);
        assert!(h.allows("redis", "10.1.2.3", Some(6380)));
        assert!(!h.allows("redis", "10.1.2.3", Some(6379)));
        let missing =
            AllowedHosts::new(&["redis://{{ other }}".into()], |_| None).expect_err("no value");
        assert_eq!(missing.reason, "variable `other` has no value");
    }

    #[test]
    fn urls_are_matched_by_scheme_host_and_port() {
        let h = hosts(&["redis://127.0.0.1:6400", "postgres://db"]);
        assert_eq!(h.allows_url("redis://127.0.0.1:6400"), Some(true));
        assert_eq!(
            h.allows_url("redis://user:secret@127.0.0.1:6400/2"),
            Some(true)
        );
        assert_eq!(h.allows_url("redis://127.0.0.1:6401"), Some(false));
        assert_eq!(
            h.allows_url("postgres://app:pw@db/orders?sslmode=disable"),
            Some(true)
        );
        assert_eq!(h.allows_url("not a url"), None);
    }

    #[test]
    fn check_url_puts_the_scheme_in_front_of_an_address_without_one_as_spin_does() {
        let h = hosts(&["mqtt://127.0.0.1:1883"]);
        assert!(h.check_url("mqtt://127.0.0.1:1883?client_id=a", "mqtt"));
        assert!(h.check_url("127.0.0.1:1883?client_id=a", "mqtt"));
        assert!(h.check_url("127.0.0.1", "mqtt"), "the well-known port");
        assert!(!h.check_url("tcp://127.0.0.1:1883", "mqtt"));
        assert!(!h.check_url("mqtt://127.0.0.1:1884", "mqtt"));
        assert!(!h.check_url("not a url", "mqtt"));
        assert!(!h.check_url("", "mqtt"));
        let all = hosts(&["*://*:*"]);
        assert!(all.check_url("http://127.0.0.1:1883?client_id=a", "mqtt"));
        assert!(
            !all.check_url("not a url", "mqtt"),
            "no host can be read from it"
        );
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        for (entry, reason) in [
            ("example.com", "expected <scheme>://"),
            ("tcp://host", "no port was given"),
            ("https://exa*mple.com", "wildcards are allowed only"),
            ("https://example.com:http", "the port is not a number"),
            ("https://example.com:1..x", "a port range is two numbers"),
            ("https://example.com/path", "hosts must not contain paths"),
        ] {
            let e = AllowedHosts::new(&[entry.into()], |_| None).expect_err(entry);
            assert!(e.reason.starts_with(reason), "{entry}: {e}");
        }
    }
}
