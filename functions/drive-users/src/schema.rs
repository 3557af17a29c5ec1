//! The credentials database's schema, created and migrated by the
//! components themselves: `drive_schema` holds the version applied, and
//! each step below moves it up by one. Both dialects get the same tables;
//! MySQL's are utf8mb4 with a binary collation (names are compared by
//! their lowercased keys, not by the collation).

use crate::sql::{DbError, Dialect, Sql, Value};

/// The version the code expects. A step that raises it must make the
/// statements written for it fail on the schema before it (a new table or
/// column does), since [`Migrating`] migrates when a statement fails.
pub const VERSION: i64 = 1;

const V1_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS drive_users (id TEXT PRIMARY KEY, username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE, email TEXT, email_key TEXT UNIQUE, display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL, quota_bytes INTEGER, used_bytes INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS drive_sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,
        csrf TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS drive_sessions_user ON drive_sessions (user_id)",
    "CREATE TABLE IF NOT EXISTS drive_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, last_used INTEGER)",
    "CREATE INDEX IF NOT EXISTS drive_tokens_user ON drive_tokens (user_id)",
    "CREATE TABLE IF NOT EXISTS drive_login_failures (scope_key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
        window_start INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS drive_files (user_id TEXT NOT NULL, key_hash TEXT NOT NULL, file_key TEXT NOT NULL,
        size INTEGER NOT NULL, nonce TEXT NOT NULL, PRIMARY KEY (user_id, key_hash))",
    "CREATE TABLE IF NOT EXISTS drive_shares (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL, file_key TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER,
        password_hash TEXT, max_downloads INTEGER, downloads INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS drive_shares_user ON drive_shares (user_id)",
];

const MYSQL_TABLE: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

fn v1_mysql() -> Vec<String> {
    [
        "CREATE TABLE IF NOT EXISTS drive_users (id CHAR(32) PRIMARY KEY, username VARCHAR(64) NOT NULL,
            username_key VARCHAR(64) NOT NULL UNIQUE, email VARCHAR(254), email_key VARCHAR(254) UNIQUE,
            display_name VARCHAR(200) NOT NULL, password_hash VARCHAR(200) NOT NULL, quota_bytes BIGINT,
            used_bytes BIGINT NOT NULL DEFAULT 0, created BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS drive_sessions (token_hash CHAR(64) PRIMARY KEY, user_id CHAR(32) NOT NULL,
            csrf CHAR(64) NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL, INDEX (user_id))",
        "CREATE TABLE IF NOT EXISTS drive_tokens (id CHAR(32) PRIMARY KEY, user_id CHAR(32) NOT NULL,
            name VARCHAR(200) NOT NULL, token_hash CHAR(64) NOT NULL UNIQUE, created BIGINT NOT NULL,
            last_used BIGINT, INDEX (user_id))",
        "CREATE TABLE IF NOT EXISTS drive_login_failures (scope_key VARCHAR(255) PRIMARY KEY,
            failures BIGINT NOT NULL, window_start BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS drive_files (user_id CHAR(32) NOT NULL, key_hash CHAR(64) NOT NULL,
            file_key TEXT NOT NULL, size BIGINT NOT NULL, nonce CHAR(32) NOT NULL,
            PRIMARY KEY (user_id, key_hash))",
        "CREATE TABLE IF NOT EXISTS drive_shares (id CHAR(32) PRIMARY KEY, token_hash CHAR(64) NOT NULL UNIQUE,
            user_id CHAR(32) NOT NULL, file_key TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT,
            password_hash VARCHAR(200), max_downloads BIGINT, downloads BIGINT NOT NULL DEFAULT 0,
            INDEX (user_id))",
    ]
    .iter()
    .map(|s| format!("{s} {MYSQL_TABLE}"))
    .collect()
}

/// The version `db` is at (0: empty).
pub fn version(db: &dyn Sql) -> Result<i64, DbError> {
    match db.query("SELECT MAX(version) FROM drive_schema", &[]) {
        Ok(rows) => Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::int)
            .unwrap_or(0)),
        Err(e) if e.message.contains("no such table") || e.message.contains("1146") => Ok(0),
        Err(e) => Err(e),
    }
}

/// Brings `db` to [`VERSION`]; safe to run from many instances at once
/// (each step is idempotent, and the version row is written once).
pub fn migrate(db: &dyn Sql) -> Result<(), DbError> {
    if version(db)? >= VERSION {
        return Ok(());
    }
    let version_table = match db.dialect() {
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS drive_schema (version INTEGER PRIMARY KEY)".to_owned()
        }
        Dialect::Mysql => format!(
            "CREATE TABLE IF NOT EXISTS drive_schema (version BIGINT PRIMARY KEY) {MYSQL_TABLE}"
        ),
    };
    db.execute(&version_table, &[])?;
    let steps: Vec<String> = match db.dialect() {
        Dialect::Sqlite => V1_SQLITE.iter().map(|s| (*s).to_owned()).collect(),
        Dialect::Mysql => v1_mysql(),
    };
    for step in &steps {
        db.execute(step, &[])?;
    }
    match db.execute(
        "INSERT INTO drive_schema (version) VALUES (?)",
        &[Value::Int(1)],
    ) {
        Ok(_) => Ok(()),
        Err(e) if e.duplicate => Ok(()),
        Err(e) => Err(e),
    }
}

/// A database migrated when it first needs to be: a statement that fails
/// while the schema is behind [`VERSION`] migrates it and runs once more.
/// Spares each request (each a fresh instance) a version check.
pub struct Migrating<D> {
    db: D,
    checked: std::cell::Cell<bool>,
}

impl<D: Sql> Migrating<D> {
    /// Wraps `db`.
    pub fn new(db: D) -> Self {
        Self {
            db,
            checked: std::cell::Cell::new(false),
        }
    }

    fn run<T>(&self, statement: impl Fn(&D) -> Result<T, DbError>) -> Result<T, DbError> {
        match statement(&self.db) {
            Err(e) if !self.checked.replace(true) && version(&self.db)? < VERSION => {
                migrate(&self.db).map_err(|m| {
                    DbError::new(format!(
                        "migrating the schema after `{}`: {}",
                        e.message, m.message
                    ))
                })?;
                statement(&self.db)
            }
            done => done,
        }
    }
}

impl<D: Sql> Sql for Migrating<D> {
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, DbError> {
        self.run(|db| db.execute(statement, params))
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        self.run(|db| db.query(statement, params))
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    #[test]
    fn migrating_creates_the_tables_once_and_again_is_harmless() {
        let db = rusqlite::Connection::open_in_memory().expect("db");
        assert_eq!(version(&db).expect("version"), 0);
        migrate(&db).expect("migrate");
        assert_eq!(version(&db).expect("version"), VERSION);
        migrate(&db).expect("again");
        Sql::execute(&db, "DELETE FROM drive_schema", &[]).expect("forget");
        migrate(&db).expect("idempotent steps");
        assert_eq!(version(&db).expect("version"), VERSION);
    }

    #[test]
    fn a_statement_on_an_empty_database_migrates_it_first() {
        let db = Migrating::new(rusqlite::Connection::open_in_memory().expect("db"));
        let rows = db
            .query("SELECT count(*) FROM drive_users", &[])
            .expect("migrated, then run");
        assert_eq!(rows, vec![vec![Value::Int(0)]]);
        assert_eq!(version(&db).expect("version"), VERSION);
        let wrong = db
            .query("SELECT nope FROM drive_users", &[])
            .expect_err("bad column");
        assert!(wrong.message.contains("nope"), "{}", wrong.message);
    }
}
