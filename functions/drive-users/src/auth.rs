//! A request's credentials and the rules around them: the session cookie
//! (`HttpOnly; SameSite=Lax; Path=/`, `Secure` over HTTPS), `Authorization:
//! Bearer` API tokens, and the cross-site rule: a state-changing request
//! authenticated by cookie must carry an `Origin` equal to the site's own
//! or the session's `X-CSRF-Token`, else `403`.

use crate::sql::Sql;
use crate::users::{self, Settings, User};
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub const COOKIE: &str = "cloudfn_session";

/// A request's headers, by lowercase name.
pub type Headers<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How a request authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie, with the session's secret and CSRF token.
    Session {
        /// The cookie's value.
        token: String,
        /// The session's CSRF token.
        csrf: String,
    },
    /// An API token.
    Token,
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Authed {
    /// Who.
    pub user: User,
    /// How.
    pub via: Via,
}

/// The session cookie's value, if the request sent one.
pub fn session_cookie(headers: Headers<'_>) -> Option<String> {
    let cookies = headers("cookie")?;
    cookies.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The bearer token, if the request sent one.
pub fn bearer(headers: Headers<'_>) -> Option<String> {
    let value = headers("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Who sent the request: a bearer token first, else the session cookie;
/// `None` when neither is sent or valid.
pub fn authenticate(
    db: &dyn Sql,
    settings: &Settings,
    headers: Headers<'_>,
) -> Result<Option<Authed>, users::Error> {
    if let Some(token) = bearer(headers) {
        return Ok(users::token_user(db, settings, &token)?.map(|user| Authed {
            user,
            via: Via::Token,
        }));
    }
    if let Some(token) = session_cookie(headers) {
        return Ok(
            users::session_user(db, settings, &token)?.map(|(user, csrf)| Authed {
                user,
                via: Via::Session { token, csrf },
            }),
        );
    }
    Ok(None)
}

/// Whether the request came over HTTPS (Spin's `spin-full-url`, or a
/// proxy's `X-Forwarded-Proto`).
pub fn is_https(headers: Headers<'_>) -> bool {
    headers("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || headers("spin-full-url").is_some_and(|u| u.starts_with("https://"))
}

/// The site's own origin, `scheme://host[:port]`: the authority of Spin's
/// `spin-full-url` (else `Host`), `https` when the request came over it.
pub fn own_origin(headers: Headers<'_>) -> Option<String> {
    let authority = headers("spin-full-url")
        .and_then(|url| {
            let rest = url.split_once("://")?.1;
            Some(rest.split(['/', '?']).next()?.to_owned())
        })
        .filter(|a| !a.is_empty())
        .or_else(|| headers("host"))?;
    Some(format!(
        "{}://{}",
        if is_https(headers) { "https" } else { "http" },
        authority.trim()
    ))
}

/// The `Set-Cookie` value that opens a session.
pub fn set_cookie(token: &str, max_age: i64, headers: Headers<'_>) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{}",
        if is_https(headers) { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(headers: Headers<'_>) -> String {
    set_cookie("", 0, headers)
}

/// Why the request's `Origin` is not this site, when it sends one that is
/// not (browsers send it on every cross-site write).
pub fn foreign_origin(headers: Headers<'_>) -> Option<String> {
    let origin = headers("origin")?;
    let own = own_origin(headers);
    (own.as_deref() != Some(origin.trim())).then(|| {
        format!(
            "cross-site request refused: Origin {origin} is not this site ({})",
            own.unwrap_or_default()
        )
    })
}

/// Whether `method` changes state.
pub fn is_write(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The cross-site rule for `authed` making a `method` request: `Err` with
/// the reason when a cookie-authenticated write has neither a matching
/// `Origin` nor the session's `X-CSRF-Token`.
pub fn check_cross_site(authed: &Authed, method: &str, headers: Headers<'_>) -> Result<(), String> {
    let Via::Session { csrf, .. } = &authed.via else {
        return Ok(());
    };
    if !is_write(method) {
        return Ok(());
    }
    if let Some(sent) = headers("x-csrf-token")
        && bool::from(sent.as_bytes().ct_eq(csrf.as_bytes()))
    {
        return Ok(());
    }
    match (headers("origin"), foreign_origin(headers)) {
        (Some(_), None) => Ok(()),
        (Some(_), Some(why)) => Err(format!(
            "{why}; a request authenticated by the session cookie must come from this site or carry the session's X-CSRF-Token"
        )),
        (None, _) => Err(
            "cross-site request refused: no Origin header; a state-changing request authenticated by the session cookie must carry a matching Origin or the session's X-CSRF-Token"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn authed() -> Authed {
        Authed {
            user: User {
                id: "u".into(),
                username: "ann".into(),
                email: None,
                display_name: "Ann".into(),
                quota_bytes: 1,
                used_bytes: 0,
                created: 0,
            },
            via: Via::Session {
                token: "t".into(),
                csrf: "c".repeat(43),
            },
        }
    }

    #[test]
    fn cookies_and_bearer_tokens_are_read_and_nothing_else() {
        let h = headers(&[
            ("cookie", "a=1; cloudfn_session=abc; b=2"),
            ("authorization", "Bearer cfn_x"),
        ]);
        assert_eq!(session_cookie(&h).as_deref(), Some("abc"));
        assert_eq!(bearer(&h).as_deref(), Some("cfn_x"));
        let h = headers(&[
            ("cookie", "cloudfn_session="),
            ("authorization", "Basic abc"),
        ]);
        assert_eq!(session_cookie(&h), None);
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_over_https() {
        let plain = headers(&[("spin-full-url", "http://h/account/login")]);
        let c = set_cookie("tok", 60, &plain);
        assert_eq!(
            c,
            "cloudfn_session=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        let tls = headers(&[("spin-full-url", "https://h/account/login")]);
        assert!(set_cookie("tok", 60, &tls).ends_with("; Secure"));
        let proxied = headers(&[("x-forwarded-proto", "https")]);
        assert!(clear_cookie(&proxied).contains("Max-Age=0"));
    }

    #[test]
    fn cookie_writes_need_this_sites_origin_or_the_csrf_token() {
        let a = authed();
        let same = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(check_cross_site(&a, "POST", &same).is_ok());
        let evil = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ]);
        let e = check_cross_site(&a, "DELETE", &evil).expect_err("refused");
        assert!(e.contains("http://evil.example"), "{e}");
        let none = headers(&[("host", "127.0.0.1:3000")]);
        assert!(check_cross_site(&a, "PUT", &none).is_err());
        assert!(
            check_cross_site(&a, "GET", &evil).is_ok(),
            "reads are not refused"
        );
        let csrf = "c".repeat(43);
        let with_token = headers(&[("host", "h"), ("x-csrf-token", csrf.as_str())]);
        assert!(check_cross_site(&a, "PATCH", &with_token).is_ok());
        let wrong_token = headers(&[("host", "h"), ("x-csrf-token", "nope")]);
        assert!(check_cross_site(&a, "PATCH", &wrong_token).is_err());
        let https_site = headers(&[
            ("host", "h"),
            ("x-forwarded-proto", "https"),
            ("origin", "http://h"),
        ]);
        assert!(
            check_cross_site(&a, "POST", &https_site).is_err(),
            "scheme counts"
        );
        let token = Authed {
            via: Via::Token,
            ..authed()
        };
        assert!(
            check_cross_site(&token, "DELETE", &evil).is_ok(),
            "bearer tokens are not ambient"
        );
    }
}
