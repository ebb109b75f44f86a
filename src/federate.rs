//! `hmis federate` (also the last step of `hmis migrate`): the central database's
//! `planning.patients` and `planning.observations`, each the `UNION ALL` of every region's
//! view of the same name with a `region` column, so that a planner in pgAdmin asks one
//! question of all regions.
//!
//! Through `postgres_fdw`: one foreign server per region (`region_<name>`, host, port and
//! database from its `database_url`), a user mapping for the service role that logs in to
//! the region as `<region>_planner` (which reads the `planning` views and nothing else),
//! and the region's `planning` schema imported into `fdw_<name>`. The central views belong
//! to the service role, and PostgreSQL reaches a foreign table through a view with the
//! view owner's user mapping, so planners need neither a mapping of their own nor any right
//! on the servers or `fdw_*` schemas: SELECT on the views is all they hold.
//!
//! `<region>_planner`'s password is made here: random, kept only in the user mapping (the
//! catalog only its owner and superusers read), set on the region's role when it is new
//! or no longer logs in. Everything is rebuilt from `regions/*.toml` on every run, in one
//! transaction: servers of removed regions are dropped, their rows leave the views. A
//! region that cannot be reached keeps its previous foreign tables, and is reported.

use crate::config::{RegionSettings, Settings};
use crate::dbroles::{quote_ident, quote_literal, region_planner_role};
use base64::Engine;
use rand::Rng;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use views::{build_views, drop_removed};

mod views;

/// Serializes two runs on the central database.
const LOCK_KEY: i64 = 0x686d_6973_6664_7721; // "hmisfdw!"
/// A region's foreign server is this and its name.
pub(crate) const SERVER_PREFIX: &str = "region_";
/// The views, and the regions' views they unite.
pub(crate) const VIEWS: [&str; 2] = ["patients", "observations"];

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Regions whose foreign tables were (re)imported now.
    pub refreshed: Vec<String>,
    /// Regions that could not be refreshed, and why; their earlier tables, if any, stay.
    pub failed: Vec<(String, String)>,
    /// Regions in the central views.
    pub in_views: Vec<String>,
    /// Servers of regions no longer configured, dropped.
    pub removed: Vec<String>,
}

impl Report {
    /// An error naming every region that could not be refreshed.
    pub fn check(self) -> Result<(), String> {
        if self.failed.is_empty() {
            return Ok(());
        }
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(r, e)| format!("{r}: {e}"))
            .collect();
        Err(format!("not refreshed: {}", failed.join("; ")))
    }
}

/// Rebuilds the federation over `settings.regions`, leaving the regions named in `skip`
/// (those whose migration just failed) as they were.
pub async fn federate(settings: &Settings, skip: &[String]) -> Result<Report, String> {
    let url = &settings.file.central.url;
    let opts: PgConnectOptions = url.expose().parse().map_err(|e| format!("{url}: {e}"))?;
    let central = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let result = run(&central, settings, skip).await;
    central.close().await;
    result
}

async fn run(central: &PgPool, settings: &Settings, skip: &[String]) -> Result<Report, String> {
    // The schema the views go in and the role they are granted to; already there after
    // `hmis migrate`, and cheap to make sure of when `hmis federate` runs alone.
    crate::dbroles::ensure_central_roles(central, None)
        .await
        .map_err(|e| format!("planner role and planning schema: {e}"))?;
    ensure_extension(central).await?;
    let timeout_secs = settings.file.server.shard_timeout_ms.div_ceil(1000).max(2);
    let mut report = Report::default();
    let fail = |e: sqlx::Error| e.to_string();
    let mut tx = central.begin().await.map_err(fail)?;
    // Held from the password on: two runs must not set two different ones.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    for view in VIEWS {
        execute(&mut tx, &format!("DROP VIEW IF EXISTS planning.{view}")).await?;
    }
    for region in settings.regions.iter().filter(|r| !skip.contains(&r.name)) {
        execute(&mut tx, "SAVEPOINT region").await?;
        let refreshed = async {
            let new_password = planner_password(&mut tx, region, timeout_secs).await?;
            refresh(&mut tx, region, new_password.as_deref(), timeout_secs).await
        };
        match refreshed.await {
            Ok(()) => report.refreshed.push(region.name.clone()),
            Err(e) => {
                execute(&mut tx, "ROLLBACK TO SAVEPOINT region").await?;
                report.failed.push((region.name.clone(), e));
            }
        }
    }
    report.removed = drop_removed(&mut tx, &settings.regions).await?;
    report.in_views = build_views(&mut tx, &settings.regions).await?;
    tx.commit().await.map_err(fail)?;
    Ok(report)
}

/// postgres_fdw is not a trusted extension: only a superuser creates it. In development
/// and the tests the service role is one; in production a DBA does it once.
async fn ensure_extension(central: &PgPool) -> Result<(), String> {
    let present: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'postgres_fdw')",
    )
    .fetch_one(central)
    .await
    .map_err(|e| e.to_string())?;
    if present {
        return Ok(());
    }
    let created = sqlx::query("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        .execute(central)
        .await;
    created.map(|_| ()).map_err(|e| {
        format!(
            "the central database needs the postgres_fdw extension, and only a superuser may \
             create it ({e}). Ask a DBA to run, connected to the central database: \
             CREATE EXTENSION postgres_fdw; GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw \
             TO <hmis's role>; then run hmis federate again"
        )
    })
}

