//! Component glue: `/account/...` over `wasi:http`, the users code over the
//! credentials database, and the blob store for a deleted account's files.

use crate::request::{Fields, MAX_BODY};
use component_http::Reply;
use component_http::wasi::{RequestBody, header, method_name, request_target, send};
use drive_users::auth::{self, Authed, Via};
use drive_users::namespace::user_key;
use drive_users::spin_db;
use drive_users::sql::Sql;
use drive_users::users::{self, Error, Settings};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/blob", "../../wit/accounts"],
    world: "cloudfn:accounts/accounts",
    generate_all,
});

use cloudfn::blob::store;

struct Accounts;

impl exports::wasi::http::incoming_handler::Guest for Accounts {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        send(out, respond(&request));
    }
}

export!(Accounts);

fn error(e: Error) -> Reply {
    e.reply()
}

fn respond(request: &IncomingRequest) -> Reply {
    let (path, _query) = request_target(request);
    let method = method_name(&request.method()).to_owned();
    let headers = |name: &str| header(request, name);
    let settings = match spin_db::settings() {
        Ok(s) => s,
        Err(e) => return Reply::error(500, e),
    };
    let db = match spin_db::open() {
        Ok(db) => db,
        Err(e) => return Reply::error(500, e),
    };
    let body = || -> Result<Fields, Reply> {
        let body = RequestBody::open(request)?
            .read_all(MAX_BODY, "account requests are small JSON objects")?;
        Fields::parse(&body)
    };
    let segments: Vec<&str> = path
        .trim_start_matches("/account")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let ctx = Ctx {
        db: db.as_ref(),
        settings: &settings,
        headers: &headers,
    };
    let result = match (method.as_str(), segments.as_slice()) {
        ("POST", ["register"]) => body().and_then(|f| ctx.register(&f)),
        ("POST", ["login"]) => body().and_then(|f| ctx.login(&f)),
        ("POST", ["logout"]) => ctx.logout(),
        ("GET", ["session"]) => ctx.session(),
        (m, ["profile"]) if m == "GET" || m == "PATCH" => ctx.user(m).and_then(|a| match m {
            "GET" => ctx.profile(&a),
            _ => body().and_then(|f| ctx.update(&a, &f)),
        }),
        ("DELETE", []) => ctx
            .user("DELETE")
            .and_then(|a| body().and_then(|f| ctx.delete(&a, &f))),
        ("GET", ["tokens"]) => ctx
            .user("GET")
            .and_then(|a| users::list_tokens(ctx.db, &a.user.id).map_err(error))
            .map(|list| Reply::json(200, &serde_json::json!({ "tokens": list }))),
        ("POST", ["tokens"]) => ctx
            .user("POST")
            .and_then(|a| body().and_then(|f| ctx.create_token(&a, &f))),
        ("DELETE", ["tokens", id]) => ctx.user("DELETE").and_then(|a| {
            users::revoke_token(ctx.db, &a.user.id, id)
                .map(|()| Reply::new(204, "text/plain", Vec::new()))
                .map_err(error)
        }),
        ("GET", ["shares"]) => ctx
            .user("GET")
            .and_then(|a| users::list_shares(ctx.db, &a.user.id).map_err(error))
            .map(|list| Reply::json(200, &serde_json::json!({ "shares": list }))),
        ("POST", ["shares"]) => ctx
            .user("POST")
            .and_then(|a| body().and_then(|f| ctx.create_share(&a, &f))),
        ("DELETE", ["shares", id]) => ctx.user("DELETE").and_then(|a| {
            users::revoke_share(ctx.db, &a.user.id, id)
                .map(|()| Reply::new(204, "text/plain", Vec::new()))
                .map_err(error)
        }),
        _ => Err(Reply::error(
            404,
            format!(
                "no such account route: {method} {path} (register, login, logout, session, profile, tokens, shares; DELETE /account)"
            ),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

/// The profile a user sees: their account, and the CSRF token of a session.
fn profile_json(a: &Authed) -> serde_json::Value {
    let mut profile = a.user.json();
    if let Via::Session { csrf, .. } = &a.via {
        profile["csrf_token"] = csrf.clone().into();
    }
    profile
}

struct Ctx<'a> {
    db: &'a dyn Sql,
    settings: &'a Settings,
    headers: auth::Headers<'a>,
}

impl Ctx<'_> {
    /// The authenticated user, or `401`; `403` for a cross-site write.
    fn user(&self, method: &str) -> Result<Authed, Reply> {
        let authed = auth::authenticate(self.db, self.settings, self.headers)
            .map_err(error)?
            .ok_or_else(|| {
                Reply::error(
                    401,
                    "log in first (POST /account/login) or send Authorization: Bearer TOKEN",
                )
                .with_header("www-authenticate", "Bearer realm=\"cloudfn\"")
            })?;
        auth::check_cross_site(&authed, method, self.headers)
            .map_err(|why| Reply::error(403, why))?;
        Ok(authed)
    }

    /// Login CSRF: a browser's login or registration must come from this site.
    fn same_site(&self) -> Result<(), Reply> {
        match auth::foreign_origin(self.headers) {
            Some(why) => Err(Reply::error(403, why)),
            None => Ok(()),
        }
    }

    fn session_reply(&self, status: u16, user: &users::User, session: &users::NewSession) -> Reply {
        Reply::json(
            status,
            &serde_json::json!({ "user": user.json(), "csrf_token": session.csrf, "expires": session.expires }),
        )
        .with_header(
            "set-cookie",
            auth::set_cookie(&session.token, self.settings.session_max_age, self.headers),
        )
        .with_header("cache-control", "no-store")
    }

    fn register(&self, f: &Fields) -> Result<Reply, Reply> {
        self.same_site()?;
        let registration = users::Registration {
            username: f.text("username")?,
            email: f.text("email")?,
            password: f.required("password")?,
            display_name: f.text("display_name")?,
        };
        let user = users::register(self.db, self.settings, &registration).map_err(error)?;
        let session = users::open_session(self.db, self.settings, &user.id, drive_users::now())
            .map_err(error)?;
        Ok(self.session_reply(201, &user, &session))
    }

    fn login(&self, f: &Fields) -> Result<Reply, Reply> {
        self.same_site()?;
        let name = f
            .text("username")?
            .or(f.text("email")?)
            .ok_or_else(|| Reply::error(400, "username: required (or email)"))?;
        let password = f.required("password")?;
        let client = (self.headers)("spin-client-addr").unwrap_or_default();
        // The address without its port: one client, however many connections.
        let client = client
            .rsplit_once(':')
            .map_or(client.as_str(), |(ip, _)| ip);
        let (user, session) =
            users::login(self.db, self.settings, name, password, client).map_err(error)?;
        Ok(self.session_reply(200, &user, &session))
    }

    /// Who is logged in, `{"user": null}` when nobody is: a page's question,
    /// answered without a `401` (which a browser reports as an error).
    fn session(&self) -> Result<Reply, Reply> {
        let user = match auth::authenticate(self.db, self.settings, self.headers).map_err(error)? {
            Some(a) => profile_json(&a),
            None => serde_json::Value::Null,
        };
        Ok(Reply::json(200, &serde_json::json!({ "user": user }))
            .with_header("cache-control", "no-store"))
    }

    fn logout(&self) -> Result<Reply, Reply> {
        if let Some(token) = auth::session_cookie(self.headers) {
            users::logout(self.db, &token).map_err(error)?;
        }
        Ok(Reply::new(204, "text/plain", Vec::new())
            .with_header("set-cookie", auth::clear_cookie(self.headers)))
    }

    fn profile(&self, a: &Authed) -> Result<Reply, Reply> {
        Ok(Reply::json(200, &profile_json(a)).with_header("cache-control", "no-store"))
    }

    fn update(&self, a: &Authed, f: &Fields) -> Result<Reply, Reply> {
        let email = if f.has("email") {
            Some(f.text("email")?)
        } else {
            None
        };
        if let Some(new) = f.text("new_password")? {
            let current = f.text("current_password")?.ok_or_else(|| {
                Reply::error(400, "current_password: required to change the password")
            })?;
            if !users::password_matches(self.db, &a.user.id, current).map_err(error)? {
                return Err(Reply::error(403, "current_password: wrong password"));
            }
            let keep = match &a.via {
                Via::Session { token, .. } => Some(token.as_str()),
                Via::Token => None,
            };
            users::change_password(self.db, &a.user.id, new, keep).map_err(error)?;
        }
        users::update_profile(self.db, &a.user.id, f.text("display_name")?, email)
            .map_err(error)?;
        let user = users::user(self.db, self.settings, &a.user.id)
            .map_err(error)?
            .ok_or_else(|| Reply::error(404, "the account no longer exists"))?;
        self.profile(&Authed {
            user,
            via: a.via.clone(),
        })
    }

    fn delete(&self, a: &Authed, f: &Fields) -> Result<Reply, Reply> {
        let password = f.required("password")?;
        if !users::password_matches(self.db, &a.user.id, password).map_err(error)? {
            return Err(Reply::error(
                403,
                "password: wrong password; the account was not deleted",
            ));
        }
        // The files first: a failure leaves the account to try again.
        let prefix = user_key(&a.user.id, "");
        loop {
            let page = store::list(&prefix, None, 1000)
                .map_err(|e| Reply::error(500, format!("listing the account's files: {e:?}")))?;
            if page.items.is_empty() {
                break;
            }
            for item in &page.items {
                match store::delete(&item.key) {
                    Ok(()) | Err(cloudfn::blob::types::Error::NotFound) => {}
                    Err(e) => {
                        return Err(Reply::error(500, format!("deleting {}: {e:?}", item.key)));
                    }
                }
            }
        }
        users::delete_user(self.db, &a.user.id).map_err(error)?;
        Ok(Reply::new(204, "text/plain", Vec::new())
            .with_header("set-cookie", auth::clear_cookie(self.headers)))
    }

    fn create_token(&self, a: &Authed, f: &Fields) -> Result<Reply, Reply> {
        let name = f.text("name")?.unwrap_or("token");
        let (id, secret) = users::create_token(self.db, &a.user.id, name).map_err(error)?;
        Ok(Reply::json(
            201,
            &serde_json::json!({ "id": id, "name": name.trim(), "token": secret,
                "note": "shown once: send it as Authorization: Bearer TOKEN" }),
        )
        .with_header("cache-control", "no-store"))
    }

    fn create_share(&self, a: &Authed, f: &Fields) -> Result<Reply, Reply> {
        let options = users::ShareOptions {
            expires_in: f.number("expires_in")?,
            password: f.text("password")?,
            max_downloads: f.number("max_downloads")?,
        };
        let key = f.required("key")?;
        let stored = user_key(&a.user.id, key);
        match store::stat(&stored) {
            Ok(_) => {}
            Err(
                cloudfn::blob::types::Error::NotFound | cloudfn::blob::types::Error::InvalidKey(_),
            ) => {
                return Err(Reply::error(404, format!("no file {key} in your drive")));
            }
            Err(e) => return Err(Reply::error(500, format!("blob store: {e:?}"))),
        }
        let (id, secret) =
            users::create_share(self.db, &a.user.id, key, &options).map_err(error)?;
        Ok(Reply::json(
            201,
            &serde_json::json!({ "id": id, "key": key, "url": format!("/s/{secret}"),
                "note": "shown once: the link is stored only as its SHA-256" }),
        )
        .with_header("cache-control", "no-store"))
    }
}
