//! The federation's catalog work in the central database: dropping what belongs to regions
//! no longer configured, and the `planning` views over the regions that remain.

use super::{SERVER_PREFIX, VIEWS, execute};
use crate::config::RegionSettings;
use crate::dbroles::{quote_ident, quote_literal};
use sqlx::{Postgres, Transaction};

/// Drops the servers (and imported tables) of regions no longer in `regions/*.toml`.
pub(super) async fn drop_removed(
    tx: &mut Transaction<'_, Postgres>,
    regions: &[RegionSettings],
) -> Result<Vec<String>, String> {
    let servers: Vec<String> = sqlx::query_scalar(
        "SELECT s.srvname::text FROM pg_foreign_server s
         JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
         WHERE w.fdwname = 'postgres_fdw' AND starts_with(s.srvname, $1) ORDER BY 1",
    )
    .bind(SERVER_PREFIX)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| e.to_string())?;
    let mut removed = Vec::new();
    for server in servers {
        let name = &server[SERVER_PREFIX.len()..];
        if regions.iter().any(|r| r.name == name) {
            continue;
        }
        let schema = quote_ident(&format!("fdw_{name}"));
        execute(tx, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
        execute(tx, &format!("DROP SERVER {} CASCADE", quote_ident(&server))).await?;
        removed.push(name.to_owned());
    }
    Ok(removed)
}

/// The central views over every configured region that has its foreign tables.
pub(super) async fn build_views(
    tx: &mut Transaction<'_, Postgres>,
    regions: &[RegionSettings],
) -> Result<Vec<String>, String> {
    let mut present = Vec::new();
    for region in regions {
        let schema = format!("fdw_{}", region.name);
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = ANY($2)",
        )
        .bind(&schema)
        .bind(&VIEWS[..])
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| e.to_string())?;
        if tables == VIEWS.len() as i64 {
            present.push(region.name.clone());
        }
    }
    if present.is_empty() {
        return Ok(present);
    }
    for view in VIEWS {
        let parts: Vec<String> = present
            .iter()
            .map(|name| {
                let schema = quote_ident(&format!("fdw_{name}"));
                format!(
                    "SELECT {}::text AS region, t.* FROM {schema}.{view} t",
                    quote_literal(name)
                )
            })
            .collect();
        let body = parts.join(" UNION ALL ");
        execute(tx, &format!("CREATE VIEW planning.{view} AS {body}")).await?;
        execute(tx, &format!("GRANT SELECT ON planning.{view} TO planner")).await?;
    }
    Ok(present)
}
