//! The Cloud Drive's users on the product manifest (the `accounts`
//! component and `blob-upload` per user), over real HTTP, on Spin's SQLite
//! and on a real MariaDB: the account lifecycle, sessions, the cross-site
//! rule, login throttling without account enumeration, two users'
//! isolation, the quota under concurrent uploads, share links, and bad
//! input answered with a 4xx.

use crate::common::{Host, HostBuilder, Reply};
use crate::servers::mariadb;
use serde_json::{Value, json};
use std::time::Duration;

/// A browser-like client of one host: its session cookie, and the site's
/// `Origin` on every write.
struct Client<'a> {
    host: &'a Host,
    cookie: Option<String>,
    bearer: Option<String>,
}

impl<'a> Client<'a> {
    fn new(host: &'a Host) -> Self {
        Self {
            host,
            cookie: None,
            bearer: None,
        }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.host.addr)
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let origin = self.origin();
        let cookie = self.cookie.clone().map(|c| format!("cloudfn_session={c}"));
        let bearer = self.bearer.clone().map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("origin", origin.as_str())];
        if let Some(c) = cookie.as_deref() {
            headers.push(("cookie", c));
        }
        if let Some(b) = bearer.as_deref() {
            headers.push(("authorization", b));
        }
        headers.extend_from_slice(extra);
        let reply = self.host.request(method, path, &headers, body);
        if let Some(set) = reply.header("set-cookie") {
            let value = set
                .strip_prefix("cloudfn_session=")
                .and_then(|v| v.split(';').next())
                .unwrap_or_default();
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        reply
    }

    fn json(&mut self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let reply = self.send(
            method,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        );
        (
            reply.status,
            serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body)),
        )
    }

    fn register(&mut self, name: &str, password: &str) -> Value {
        let (status, body) = self.json(
            "POST",
            "/account/register",
            json!({"username": name, "password": password, "display_name": name.to_uppercase()}),
        );
        assert_eq!(status, 201, "{body}");
        assert!(self.cookie.is_some(), "registration opens a session");
        body
    }

    fn login(&mut self, name: &str, password: &str) -> (u16, Value) {
        self.json(
            "POST",
            "/account/login",
            json!({"username": name, "password": password}),
        )
    }

    fn profile(&mut self) -> (u16, Value) {
        let reply = self.send("GET", "/account/profile", &[], None);
        (
            reply.status,
            serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body)),
        )
    }
}

const PASSWORD: &str = "correct horse battery";

fn drive(env: &[(&str, &str)]) -> Host {
    HostBuilder::product().envs(env.iter().copied()).start()
}