/// None when the password the region's user mapping holds still logs `<region>_planner`
/// in; else a new one, already set on the role. Passwords are only sent when they change,
/// so that a server logging DDL statements does not log them at every run.
async fn planner_password(
    tx: &mut Transaction<'_, Postgres>,
    region: &RegionSettings,
    timeout_secs: u64,
) -> Result<Option<String>, String> {
    let role = region_planner_role(&region.name).map_err(|e| e.to_string())?;
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT o.option_value FROM pg_user_mappings m,
                LATERAL pg_options_to_table(m.umoptions) o
         WHERE m.srvname = $1 AND m.usename = current_user AND o.option_name = 'password'",
    )
    .bind(format!("{SERVER_PREFIX}{}", region.name))
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| e.to_string())?;
    let opts: PgConnectOptions = region
        .database_url
        .expose()
        .parse()
        .map_err(|e| format!("{}: {e}", region.database_url))?;
    if let Some(password) = existing {
        let login = opts.clone().username(&role).password(&password);
        if let Ok(conn) = connect(&login, timeout_secs).await {
            let _ = conn.close().await;
            return Ok(None);
        }
    }
    let password =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 24]>());
    let mut shard = connect(&opts, timeout_secs)
        .await
        .map_err(|e| format!("{}: {e}", region.database_url))?;
    // format() quotes server-side, as in dbroles: the password cannot leave its literal.
    let alter: String =
        sqlx::query_scalar("SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)")
            .bind(&role)
            .bind(&password)
            .fetch_one(&mut shard)
            .await
            .map_err(|e| e.to_string())?;
    let set = sqlx::query(&alter).execute(&mut shard).await;
    let _ = shard.close().await;
    set.map_err(|e| format!("cannot set the password of {role}: {e}"))?;
    Ok(Some(password))
}

/// sqlx waits as long as the network does for a host that does not answer.
async fn connect(opts: &PgConnectOptions, timeout_secs: u64) -> Result<PgConnection, String> {
    let timeout = std::time::Duration::from_secs(timeout_secs);
    match tokio::time::timeout(timeout, PgConnection::connect_with(opts)).await {
        Ok(connected) => connected.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {timeout_secs} s")),
    }
}

/// The region's server (created, or its address updated), the mapping (made again when
/// there is a new password), and its `planning` views imported afresh into `fdw_<region>`.
async fn refresh(
    tx: &mut Transaction<'_, Postgres>,
    region: &RegionSettings,
    new_password: Option<&str>,
    timeout_secs: u64,
) -> Result<(), String> {
    let opts: PgConnectOptions = region
        .database_url
        .expose()
        .parse()
        .map_err(|e: sqlx::Error| e.to_string())?;
    let role = region_planner_role(&region.name).map_err(|e| e.to_string())?;
    let server = format!("{SERVER_PREFIX}{}", region.name);
    let (s, schema) = (
        quote_ident(&server),
        quote_ident(&format!("fdw_{}", region.name)),
    );
    let address = [
        ("host", opts.get_host().to_owned()),
        ("port", opts.get_port().to_string()),
        (
            "dbname",
            opts.get_database().unwrap_or("postgres").to_owned(),
        ),
        // A region that is down must not hold the run (or a planner's query) for long.
        ("connect_timeout", timeout_secs.to_string()),
    ];
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_foreign_server WHERE srvname = $1)")
            .bind(&server)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| e.to_string())?;
    let options = |set: &str| {
        let pairs: Vec<String> = address
            .iter()
            .map(|(k, v)| format!("{set}{k} {}", quote_literal(v)))
            .collect();
        pairs.join(", ")
    };
    let mut statements = vec![if exists {
        format!("ALTER SERVER {s} OPTIONS ({})", options("SET "))
    } else {
        format!(
            "CREATE SERVER {s} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({})",
            options("")
        )
    }];
    if let Some(password) = new_password {
        let (user, password) = (quote_literal(&role), quote_literal(password));
        statements.extend([
            format!("DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER {s}"),
            format!(
                "CREATE USER MAPPING FOR CURRENT_USER SERVER {s} \
                 OPTIONS (user {user}, password {password})"
            ),
        ]);
    }
    statements.extend([
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema} AUTHORIZATION CURRENT_USER"),
        format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC"),
        format!(
            "IMPORT FOREIGN SCHEMA planning LIMIT TO (patients, observations) FROM SERVER {s} INTO {schema}"
        ),
    ]);
    for sql in statements {
        sqlx::query(&sql)
            .execute(&mut **tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn execute(tx: &mut Transaction<'_, Postgres>, sql: &str) -> Result<(), String> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(|e| format!("{sql}: {e}"))
}
