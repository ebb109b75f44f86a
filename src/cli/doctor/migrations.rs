//! Migrations current: the versions recorded in `_sqlx_migrations` (sqlx's own table,
//! written by `hmis migrate`) against those compiled into this binary. Missing ones are
//! what `hmis migrate` applies; failed, edited or unknown ones it refuses, so each says
//! what to do instead.

use super::database::MIGRATE;
use super::report::Finding;
use sqlx::PgConnection;
use sqlx::migrate::Migrator;
use std::collections::BTreeMap;

/// The migrations recorded in `_sqlx_migrations` against those compiled into this binary.
pub async fn check(
    conn: &mut PgConnection,
    subject: &str,
    migrator: &Migrator,
) -> Result<Vec<Finding>, sqlx::Error> {
    let known: BTreeMap<i64, (String, &[u8])> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| {
            let name = format!("{:04}_{}", m.version, m.description.replace(' ', "_"));
            (m.version, (name, &*m.checksum))
        })
        .collect();
    let recorded: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    let applied: Vec<(i64, bool, Vec<u8>)> = if recorded {
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    let name = |v: &i64| known.get(v).map_or(format!("{v:04}"), |k| k.0.clone());
    let list = |vs: Vec<String>| vs.join(", ");
    let mut out = Vec::new();
    let missing: Vec<String> = known
        .keys()
        .filter(|v| !applied.iter().any(|a| a.0 == **v))
        .map(name)
        .collect();
    if !missing.is_empty() {
        out.push(Finding::problem(
            subject,
            "migrations",
            format!(
                "{} of {} not applied: {}",
                missing.len(),
                known.len(),
                list(missing)
            ),
            format!("{MIGRATE}: it applies them"),
        ));
    }
    let failed: Vec<String> = applied
        .iter()
        .filter(|a| !a.1)
        .map(|a| name(&a.0))
        .collect();
    if !failed.is_empty() {
        out.push(Finding::problem(
            subject,
            "migrations",
            format!("failed part-way: {}", list(failed)),
            "repair the database by hand (see what `hmis migrate` reported), then delete the \
             migration's row from _sqlx_migrations and run `hmis migrate` again",
        ));
    }
    let changed: Vec<String> = applied
        .iter()
        .filter(|a| a.1 && known.get(&a.0).is_some_and(|k| k.1 != a.2.as_slice()))
        .map(|a| name(&a.0))
        .collect();
    if !changed.is_empty() {
        out.push(Finding::problem(
            subject,
            "migrations",
            format!("applied, but different in this hmis: {}", list(changed)),
            "this binary was built from edited migration files: deploy the hmis release that \
             applied them (`hmis migrate` refuses to run until then)",
        ));
    }
    let unknown: Vec<String> = applied
        .iter()
        .filter(|a| !known.contains_key(&a.0))
        .map(|a| name(&a.0))
        .collect();
    if !unknown.is_empty() {
        out.push(Finding::problem(
            subject,
            "migrations",
            format!("applied but unknown to this hmis: {}", list(unknown)),
            "this hmis is older than the database: deploy the release that migrated it",
        ));
    }
    if out.is_empty() {
        let latest = known.values().last().map_or("none".into(), |k| k.0.clone());
        out.push(Finding::ok(
            subject,
            "migrations",
            format!("all {} applied (latest {latest})", known.len()),
        ));
    }
    Ok(out)
}
