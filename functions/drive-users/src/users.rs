//! The operations on the credentials database: accounts, sessions, API
//! tokens, login throttling, quota accounting and share links. Every write
//! that races another (two logins failing at once, eight uploads against
//! one quota, two deletes of one file) is a single conditional statement or
//! an optimistic retry on a row's nonce, so the counts stay exact on SQLite
//! and MySQL alike without transactions.

use crate::password;
use crate::sql::{DbError, Sql, Value};
use crate::token;

/// How the users are run (the component's variables).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session's lifetime, seconds (`session_max_age`, 14 days).
    pub session_max_age: i64,
    /// The quota of a user without one of their own, bytes (`drive_quota_bytes`).
    pub default_quota: i64,
    /// Failed logins one account may have in a window before `429`.
    pub account_failures: i64,
    /// Failed logins one client address may have in a window before `429`.
    pub address_failures: i64,
    /// The throttling window, seconds (`login_throttle_window`, 15 minutes).
    pub throttle_window: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_max_age: 14 * 24 * 3600,
            default_quota: 1 << 30,
            account_failures: 5,
            address_failures: 50,
            throttle_window: 15 * 60,
        }
    }
}

/// What went wrong, each with the status a client sees.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A field is missing or malformed (400).
    #[error("{0}")]
    Invalid(String),
    /// The name or email is someone else's (409).
    #[error("{0}")]
    Taken(String),
    /// Unknown user or wrong password: one answer for both (401).
    #[error("wrong username or password")]
    WrongCredentials,
    /// Too many failed logins (429, `Retry-After`).
    #[error("too many failed logins; try again in {retry_after} s")]
    Throttled {
        /// Seconds until the window ends.
        retry_after: i64,
    },
    /// No such thing for this user (404).
    #[error("{0}")]
    NotFound(String),
    /// The upload would pass the quota (507).
    #[error(
        "the upload of {size} bytes would pass your quota: {used} of {quota} bytes used; delete files or ask for a larger quota"
    )]
    OverQuota {
        /// The user's quota.
        quota: i64,
        /// What is used (and reserved by uploads in flight).
        used: i64,
        /// The upload's size.
        size: i64,
    },
    /// The platform gave no randomness or could not hash (500).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::Db(_) | Error::Internal(_) => 500,
            Error::Invalid(_) => 400,
            Error::Taken(_) => 409,
            Error::WrongCredentials => 401,
            Error::Throttled { .. } => 429,
            Error::NotFound(_) => 404,
            Error::OverQuota { .. } => 507,
        }
    }

    /// The reply a client gets: the status, the words, and `Retry-After`
    /// when throttled.
    pub fn reply(&self) -> component_http::Reply {
        let reply = component_http::Reply::error(self.status(), self.to_string());
        match self {
            Error::Throttled { retry_after } => {
                reply.with_header("retry-after", retry_after.to_string())
            }
            _ => reply,
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Random id (32 hex digits): the user's namespace in the blob store.
    pub id: String,
    /// The name chosen at registration.
    pub username: String,
    /// Email address, if given.
    pub email: Option<String>,
    /// Name shown in pages.
    pub display_name: String,
    /// The quota in force, bytes.
    pub quota_bytes: i64,
    /// Bytes used (and reserved by uploads in flight).
    pub used_bytes: i64,
    /// Registration time, Unix seconds.
    pub created: i64,
}

impl User {
    /// The profile as JSON (never the password hash).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "display_name": self.display_name,
            "quota_bytes": self.quota_bytes,
            "used_bytes": self.used_bytes,
            "created": self.created,
        })
    }
}

const USER_COLUMNS: &str = "u.id, u.username, u.email, u.display_name, COALESCE(u.quota_bytes, ?), u.used_bytes, u.created";

fn user_of(row: &[Value]) -> Option<User> {
    Some(User {
        id: row.first()?.text()?.to_owned(),
        username: row.get(1)?.text()?.to_owned(),
        email: row.get(2)?.text().map(str::to_owned),
        display_name: row.get(3)?.text()?.to_owned(),
        quota_bytes: row.get(4)?.int()?,
        used_bytes: row.get(5)?.int()?,
        created: row.get(6)?.int()?,
    })
}

fn internal(e: String) -> Error {
    Error::Internal(e)
}

/// The key a name is unique by: lowercase.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn check_username(name: &str) -> Result<()> {
    let ok = (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            "username: 3 to 64 characters, letters, digits, `.`, `_` or `-`".into(),
        ))
    }
}

