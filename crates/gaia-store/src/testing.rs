//! Test support shared by every crate's database tests: scratch databases on SQLite, PostgreSQL and MySQL.
//!
//! Server tests read the server's URL from `GAIA_TEST_POSTGRES_URL` / `GAIA_TEST_MYSQL_URL` (`make test`
//! provisions throwaway servers and sets them). When one is unset its tests are skipped with a loud message
//! — unless `GAIA_REQUIRE_POSTGRES=1` / `GAIA_REQUIRE_MYSQL=1` (also set by `make test`), in which case they
//! fail, so CI can never pass without having exercised both servers.

use sea_orm::{ConnectionTrait, Database};

use crate::StoreError;

/// The PostgreSQL server URL for tests, or `None` (after printing why) when tests should skip.
/// Fails when `GAIA_REQUIRE_POSTGRES=1` and no server is configured.
pub fn postgres_url() -> Result<Option<String>, String> {
    server_url(
        "PostgreSQL",
        "GAIA_TEST_POSTGRES_URL",
        "GAIA_REQUIRE_POSTGRES",
    )
}

/// The MySQL (or MariaDB) server URL for tests, or `None` (after printing why) when tests should skip.
/// Fails when `GAIA_REQUIRE_MYSQL=1` and no server is configured.
pub fn mysql_url() -> Result<Option<String>, String> {
    server_url("MySQL", "GAIA_TEST_MYSQL_URL", "GAIA_REQUIRE_MYSQL")
}

fn server_url(engine: &str, url_var: &str, require_var: &str) -> Result<Option<String>, String> {
    match std::env::var(url_var) {
        Ok(url) if !url.trim().is_empty() => Ok(Some(url)),
        _ if std::env::var(require_var).as_deref() == Ok("1") => Err(format!(
            "{require_var}=1 but {url_var} is unset: run `make test`, or start {engine} and set it"
        )),
        _ => {
            eprintln!(
                "SKIPPING {engine} test: {url_var} is unset (make test provisions {engine} and sets it)"
            );
            Ok(None)
        }
    }
}

/// Creates an empty database with a unique name on the PostgreSQL server at `server_url` and returns its
/// URL.
pub async fn create_postgres_database(server_url: &str) -> Result<String, StoreError> {
    create_database(server_url, |name| format!("CREATE DATABASE \"{name}\"")).await
}

/// Creates an empty database with a unique name on the MySQL server at `server_url` and returns its URL.
pub async fn create_mysql_database(server_url: &str) -> Result<String, StoreError> {
    create_database(server_url, |name| format!("CREATE DATABASE `{name}`")).await
}

async fn create_database(
    server_url: &str,
    statement: impl FnOnce(&str) -> String,
) -> Result<String, StoreError> {
    let name = format!("gaia_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(server_url).await?;
    admin.execute_unprepared(&statement(&name)).await?;
    admin.close().await?;
    Ok(replace_database(server_url, &name))
}

/// Runs one SQL statement on the server at `server_url` (tests that simulate outages).
pub async fn execute_on_server(server_url: &str, sql: &str) -> Result<(), StoreError> {
    let admin = Database::connect(server_url).await?;
    admin.execute_unprepared(sql).await?;
    admin.close().await?;
    Ok(())
}

/// The database name in a server URL.
pub fn database_name(url: &str) -> Option<&str> {
    let base = url.split('?').next()?;
    let after_scheme = base.split_once("://")?.1;
    after_scheme
        .split_once('/')
        .map(|(_, db)| db)
        .filter(|db| !db.is_empty())
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/<name>?x` (the same for `mysql://`).
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh SQLite database file in `dir`.
pub fn sqlite_file_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("gaia-test.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            replace_database(
                "postgres://gaia@127.0.0.1:5433/postgres?sslmode=disable",
                "x"
            ),
            "postgres://gaia@127.0.0.1:5433/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "y"), "postgres://h/y");
    }
}