/// The whole account lifecycle and two users' isolation on every blob verb.
fn lifecycle(host: &Host) {
    let mut ann = Client::new(host);
    let registered = ann.register("ann", PASSWORD);
    assert_eq!(registered["user"]["username"], "ann");
    assert!(registered["user"].get("password_hash").is_none());
    assert!(
        !registered.to_string().contains(PASSWORD),
        "the password is never returned"
    );
    let (status, profile) = ann.profile();
    assert_eq!(
        (status, profile["display_name"].as_str()),
        (200, Some("ANN"))
    );

    // Files: a user's own, under the paths they know.
    let put = ann.send(
        "PUT",
        "/blobs/notes/a.txt",
        &[("content-type", "text/plain")],
        Some(b"ann's secret notes"),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    assert_eq!(
        serde_json::from_str::<Value>(&put.body).expect("json")["key"],
        "notes/a.txt"
    );
    let got = ann.send(
        "GET",
        "/blobs/notes/a.txt",
        &[("range", "bytes=6-11")],
        None,
    );
    assert_eq!((got.status, got.body.as_str()), (206, "secret"));
    let listed = ann.send("GET", "/blobs?prefix=notes/", &[], None);
    assert_eq!(
        serde_json::from_str::<Value>(&listed.body).expect("json")["items"][0]["key"],
        "notes/a.txt"
    );

    // Another user sees none of it: 404 on every verb, an empty listing.
    let mut bob = Client::new(host);
    bob.register("bob", "another good passphrase");
    for method in ["GET", "HEAD", "DELETE"] {
        assert_eq!(
            bob.send(method, "/blobs/notes/a.txt", &[], None).status,
            404,
            "{method}"
        );
    }
    let listed = bob.send("GET", "/blobs", &[], None);
    assert_eq!(
        serde_json::from_str::<Value>(&listed.body).expect("json")["items"],
        json!([])
    );
    let ranged = bob.send("GET", "/blobs/notes/a.txt", &[("range", "bytes=0-3")], None);
    assert_eq!(ranged.status, 404);
    // Bob's own file under the same key is his; Ann's is untouched.
    assert_eq!(
        bob.send("PUT", "/blobs/notes/a.txt", &[], Some(b"bob"))
            .status,
        201
    );
    assert_eq!(
        ann.send("GET", "/blobs/notes/a.txt", &[], None).body,
        "ann's secret notes"
    );
    // No credentials: 401 with WWW-Authenticate (the product manifest has no anonymous drive).
    let anonymous = host.get("/blobs/notes/a.txt");
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );

    // Sessions: logout ends this one server-side.
    let old = ann.cookie.clone().expect("cookie");
    assert_eq!(ann.send("POST", "/account/logout", &[], None).status, 204);
    assert!(ann.cookie.is_none(), "the cookie is cleared");
    ann.cookie = Some(old);
    assert_eq!(ann.profile().0, 401, "the old cookie is dead");
    ann.cookie = None;
    let (status, _) = ann.login("ann", PASSWORD);
    assert_eq!(status, 200);
    let first = ann.cookie.clone().expect("session");
    let (status, _) = ann.login("ANN", PASSWORD);
    assert_eq!(status, 200, "names are case-insensitive");
    assert_ne!(
        ann.cookie.as_deref(),
        Some(first.as_str()),
        "a new session every login"
    );

    // API tokens: shown once, work as Bearer, listed without their secret, revoked.
    let (status, token) = ann.json("POST", "/account/tokens", json!({"name": "cli"}));
    assert_eq!(status, 201, "{token}");
    let secret = token["token"].as_str().expect("secret").to_owned();
    let mut cli = Client::new(host);
    cli.bearer = Some(secret.clone());
    assert_eq!(cli.profile().1["username"], "ann");
    assert_eq!(
        cli.send("GET", "/blobs/notes/a.txt", &[], None).body,
        "ann's secret notes"
    );
    let (_, list) = ann.json("GET", "/account/tokens", json!(null));
    assert_eq!(list["tokens"][0]["name"], "cli");
    assert!(!list.to_string().contains(&secret));
    let id = token["id"].as_str().expect("id");
    assert_eq!(
        ann.send("DELETE", &format!("/account/tokens/{id}"), &[], None)
            .status,
        204
    );
    assert_eq!(cli.profile().0, 401, "a revoked token is dead");

    // A password change ends the other sessions, not this one.
    let mut other = Client::new(host);
    assert_eq!(other.login("ann", PASSWORD).0, 200);
    let (status, body) = ann.json(
        "PATCH",
        "/account/profile",
        json!({"current_password": "wrong password!", "new_password": "a brand new passphrase"}),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = ann.json(
        "PATCH",
        "/account/profile",
        json!({"current_password": PASSWORD, "new_password": "a brand new passphrase", "display_name": "Ann B."}),
    );
    assert_eq!(
        (status, body["display_name"].as_str()),
        (200, Some("Ann B.")),
        "{body}"
    );
    assert_eq!(ann.profile().0, 200);
    assert_eq!(other.profile().0, 401);
    assert_eq!(ann.login("ann", PASSWORD).0, 401);
    assert_eq!(ann.login("ann", "a brand new passphrase").0, 200);

    // Deleting the account (with the password) deletes its files and sessions.
    let (status, _) = ann.json("DELETE", "/account", json!({"password": "not it at all"}));
    assert_eq!(status, 403);
    let mut again = Client::new(host);
    assert_eq!(again.login("ann", "a brand new passphrase").0, 200);
    let (status, _) = ann.json(
        "DELETE",
        "/account",
        json!({"password": "a brand new passphrase"}),
    );
    assert_eq!(status, 204);
    assert_eq!(again.profile().0, 401, "every session ends");
    assert_eq!(ann.login("ann", "a brand new passphrase").0, 401);
    // Re-registered, the name starts with an empty drive.
    let mut newcomer = Client::new(host);
    newcomer.register("ann", "yet another passphrase");
    assert_eq!(
        newcomer.send("GET", "/blobs/notes/a.txt", &[], None).status,
        404
    );
    assert_eq!(bob.send("GET", "/blobs/notes/a.txt", &[], None).body, "bob");
}

#[test]
fn accounts_lifecycle_and_isolation_on_sqlite() {
    lifecycle(&drive(&[]));
}

#[test]
fn accounts_lifecycle_and_isolation_on_mariadb() {
    let server = mariadb();
    let host = drive(&[
        ("SPIN_VARIABLE_DRIVE_DATABASE", server.address.as_str()),
        (
            "SPIN_VARIABLE_DRIVE_MYSQL_HOST",
            &format!("127.0.0.1:{}", server.server.port),
        ),
        ("SPIN_VARIABLE_DRIVE_QUOTA_BYTES", "1000"),
    ]);
    lifecycle(&host);
    quota_under_concurrent_uploads(&host);
}

#[test]
fn cookie_writes_from_another_site_are_refused() {
    let host = drive(&[]);
    let mut ann = Client::new(&host);
    ann.register("ann", PASSWORD);
    let cookie = format!("cloudfn_session={}", ann.cookie.clone().expect("cookie"));
    let patch = |headers: &[(&str, &str)]| {
        let mut all = vec![
            ("cookie", cookie.as_str()),
            ("content-type", "application/json"),
        ];
        all.extend_from_slice(headers);
        host.request(
            "PATCH",
            "/account/profile",
            &all,
            Some(br#"{"display_name": "pwned"}"#),
        )
    };
    let evil = patch(&[("origin", "http://evil.example")]);
    assert_eq!(evil.status, 403);
    assert!(
        evil.body.contains("cross-site request refused"),
        "{}",
        evil.body
    );
    assert_eq!(patch(&[]).status, 403, "no Origin, no CSRF token");
    let upload = host.request(
        "PUT",
        "/blobs/x",
        &[
            ("cookie", cookie.as_str()),
            ("origin", "http://evil.example"),
        ],
        Some(b"x"),
    );
    assert_eq!(upload.status, 403, "the drive applies the same rule");
    let csrf = ann.profile().1["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_owned();
    assert_eq!(patch(&[("x-csrf-token", csrf.as_str())]).status, 200);
    assert_eq!(ann.profile().1["display_name"], "pwned");
    // A cross-site login is refused too (login CSRF).
    let login = host.request(
        "POST",
        "/account/login",
        &[("origin", "http://evil.example")],
        Some(
            json!({"username": "ann", "password": PASSWORD})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(login.status, 403);
}

#[test]
fn logins_are_throttled_and_unknown_names_look_like_wrong_passwords() {
    let host = drive(&[("SPIN_VARIABLE_DRIVE_LOGIN_THROTTLE_WINDOW", "3")]);
    let mut ann = Client::new(&host);
    ann.register("ann", PASSWORD);
    let mut stranger = Client::new(&host);
    let wrong = stranger.login("ann", "not the password");
    let unknown = stranger.login("nobody", "not the password");
    assert_eq!(wrong, unknown, "one answer for both");
    assert_eq!(wrong.0, 401);
    for _ in 0..4 {
        assert_eq!(stranger.login("ann", "not the password").0, 401);
    }
    // Five failures: the sixth attempt, right password or not, waits.
    let throttled = stranger.send(
        "POST",
        "/account/login",
        &[],
        Some(
            json!({"username": "ann", "password": PASSWORD})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    let retry: u64 = throttled
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=3).contains(&retry), "{retry}");
    std::thread::sleep(Duration::from_secs(retry + 1));
    assert_eq!(
        stranger.login("ann", PASSWORD).0,
        200,
        "and back after the window"
    );
}

#[test]
fn sessions_expire() {
    let host = drive(&[("SPIN_VARIABLE_DRIVE_SESSION_MAX_AGE", "2")]);
    let mut ann = Client::new(&host);
    ann.register("ann", PASSWORD);
    assert_eq!(ann.profile().0, 200);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(ann.profile().0, 401);
}

/// Eight uploads of 300 bytes at once against a 1,000-byte quota: exactly
/// three fit, the others are refused before they are stored, and usage is
/// exact after concurrent deletes.
fn quota_under_concurrent_uploads(host: &Host) {
    let mut carol = Client::new(host);
    carol.register("carol", PASSWORD);
    let (_, token) = carol.json("POST", "/account/tokens", json!({"name": "load"}));
    let bearer = format!("Bearer {}", token["token"].as_str().expect("token"));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let bearer = bearer.clone();
                s.spawn(move || {
                    host.request(
                        "PUT",
                        &format!("/blobs/f{i}"),
                        &[("authorization", bearer.as_str())],
                        Some(&[b'x'; 300]),
                    )
                    .status
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("upload"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 507).count(),
        5,
        "{statuses:?}"
    );
    let (_, profile) = carol.profile();
    assert_eq!(
        (
            profile["used_bytes"].as_i64(),
            profile["quota_bytes"].as_i64()
        ),
        (Some(900), Some(1000))
    );
    let refused = carol.send("PUT", "/blobs/big", &[], Some(&[b'y'; 200]));
    assert_eq!(refused.status, 507);
    assert!(
        refused.body.contains("900 of 1000 bytes used"),
        "{}",
        refused.body
    );
    // Overwriting a file counts its new size only.
    let stored: Vec<String> = (0..8)
        .filter(|i| statuses[*i] == 201)
        .map(|i| format!("/blobs/f{i}"))
        .collect();
    assert_eq!(
        carol
            .send("PUT", &stored[0], &[], Some(&[b'z'; 100]))
            .status,
        201
    );
    assert_eq!(carol.profile().1["used_bytes"], 700);
    // Deletes, twice each and at once: each file is given back once.
    std::thread::scope(|s| {
        for path in stored.iter().chain(stored.iter()) {
            let bearer = bearer.clone();
            s.spawn(move || {
                host.request("DELETE", path, &[("authorization", bearer.as_str())], None)
            });
        }
    });
    assert_eq!(carol.profile().1["used_bytes"], 0);
}

#[test]
fn quota_is_exact_under_concurrent_uploads_on_sqlite() {
    quota_under_concurrent_uploads(&drive(&[("SPIN_VARIABLE_DRIVE_QUOTA_BYTES", "1000")]));
}

#[test]
fn share_links_stream_to_anyone_holding_them_until_revoked_expired_or_used_up() {
    let host = drive(&[]);
    let mut ann = Client::new(&host);
    ann.register("ann", PASSWORD);
    assert_eq!(
        ann.send("PUT", "/blobs/report.txt", &[], Some(b"quarterly numbers"))
            .status,
        201
    );
    let (status, share) = ann.json("POST", "/account/shares", json!({"key": "report.txt"}));
    assert_eq!(status, 201, "{share}");
    let url = share["url"].as_str().expect("url").to_owned();
    let got = host.get(&url);
    assert_eq!((got.status, got.body.as_str()), (200, "quarterly numbers"));
    let ranged = host.request("GET", &url, &[("range", "bytes=10-16")], None);
    assert_eq!((ranged.status, ranged.body.as_str()), (206, "numbers"));
    assert_eq!(
        host.get(&format!("{url}x")).status,
        404,
        "a wrong token is nothing"
    );
    let (_, list) = ann.json("GET", "/account/shares", json!(null));
    assert_eq!(list["shares"][0]["downloads"], 2);
    assert!(
        !list.to_string().contains(url.trim_start_matches("/s/")),
        "the secret is not listed"
    );
    let id = share["id"].as_str().expect("id");
    assert_eq!(
        ann.send("DELETE", &format!("/account/shares/{id}"), &[], None)
            .status,
        204
    );
    assert_eq!(host.get(&url).status, 404, "revoked");

    // A password and a download limit.
    let (_, share) = ann.json(
        "POST",
        "/account/shares",
        json!({"key": "report.txt", "password": "open sesame", "max_downloads": 2}),
    );
    let url = share["url"].as_str().expect("url").to_owned();
    assert_eq!(host.get(&url).status, 401);
    assert_eq!(
        host.request("GET", &url, &[("x-share-password", "wrong")], None)
            .status,
        401
    );
    for _ in 0..2 {
        let got = host.request("GET", &url, &[("x-share-password", "open sesame")], None);
        assert_eq!(got.body, "quarterly numbers");
    }
    assert_eq!(
        host.request("GET", &url, &[("x-share-password", "open sesame")], None)
            .status,
        404,
        "used up"
    );

    // An expiry.
    let (_, share) = ann.json(
        "POST",
        "/account/shares",
        json!({"key": "report.txt", "expires_in": 1}),
    );
    let url = share["url"].as_str().expect("url").to_owned();
    assert_eq!(host.get(&url).status, 200);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(host.get(&url).status, 404, "expired");

    // Only one's own files can be shared.
    let (status, _) = ann.json("POST", "/account/shares", json!({"key": "missing.txt"}));
    assert_eq!(status, 404);
}

#[test]
fn bad_input_is_a_4xx_saying_what_is_wrong_never_a_500() {
    let host = drive(&[]);
    let mut c = Client::new(&host);
    c.register("ann", PASSWORD);
    let mut anon = Client::new(&host);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "/account/register",
            b"not json".to_vec(),
            400,
            "not valid JSON",
        ),
        ("/account/register", b"[1, 2]".to_vec(), 400, "JSON object"),
        (
            "/account/register",
            br#"{"username": "ann2", "password": 12345678}"#.to_vec(),
            400,
            "password: must be a string",
        ),
        (
            "/account/register",
            br#"{"username": "ann", "password": "a fine passphrase"}"#.to_vec(),
            409,
            "already registered",
        ),
        (
            "/account/register",
            br#"{"username": "ANN", "password": "a fine passphrase"}"#.to_vec(),
            409,
            "already registered",
        ),
        (
            "/account/register",
            br#"{"username": "x y", "password": "a fine passphrase"}"#.to_vec(),
            400,
            "username",
        ),
        (
            "/account/register",
            br#"{"username": "dave", "password": "short"}"#.to_vec(),
            400,
            "at least 8",
        ),
        (
            "/account/register",
            br#"{"username": "dave", "password": "password123"}"#.to_vec(),
            400,
            "most common",
        ),
        (
            "/account/register",
            br#"{"email": "not-an-email", "password": "a fine passphrase"}"#.to_vec(),
            400,
            "email",
        ),
        (
            "/account/register",
            format!(
                r#"{{"username": "{}", "password": "a fine passphrase"}}"#,
                "u".repeat(100)
            )
            .into_bytes(),
            400,
            "64",
        ),
        (
            "/account/register",
            b"{\"username\": \"\xff\xfe\", \"password\": \"a fine passphrase\"}".to_vec(),
            400,
            "not valid JSON",
        ),
        (
            "/account/register",
            format!(
                r#"{{"username": "dave", "password": "{}"}}"#,
                "p".repeat(2000)
            )
            .into_bytes(),
            400,
            "at most 1024 bytes",
        ),
        (
            "/account/register",
            format!(
                r#"{{"username": "dave", "password": "{}"}}"#,
                "p".repeat(1 << 20)
            )
            .into_bytes(),
            413,
            "limit",
        ),
        (
            "/account/login",
            br#"{"password": "x"}"#.to_vec(),
            400,
            "username: required",
        ),
        (
            "/account/login",
            format!(
                r#"{{"username": "ann", "password": "{}"}}"#,
                "p".repeat(1 << 20)
            )
            .into_bytes(),
            413,
            "limit",
        ),
    ];
    for (path, body, status, says) in cases {
        let reply = anon.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(&body),
        );
        assert_eq!(
            reply.status,
            status,
            "{path} {}: {}",
            String::from_utf8_lossy(&body[..body.len().min(80)]),
            reply.body
        );
        assert!(
            reply.body.contains(says),
            "{path}: {} should say {says}",
            reply.body
        );
    }
    let (status, body) = c.json("POST", "/account/tokens", json!({"name": ""}));
    assert_eq!(status, 400, "{body}");
    let (status, body) = c.json(
        "POST",
        "/account/shares",
        json!({"key": "x", "expires_in": "soon"}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = c.json(
        "PATCH",
        "/account/profile",
        json!({"new_password": "a new passphrase!"}),
    );
    assert_eq!(status, 400, "the current password is needed");
    assert_eq!(
        c.send("DELETE", "/account/tokens/nope", &[], None).status,
        404
    );
    assert_eq!(c.send("GET", "/account/nowhere", &[], None).status, 404);
}
