//! The pgAdmin roles of `hmis::dbroles`, checked by logging in as them: a regional admin
//! works in its own region only and cannot change the audit trail, a read-only role cannot
//! write, planners see `planning` only, and re-running keeps what operators set.
//!
//! Roles are cluster-wide and their names are fixed by region, so these tests take
//! [`LOCK`]: a test sets a role's password and logs in with it, and another test must not
//! change it in between. Other tests never set passwords.
//!
//! This file holds the helpers the topic files share: the lock, a fresh password, logging
//! in as a role, the SQLSTATE of an error, the check that a statement is denied, and two
//! regions on one cluster.

mod planner;
mod readonly;
mod regional_admin;
mod reruns;

use crate::helpers::pg;
use hmis::config::Settings;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

pub(super) static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A password no other test uses, with a quote and a space to exercise the quoting.
pub(super) fn password() -> String {
    format!("it's {}-{}", std::process::id(), pg::unique())
}

pub(super) fn url<'a>(settings: &'a Settings, region: &str) -> &'a str {
    settings.region(region).unwrap().database_url.expose()
}

pub(super) async fn superuser(url: &str) -> PgPool {
    PgPool::connect(url).await.unwrap()
}

/// Logs in to the database of `url` as `role` instead of the superuser.
pub(super) async fn connect_as(
    url: &str,
    role: &str,
    password: &str,
) -> Result<PgConnection, sqlx::Error> {
    let opts: PgConnectOptions = url.parse().unwrap();
    PgConnection::connect_with(&opts.username(role).password(password)).await
}

pub(super) fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| format!("not a database error: {e}"))
}

/// `sql` run by `conn` must be refused by the grants. The message is checked too: the
/// append-only triggers of audit tables raise the same SQLSTATE, and they must not be what
/// stops a role here.
pub(super) async fn assert_denied(conn: &mut PgConnection, sql: &str) {
    match sqlx::query(sql).execute(&mut *conn).await {
        Ok(_) => panic!("{sql}: allowed, expected permission denied"),
        Err(e) => {
            assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
            assert!(e.to_string().contains("permission denied"), "{sql}: {e}");
        }
    }
}

pub(super) fn port(url: &str) -> u16 {
    url.parse::<PgConnectOptions>().unwrap().get_port()
}

/// Two regions whose test databases share a cluster (helpers spread regions over the shared
/// clusters by their sorted position), preferring quthing.
pub(super) fn same_cluster_pair(settings: &Settings) -> (String, String) {
    let mut pairs = Vec::new();
    for a in &settings.regions {
        for b in &settings.regions {
            if a.name != b.name && port(a.database_url.expose()) == port(b.database_url.expose()) {
                pairs.push((a.name.clone(), b.name.clone()));
            }
        }
    }
    pairs.sort_by_key(|(a, _)| a != "quthing");
    pairs
        .into_iter()
        .next()
        .expect("two regions on one cluster")
}

pub(super) async fn insert_patient(pool: &PgPool, given_name: &str) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district)
         VALUES ($1, $2, 'Mokoena', 'female', '1990-04-12', 'Quthing')",
    )
    .bind(id)
    .bind(given_name)
    .execute(pool)
    .await
    .unwrap();
    id
}
