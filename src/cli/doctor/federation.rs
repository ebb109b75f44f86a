//! Whether the central database's federated planning views ([`crate::federate`]) match
//! the configured regions, from the catalog alone (no connection from the central
//! database to any region): a foreign server per region at the address its
//! `database_url` names, with a user mapping and both foreign tables, the `planning`
//! views reading every region, and no server of a region no longer configured.

use super::report::Finding;
use crate::config::RegionSettings;
use crate::federate::{SERVER_PREFIX, VIEWS};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use std::collections::BTreeSet;

const FIX: &str = "run `hmis federate` (also the last step of `hmis migrate`); a region that \
                   was down when it last ran is added once it answers";

/// The federation check of the central database, against `regions`.
pub async fn check(
    conn: &mut PgConnection,
    regions: &[RegionSettings],
) -> Result<Finding, sqlx::Error> {
    let fdw: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'postgres_fdw')",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !fdw {
        return Ok(Finding::problem(
            "central",
            "federation",
            "the postgres_fdw extension is not installed",
            "a superuser runs, in the central database: CREATE EXTENSION postgres_fdw; \
             then run `hmis federate`",
        ));
    }
    let mut problems = Vec::new();
    for region in regions {
        problems.extend(region_problems(conn, region).await?);
    }
    for view in VIEWS {
        let read = view_regions(conn, view).await?;
        match read {
            None => problems.push(format!("planning.{view} is missing")),
            Some(read) => {
                let left_out: Vec<&str> = regions
                    .iter()
                    .map(|r| r.name.as_str())
                    .filter(|n| !read.contains(*n))
                    .collect();
                if !left_out.is_empty() {
                    problems.push(format!(
                        "planning.{view} leaves out {}",
                        left_out.join(", ")
                    ));
                }
            }
        }
    }
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT substr(srvname, length($2) + 1)::text FROM pg_foreign_server
         WHERE starts_with(srvname, $2) AND NOT substr(srvname, length($2) + 1) = ANY($1)
         ORDER BY 1",
    )
    .bind(regions.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(SERVER_PREFIX)
    .fetch_all(&mut *conn)
    .await?;
    if !stale.is_empty() {
        problems.push(format!(
            "servers of regions no longer configured: {}",
            stale.join(", ")
        ));
    }
    Ok(if problems.is_empty() {
        let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
        Finding::ok(
            "central",
            "federation",
            format!("planning views over {}", names.join(", ")),
        )
    } else {
        Finding::problem("central", "federation", problems.join("; "), FIX)
    })
}

/// What is wrong with one region's server, mapping and foreign tables.
async fn region_problems(
    conn: &mut PgConnection,
    region: &RegionSettings,
) -> Result<Vec<String>, sqlx::Error> {
    let name = &region.name;
    let server = format!("{SERVER_PREFIX}{name}");
    let found: Option<(Vec<String>, bool)> = sqlx::query_as(
        "SELECT coalesce(s.srvoptions, '{}')::text[],
                EXISTS (SELECT FROM pg_user_mappings m
                        WHERE m.srvid = s.oid AND m.usename = current_user)
         FROM pg_foreign_server s WHERE s.srvname = $1",
    )
    .bind(&server)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((options, mapped)) = found else {
        return Ok(vec![format!("no foreign server for region {name}")]);
    };
    let mut out = Vec::new();
    let option = |key: &str| {
        options
            .iter()
            .find_map(|o| o.strip_prefix(&format!("{key}=")).map(str::to_owned))
            .unwrap_or_default()
    };
    let has = format!("{}:{}/{}", option("host"), option("port"), option("dbname"));
    if let Ok(opts) = region.database_url.expose().parse::<PgConnectOptions>() {
        let wants = format!(
            "{}:{}/{}",
            opts.get_host(),
            opts.get_port(),
            opts.get_database().unwrap_or("postgres")
        );
        if has != wants {
            out.push(format!(
                "region {name}'s server points at {has}, its database_url at {wants}"
            ));
        }
    }
    if !mapped {
        out.push(format!("no user mapping for region {name}"));
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = ANY($2)",
    )
    .bind(format!("fdw_{name}"))
    .bind(&VIEWS[..])
    .fetch_one(&mut *conn)
    .await?;
    if tables != VIEWS.len() as i64 {
        out.push(format!("region {name}'s foreign tables are missing"));
    }
    Ok(out)
}

/// The regions whose `fdw_<name>` tables `planning.<view>` reads (from its dependencies),
/// or None when the view is missing.
async fn view_regions(
    conn: &mut PgConnection,
    view: &str,
) -> Result<Option<BTreeSet<String>>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("planning.{view}"))
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(None);
    }
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT n.nspname::text
         FROM pg_rewrite r
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                         AND d.refclassid = 'pg_class'::regclass
         JOIN pg_class t ON t.oid = d.refobjid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE r.ev_class = to_regclass($1) AND t.oid <> r.ev_class",
    )
    .bind(format!("planning.{view}"))
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(
        schemas
            .iter()
            .filter_map(|s| s.strip_prefix("fdw_").map(str::to_owned))
            .collect(),
    ))
}