fn check_email(email: &str) -> Result<()> {
    let ok = (3..=254).contains(&email.len())
        && email.split('@').count() == 2
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            "email: an address like name@example.com, at most 254 bytes".into(),
        ))
    }
}

fn check_display_name(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if (1..=200).contains(&chars) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Error::Invalid(
            "display_name: 1 to 200 characters, no control characters".into(),
        ))
    }
}

fn weak(e: password::Weak) -> Error {
    Error::Invalid(e.to_string())
}

/// What registration asks for.
#[derive(Debug, Default)]
pub struct Registration<'a> {
    /// The name to log in with (or none: the email is the name).
    pub username: Option<&'a str>,
    /// An email address (optional when a username is given).
    pub email: Option<&'a str>,
    /// The password.
    pub password: &'a str,
    /// The name shown (default: the username).
    pub display_name: Option<&'a str>,
}

/// Creates an account.
pub fn register(db: &dyn Sql, settings: &Settings, r: &Registration<'_>) -> Result<User> {
    let email = r.email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(email) = email {
        check_email(email)?;
    }
    let username = match (r.username.map(str::trim).filter(|u| !u.is_empty()), email) {
        (Some(u), _) => {
            check_username(u)?;
            u
        }
        (None, Some(e)) => e,
        (None, None) => {
            return Err(Error::Invalid(
                "username or email: one is needed to log in with".into(),
            ));
        }
    };
    let display_name = r.display_name.map(str::trim).unwrap_or(username);
    check_display_name(display_name)?;
    password::check(r.password).map_err(weak)?;
    let email_key = email.map(name_key);
    for key in std::iter::once(name_key(username)).chain(email_key.clone()) {
        if is_taken(db, &key, "")? {
            return Err(Error::Taken(
                "that username or email is already registered".into(),
            ));
        }
    }
    let hash = password::hash(r.password).map_err(internal)?;
    let id = token::id().map_err(internal)?;
    let now = crate::now();
    match db.execute(
        "INSERT INTO drive_users (id, username, username_key, email, email_key, display_name, password_hash, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.clone().into(),
            username.into(),
            name_key(username).into(),
            email.into(),
            email_key.into(),
            display_name.into(),
            hash.into(),
            now.into(),
        ],
    ) {
        Ok(_) => {}
        Err(e) if e.duplicate => {
            return Err(Error::Taken(
                "that username or email is already registered".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    user(db, settings, &id)?.ok_or_else(|| Error::Internal("the new account vanished".into()))
}

/// Whether `key` (a lowercased name or email) is another account's name or
/// email: a name may not be another account's email, nor an email another's
/// name. `except` is the asking account's id.
fn is_taken(db: &dyn Sql, key: &str, except: &str) -> Result<bool> {
    let rows = db.query(
        "SELECT 1 FROM drive_users WHERE (username_key = ? OR email_key = ?) AND id <> ?",
        &[key.into(), key.into(), except.into()],
    )?;
    Ok(!rows.is_empty())
}

/// The account `id`.
pub fn user(db: &dyn Sql, settings: &Settings, id: &str) -> Result<Option<User>> {
    let rows = db.query(
        &format!("SELECT {USER_COLUMNS} FROM drive_users u WHERE u.id = ?"),
        &[settings.default_quota.into(), id.into()],
    )?;
    Ok(rows.first().and_then(|r| user_of(r)))
}

/// A session just opened: the cookie's secret and the CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value (stored only as its SHA-256).
    pub token: String,
    /// The token a non-browser client sends as `X-CSRF-Token`.
    pub csrf: String,
    /// When it ends, Unix seconds.
    pub expires: i64,
}

fn throttled(
    db: &dyn Sql,
    settings: &Settings,
    key: &str,
    limit: i64,
    now: i64,
) -> Result<Option<i64>> {
    let rows = db.query(
        "SELECT failures, window_start FROM drive_login_failures WHERE scope_key = ?",
        &[key.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (failures, start) = (row[0].int().unwrap_or(0), row[1].int().unwrap_or(0));
    let end = start + settings.throttle_window;
    Ok((failures >= limit && end > now).then_some(end - now))
}

fn record_failure(db: &dyn Sql, settings: &Settings, key: &str, now: i64) -> Result<()> {
    let expired = now - settings.throttle_window;
    for _ in 0..4 {
        let changed = db.execute(
            "UPDATE drive_login_failures SET
                failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
                window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END
             WHERE scope_key = ?",
            &[expired.into(), expired.into(), now.into(), key.into()],
        )?;
        if changed > 0 {
            return Ok(());
        }
        match db.execute(
            "INSERT INTO drive_login_failures (scope_key, failures, window_start) VALUES (?, 1, ?)",
            &[key.into(), now.into()],
        ) {
            Ok(_) => return Ok(()),
            Err(e) if e.duplicate => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Logs in by username or email: a new session, or one answer for an
/// unknown name and a wrong password (same status, same words, one
/// Argon2id verification either way), counted against the name and the
/// client address until they are throttled.
pub fn login(
    db: &dyn Sql,
    settings: &Settings,
    name: &str,
    password: &str,
    client_addr: &str,
) -> Result<(User, NewSession)> {
    if password.len() > password::MAX_BYTES {
        return Err(Error::Invalid(password::Weak::TooLong.to_string()));
    }
    let now = crate::now();
    let key = name_key(name);
    let account = format!("account:{}", truncate(&key, 200));
    let address = format!("address:{}", truncate(client_addr, 200));
    for (scope, limit) in [
        (&account, settings.account_failures),
        (&address, settings.address_failures),
    ] {
        if let Some(retry_after) = throttled(db, settings, scope, limit, now)? {
            return Err(Error::Throttled { retry_after });
        }
    }
    let rows = db.query(
        "SELECT id, password_hash FROM drive_users WHERE username_key = ? OR email_key = ?",
        &[key.clone().into(), key.into()],
    )?;
    let found = rows
        .first()
        .and_then(|r| Some((r.first()?.text()?.to_owned(), r.get(1)?.text()?.to_owned())));
    let verified = match &found {
        Some((_, hash)) => password::verify(password, hash),
        None => {
            password::verify_decoy(password);
            false
        }
    };
    let Some((id, _)) = found.filter(|_| verified) else {
        record_failure(db, settings, &account, now)?;
        record_failure(db, settings, &address, now)?;
        return Err(Error::WrongCredentials);
    };
    db.execute(
        "DELETE FROM drive_login_failures WHERE scope_key = ?",
        &[account.into()],
    )?;
    db.execute(
        "DELETE FROM drive_sessions WHERE expires <= ?",
        &[now.into()],
    )?;
    let session = open_session(db, settings, &id, now)?;
    let user = user(db, settings, &id)?.ok_or(Error::WrongCredentials)?;
    Ok((user, session))
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Opens a session for `user_id` (a fresh secret every time: no fixation).
pub fn open_session(
    db: &dyn Sql,
    settings: &Settings,
    user_id: &str,
    now: i64,
) -> Result<NewSession> {
    let session = NewSession {
        token: token::new("").map_err(internal)?,
        csrf: token::new("").map_err(internal)?,
        expires: now + settings.session_max_age,
    };
    db.execute(
        "INSERT INTO drive_sessions (token_hash, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
        &[
            token::digest(&session.token).into(),
            user_id.into(),
            session.csrf.clone().into(),
            now.into(),
            session.expires.into(),
        ],
    )?;
    Ok(session)
}

/// Ends the session whose secret is `token`.
pub fn logout(db: &dyn Sql, token: &str) -> Result<()> {
    db.execute(
        "DELETE FROM drive_sessions WHERE token_hash = ?",
        &[token::digest(token).into()],
    )?;
    Ok(())
}

/// The user and CSRF token of a live session.
pub fn session_user(
    db: &dyn Sql,
    settings: &Settings,
    token: &str,
) -> Result<Option<(User, String)>> {
    let rows = db.query(
        &format!(
            "SELECT {USER_COLUMNS}, s.csrf FROM drive_sessions s JOIN drive_users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires > ?"
        ),
        &[
            settings.default_quota.into(),
            token::digest(token).into(),
            crate::now().into(),
        ],
    )?;
    Ok(rows.first().and_then(|r| {
        let csrf = r.get(7)?.text()?.to_owned();
        Some((user_of(r)?, csrf))
    }))
}

/// The user of an API token.
pub fn token_user(db: &dyn Sql, settings: &Settings, token: &str) -> Result<Option<User>> {
    let digest = token::digest(token);
    let rows = db.query(
        &format!(
            "SELECT {USER_COLUMNS} FROM drive_tokens t JOIN drive_users u ON u.id = t.user_id WHERE t.token_hash = ?"
        ),
        &[settings.default_quota.into(), digest.clone().into()],
    )?;
    let user = rows.first().and_then(|r| user_of(r));
    if user.is_some() {
        db.execute(
            "UPDATE drive_tokens SET last_used = ? WHERE token_hash = ?",
            &[crate::now().into(), digest.into()],
        )?;
    }
    Ok(user)
}

/// Whether `password` is `user_id`'s.
pub fn password_matches(db: &dyn Sql, user_id: &str, password: &str) -> Result<bool> {
    if password.len() > password::MAX_BYTES {
        return Ok(false);
    }
    let rows = db.query(
        "SELECT password_hash FROM drive_users WHERE id = ?",
        &[user_id.into()],
    )?;
    Ok(rows
        .first()
        .and_then(|r| r.first()?.text())
        .is_some_and(|hash| password::verify(password, hash)))
}

/// Changes the display name and email.
pub fn update_profile(
    db: &dyn Sql,
    user_id: &str,
    display_name: Option<&str>,
    email: Option<Option<&str>>,
) -> Result<()> {
    if let Some(name) = display_name {
        check_display_name(name.trim())?;
        db.execute(
            "UPDATE drive_users SET display_name = ? WHERE id = ?",
            &[name.trim().into(), user_id.into()],
        )?;
    }
    if let Some(email) = email {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        if let Some(e) = email {
            check_email(e)?;
            if is_taken(db, &name_key(e), user_id)? {
                return Err(Error::Taken("that email is already registered".into()));
            }
        }
        match db.execute(
            "UPDATE drive_users SET email = ?, email_key = ? WHERE id = ?",
            &[email.into(), email.map(name_key).into(), user_id.into()],
        ) {
            Err(e) if e.duplicate => {
                return Err(Error::Taken("that email is already registered".into()));
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Changes the password (the current one checked by the caller) and ends
/// every other session of the user: all but `keep` (a session's secret).
pub fn change_password(db: &dyn Sql, user_id: &str, new: &str, keep: Option<&str>) -> Result<()> {
    password::check(new).map_err(weak)?;
    let hash = password::hash(new).map_err(internal)?;
    db.execute(
        "UPDATE drive_users SET password_hash = ? WHERE id = ?",
        &[hash.into(), user_id.into()],
    )?;
    db.execute(
        "DELETE FROM drive_sessions WHERE user_id = ? AND token_hash <> ?",
        &[
            user_id.into(),
            keep.map(token::digest).unwrap_or_default().into(),
        ],
    )?;
    Ok(())
}

/// Deletes the account's rows (its files are the caller's to delete from
/// the store first): sessions, tokens, shares, file records, the user.
pub fn delete_user(db: &dyn Sql, user_id: &str) -> Result<()> {
    for table in [
        "drive_sessions",
        "drive_tokens",
        "drive_shares",
        "drive_files",
        "drive_users",
    ] {
        let column = if table == "drive_users" {
            "id"
        } else {
            "user_id"
        };
        db.execute(
            &format!("DELETE FROM {table} WHERE {column} = ?"),
            &[user_id.into()],
        )?;
    }
    Ok(())
}

/// Creates an API token named `name`; its secret, shown once.
pub fn create_token(db: &dyn Sql, user_id: &str, name: &str) -> Result<(String, String)> {
    let name = name.trim();
    if !(1..=100).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "name: 1 to 100 characters, no control characters".into(),
        ));
    }
    let count = db.query(
        "SELECT COUNT(*) FROM drive_tokens WHERE user_id = ?",
        &[user_id.into()],
    )?;
    if count.first().and_then(|r| r.first()?.int()).unwrap_or(0) >= 100 {
        return Err(Error::Invalid(
            "a user may hold at most 100 tokens; revoke one first".into(),
        ));
    }
    let id = token::id().map_err(internal)?;
    let secret = token::new("cfn_").map_err(internal)?;
    db.execute(
        "INSERT INTO drive_tokens (id, user_id, name, token_hash, created) VALUES (?, ?, ?, ?, ?)",
        &[
            id.clone().into(),
            user_id.into(),
            name.into(),
            token::digest(&secret).into(),
            crate::now().into(),
        ],
    )?;
    Ok((id, secret))
}

/// The user's tokens (never their secrets).
pub fn list_tokens(db: &dyn Sql, user_id: &str) -> Result<serde_json::Value> {
    let rows = db.query(
        "SELECT id, name, created, last_used FROM drive_tokens WHERE user_id = ? ORDER BY created, id",
        &[user_id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r[0].text(),
                "name": r[1].text(),
                "created": r[2].int(),
                "last_used": r[3].int(),
            })
        })
        .collect())
}

/// Deletes the row `id` of `table` if it is `user_id`'s; `NotFound(missing)` otherwise.
fn delete_owned(db: &dyn Sql, table: &str, user_id: &str, id: &str, missing: &str) -> Result<()> {
    let n = db.execute(
        &format!("DELETE FROM {table} WHERE id = ? AND user_id = ?"),
        &[id.into(), user_id.into()],
    )?;
    if n == 0 {
        return Err(Error::NotFound(missing.into()));
    }
    Ok(())
}

/// Revokes one of the user's tokens.
pub fn revoke_token(db: &dyn Sql, user_id: &str, id: &str) -> Result<()> {
    delete_owned(db, "drive_tokens", user_id, id, "no such token")
}

/// Reserves `size` bytes of the user's quota for an upload, or refuses it.
pub fn reserve(db: &dyn Sql, settings: &Settings, user: &User, size: i64) -> Result<()> {
    if size <= 0 {
        return Ok(());
    }
    let n = db.execute(
        "UPDATE drive_users SET used_bytes = used_bytes + ? WHERE id = ? AND used_bytes + ? <= COALESCE(quota_bytes, ?)",
        &[
            size.into(),
            user.id.as_str().into(),
            size.into(),
            settings.default_quota.into(),
        ],
    )?;
    if n == 1 {
        return Ok(());
    }
    let now = self::user(db, settings, &user.id)?.unwrap_or_else(|| user.clone());
    Err(Error::OverQuota {
        quota: now.quota_bytes,
        used: now.used_bytes,
        size,
    })
}

/// Gives back `size` reserved or used bytes.
pub fn release(db: &dyn Sql, user_id: &str, size: i64) -> Result<()> {
    if size > 0 {
        db.execute(
            "UPDATE drive_users SET used_bytes = used_bytes - ? WHERE id = ?",
            &[size.into(), user_id.into()],
        )?;
    }
    Ok(())
}

/// Takes the file record of `key` away; its size, when there was one (only
/// one of several racing callers gets it).
fn take_file(db: &dyn Sql, user_id: &str, key: &str) -> Result<Option<i64>> {
    let key_hash = token::digest(key);
    loop {
        let rows = db.query(
            "SELECT size, nonce FROM drive_files WHERE user_id = ? AND key_hash = ?",
            &[user_id.into(), key_hash.clone().into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (size, nonce) = (row[0].int().unwrap_or(0), row[1].clone());
        let n = db.execute(
            "DELETE FROM drive_files WHERE user_id = ? AND key_hash = ? AND nonce = ?",
            &[user_id.into(), key_hash.clone().into(), nonce],
        )?;
        if n == 1 {
            return Ok(Some(size));
        }
    }
}

/// Records that `key` now holds `size` bytes (reserved before the upload)
/// and releases what the file it replaced used.
pub fn commit_file(db: &dyn Sql, user_id: &str, key: &str, size: i64) -> Result<()> {
    let mut replaced = 0;
    loop {
        replaced += take_file(db, user_id, key)?.unwrap_or(0);
        match db.execute(
            "INSERT INTO drive_files (user_id, key_hash, file_key, size, nonce) VALUES (?, ?, ?, ?, ?)",
            &[
                user_id.into(),
                token::digest(key).into(),
                key.into(),
                size.into(),
                token::id().map_err(internal)?.into(),
            ],
        ) {
            Ok(_) => break,
            Err(e) if e.duplicate => continue,
            Err(e) => return Err(e.into()),
        }
    }
    release(db, user_id, replaced)
}

/// Forgets the file `key` and releases its bytes; whether there was one.
pub fn remove_file(db: &dyn Sql, user_id: &str, key: &str) -> Result<bool> {
    match take_file(db, user_id, key)? {
        Some(size) => {
            release(db, user_id, size)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// What a share link is made with.
#[derive(Debug, Default)]
pub struct ShareOptions<'a> {
    /// Seconds until it expires (none: never).
    pub expires_in: Option<i64>,
    /// A password the downloader must give.
    pub password: Option<&'a str>,
    /// How many downloads it allows (none: any).
    pub max_downloads: Option<i64>,
}

/// Creates a share link for the user's `key` (the caller checked it
/// exists); the link's id and secret.
pub fn create_share(
    db: &dyn Sql,
    user_id: &str,
    key: &str,
    o: &ShareOptions<'_>,
) -> Result<(String, String)> {
    if o.expires_in
        .is_some_and(|s| s <= 0 || s > 10 * 365 * 24 * 3600)
    {
        return Err(Error::Invalid(
            "expires_in: seconds from now, 1 to 315360000 (ten years)".into(),
        ));
    }
    if o.max_downloads.is_some_and(|n| n <= 0) {
        return Err(Error::Invalid("max_downloads: at least 1".into()));
    }
    let password_hash = match o.password.filter(|p| !p.is_empty()) {
        Some(p) if p.len() > password::MAX_BYTES => {
            return Err(Error::Invalid(password::Weak::TooLong.to_string()));
        }
        Some(p) => Some(password::hash(p).map_err(internal)?),
        None => None,
    };
    let id = token::id().map_err(internal)?;
    let secret = token::new("").map_err(internal)?;
    let now = crate::now();
    db.execute(
        "INSERT INTO drive_shares (id, token_hash, user_id, file_key, created, expires, password_hash, max_downloads)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.clone().into(),
            token::digest(&secret).into(),
            user_id.into(),
            key.into(),
            now.into(),
            o.expires_in.map(|s| now + s).into(),
            password_hash.into(),
            o.max_downloads.into(),
        ],
    )?;
    Ok((id, secret))
}

/// The user's share links (never their secrets).
pub fn list_shares(db: &dyn Sql, user_id: &str) -> Result<serde_json::Value> {
    let rows = db.query(
        "SELECT id, file_key, created, expires, password_hash, max_downloads, downloads
         FROM drive_shares WHERE user_id = ? ORDER BY created, id",
        &[user_id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r[0].text(),
                "key": r[1].text(),
                "created": r[2].int(),
                "expires": r[3].int(),
                "password": r[4].text().is_some(),
                "max_downloads": r[5].int(),
                "downloads": r[6].int(),
            })
        })
        .collect())
}

/// Revokes one of the user's share links.
pub fn revoke_share(db: &dyn Sql, user_id: &str, id: &str) -> Result<()> {
    delete_owned(db, "drive_shares", user_id, id, "no such share link")
}

/// Why a share link does not open.
#[derive(Debug, PartialEq, Eq)]
pub enum ShareRefusal {
    /// Unknown, revoked, expired or used up: all look the same (404).
    Gone,
    /// It has a password and none or a wrong one was given (401).
    Password,
}

/// Opens the share link `secret`: its owner and file key. A download
/// (`count`) uses one of its downloads; a `HEAD` only checks.
pub fn open_share(
    db: &dyn Sql,
    secret: &str,
    password: Option<&str>,
    count: bool,
) -> std::result::Result<(String, String), ShareRefusal> {
    let rows = db
        .query(
            "SELECT id, user_id, file_key, expires, password_hash, max_downloads, downloads
             FROM drive_shares WHERE token_hash = ?",
            &[token::digest(secret).into()],
        )
        .map_err(|_| ShareRefusal::Gone)?;
    let row = rows.first().ok_or(ShareRefusal::Gone)?;
    if row[3].int().is_some_and(|at| at <= crate::now()) {
        return Err(ShareRefusal::Gone);
    }
    if let (Some(max), Some(done)) = (row[5].int(), row[6].int())
        && done >= max
    {
        return Err(ShareRefusal::Gone);
    }
    if let Some(hash) = row[4].text() {
        let given = password.filter(|p| p.len() <= password::MAX_BYTES);
        if !given.is_some_and(|p| password::verify(p, hash)) {
            return Err(ShareRefusal::Password);
        }
    }
    let id = row[0].text().unwrap_or_default();
    if count {
        let n = db
            .execute(
                "UPDATE drive_shares SET downloads = downloads + 1
                 WHERE id = ? AND (max_downloads IS NULL OR downloads < max_downloads)",
                &[id.into()],
            )
            .map_err(|_| ShareRefusal::Gone)?;
        if n == 0 {
            return Err(ShareRefusal::Gone);
        }
    }
    Ok((
        row[1].text().unwrap_or_default().to_owned(),
        row[2].text().unwrap_or_default().to_owned(),
    ))
}
