//! Connections for command-line commands. A pool's own wait ("pool timed out" after 30
//! seconds, naming nothing) is the wrong answer for an operator at a prompt: one direct
//! connection is tried first, under a short deadline, and its failure names the database,
//! its URL without the password, the driver's reason and what to check.

use crate::config::{DatabaseUrl, Settings};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::time::Duration;

/// How long a command waits for a database before it gives up.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// What to check, after every connection failure of a command.
pub const HINT: &str = "is hmis dev running? start it (`hmis dev`), or pass --config FILE \
                        (or --dev) pointing at the databases";

/// A database that did not answer, and why, ready to print.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {database} at {url}: {reason}\n  {HINT}")]
pub struct Unreachable {
    pub database: String,
    pub url: String,
    pub reason: String,
    /// The SQLSTATE when the server answered and refused (`3D000`: no such database,
    /// `28P01`: wrong password), for a command that says what to fix.
    pub code: Option<String>,
}

/// Connects once to `url` (named `database` in the message, e.g. "the central database").
pub async fn check(database: &str, url: &DatabaseUrl) -> Result<(), Unreachable> {
    let conn = open(database, url).await?;
    let _ = conn.close().await;
    Ok(())
}

/// One connection to `url`, under [`TIMEOUT`], or why not.
pub async fn open(database: &str, url: &DatabaseUrl) -> Result<PgConnection, Unreachable> {
    let fail = |reason: String, code: Option<String>| Unreachable {
        database: database.to_owned(),
        url: url.redacted(),
        reason,
        code,
    };
    let opts: PgConnectOptions = url
        .expose()
        .parse()
        .map_err(|e: sqlx::Error| fail(format!("not a valid URL: {e}"), None))?;
    match tokio::time::timeout(TIMEOUT, opts.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(Into::into);
            Err(fail(e.to_string(), code))
        }
        Err(_) => Err(fail(
            format!("no answer within {} s", TIMEOUT.as_secs()),
            None,
        )),
    }
}

/// The central database's name in messages.
pub const CENTRAL: &str = "the central database";

/// The name of a region's database in messages.
pub fn region(name: &str) -> String {
    format!("the database of region {name}")
}

/// A small pool on the central database, after checking that it answers.
pub async fn central(settings: &Settings) -> anyhow::Result<PgPool> {
    let url = &settings.file.central.url;
    check(CENTRAL, url).await?;
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(TIMEOUT)
        .connect_lazy(url.expose())?)
}
