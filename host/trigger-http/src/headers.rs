//! The request headers Spin sets for a component, so a component behaves the
//! same under `spin up` and `cloudfn up` ("Additional Request Information"
//! in Spin's HTTP trigger documentation).

use cloudfn_manifest::routes::RouteMatch;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::net::SocketAddr;

/// Sets `spin-full-url`, `spin-path-info`, `spin-path-match-*`, `spin-matched-route`,
/// `spin-raw-component-route`, `spin-component-route`, `spin-base-path` and
/// `spin-client-addr` on `headers`, replacing any the client sent.
pub fn set_spin_headers<T>(
    headers: &mut HeaderMap,
    route: &RouteMatch<'_, T>,
    uri: &http::Uri,
    client: SocketAddr,
) {
    // A client must not be able to forge what the platform asserts.
    let forged: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in forged {
        headers.remove(&name);
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut set = |name: &str, value: String| {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    };
    set("spin-full-url", format!("http://{host}{path_and_query}"));
    set("spin-path-info", route.path_info.clone());
    set("spin-matched-route", route.pattern.raw().to_owned());
    set("spin-raw-component-route", route.pattern.raw().to_owned());
    set("spin-component-route", route.pattern.prefix());
    set("spin-base-path", "/".to_owned());
    set("spin-client-addr", client.to_string());
    for (name, value) in &route.params {
        set(&path_match_header(name), value.clone());
    }
}

/// The header carrying route parameter `name`, spelled as Spin spells it:
/// `SPIN_PATH_MATCH_<NAME>` with `_` turned into `-` and lower-cased, so
/// `:user_id` is `spin-path-match-user-id`.
fn path_match_header(name: &str) -> String {
    format!(
        "spin-path-match-{}",
        name.replace('_', "-").to_ascii_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudfn_manifest::routes::{RoutePattern, Router};

    #[test]
    fn headers_for_a_parameter_route() {
        let router = Router::new([(RoutePattern::parse("/users/:id/...").expect("valid"), ())]);
        let m = router.route("/users/42/files/a").expect("matches");
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.test:3000"));
        headers.insert("spin-path-info", HeaderValue::from_static("/forged"));
        let uri: http::Uri = "/users/42/files/a?x=1".parse().expect("uri");
        set_spin_headers(
            &mut headers,
            &m,
            &uri,
            "127.0.0.1:5555".parse().expect("addr"),
        );
        let get = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("<none>")
        };
        assert_eq!(
            get("spin-full-url"),
            "http://example.test:3000/users/42/files/a?x=1"
        );
        assert_eq!(get("spin-path-info"), "/files/a");
        assert_eq!(get("spin-matched-route"), "/users/:id/...");
        assert_eq!(get("spin-raw-component-route"), "/users/:id/...");
        assert_eq!(get("spin-component-route"), "/users/:id");
        assert_eq!(get("spin-path-match-id"), "42");
        assert_eq!(get("spin-client-addr"), "127.0.0.1:5555");
    }

    #[test]
    fn regression_path_match_headers_are_spelled_as_spin_spells_them() {
        let router = Router::new([(RoutePattern::parse("/u/:user_id/:Kind").expect("valid"), ())]);
        let m = router.route("/u/7/admin").expect("matches");
        let mut headers = HeaderMap::new();
        let uri: http::Uri = "/u/7/admin".parse().expect("uri");
        set_spin_headers(&mut headers, &m, &uri, "127.0.0.1:1".parse().expect("addr"));
        assert_eq!(
            headers.get("spin-path-match-user-id").map(|v| v.as_bytes()),
            Some(&b"7"[..])
        );
        assert_eq!(
            headers.get("spin-path-match-kind").map(|v| v.as_bytes()),
            Some(&b"admin"[..])
        );
        assert!(headers.get("spin-path-match-user_id").is_none());
    }
}
