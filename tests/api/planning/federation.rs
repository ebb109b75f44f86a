//! The central database's federated views, as a planner sees them in pgAdmin: every
//! region's patients through one view, kept in step with the configured regions.
//!
//! On a cluster of its own: `<region>_planner` gets a password here, and roles are
//! cluster-wide, so another test federating on the shared clusters would change it.

use super::{shard_counts, some_patients};
use crate::helpers::{launch, pg, project_settings};
use hmis::config::{DatabaseUrl, Settings};
use hmis::pgcluster::{Cluster, spawn_watchdog};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::BTreeMap;

/// A non-durable cluster holding central and every region, migrated and federated by
/// `migrate_all`, as `hmis migrate` does.
async fn federated_cluster() -> (Cluster, Settings) {
    let cluster = tokio::task::spawn_blocking(|| {
        let pg = pg::pg();
        let dir = pg.base.join(format!("fdw{}", pg::unique()));
        let mut c = Cluster::clone_from(&pg.bins, &pg.template_dir, pg::options(dir)).unwrap();
        c.start().unwrap();
        spawn_watchdog(&pg.bins, std::process::id(), &[c.data_dir().to_path_buf()]).unwrap();
        c
    })
    .await
    .unwrap();
    let mut settings = project_settings();
    settings.file.central.url = DatabaseUrl::new(cluster.url("hmis_central"));
    for region in &mut settings.regions {
        region.database_url = DatabaseUrl::new(cluster.url(&format!("hmis_{}", region.name)));
        region.pool_size = 4;
    }
    for outcome in hmis::migrate::migrate_all(&settings, None).await {
        assert_eq!(outcome.result, Ok(()), "{}", outcome.target);
    }
    (cluster, settings)
}

async fn per_region(conn: &mut PgConnection) -> BTreeMap<String, i64> {
    sqlx::query_as("SELECT region, count(*) FROM planning.patients GROUP BY region")
        .fetch_all(conn)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn a_planner_in_pgadmin_counts_every_regions_patients_through_one_view_kept_in_step() {
    let (_cluster, settings) = federated_cluster().await;
    let central_url = settings.file.central.url.expose().to_owned();
    let app = launch(settings.clone()).await;
    some_patients(&app).await;
    let mut expected = shard_counts(&app).await;
    expected.retain(|_, n| *n > 0);

    let central = PgPool::connect(&central_url).await.unwrap();
    sqlx::query("ALTER ROLE planner LOGIN PASSWORD 'fed-test'")
        .execute(&central)
        .await
        .unwrap();
    let opts: PgConnectOptions = central_url.parse().unwrap();
    let mut planner = PgConnection::connect_with(&opts.username("planner").password("fed-test"))
        .await
        .unwrap();
    assert_eq!(per_region(&mut planner).await, expected);
    let observations: i64 = sqlx::query_scalar("SELECT count(*) FROM planning.observations")
        .fetch_one(&mut planner)
        .await
        .unwrap();
    assert_eq!(observations, 0);
    for sql in [
        "SELECT given_name FROM planning.patients",
        "SELECT count(*) FROM fdw_quthing.patients",
        "SELECT count(*) FROM users",
    ] {
        let refused = sqlx::query(sql).execute(&mut planner).await;
        assert!(refused.is_err(), "{sql} answered a planner");
    }

    let quthing_login = mapping_options(&central, "region_quthing").await;
    assert!(quthing_login.iter().any(|o| o.starts_with("password=")));

    // Leribe leaves the configuration: its rows leave the view, its server goes.
    let mut without = settings.clone();
    without.regions.retain(|r| r.name != "leribe");
    let report = hmis::federate::federate(&without, &[]).await.unwrap();
    assert_eq!(report.removed, ["leribe"]);
    assert_eq!(report.in_views.len(), 3);
    let mut fewer = expected.clone();
    fewer.remove("leribe");
    assert_eq!(per_region(&mut planner).await, fewer);
    let servers: Vec<String> =
        sqlx::query_scalar("SELECT srvname::text FROM pg_foreign_server ORDER BY 1")
            .fetch_all(&central)
            .await
            .unwrap();
    assert!(
        !servers.contains(&"region_leribe".to_owned()),
        "{servers:?}"
    );

    // And comes back on the next run; the others keep their password.
    let report = hmis::federate::federate(&settings, &[]).await.unwrap();
    assert_eq!(
        (report.in_views.len(), report.failed.len()),
        (4, 0),
        "{report:?}"
    );
    assert_eq!(per_region(&mut planner).await, expected);
    assert_eq!(
        mapping_options(&central, "region_quthing").await,
        quthing_login
    );
}

/// The options of hmis's own user mapping on `server` (as the superuser sees them).
async fn mapping_options(central: &PgPool, server: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT umoptions::text[] FROM pg_user_mappings WHERE srvname = $1 AND usename = current_user",
    )
    .bind(server)
    .fetch_one(central)
    .await
    .unwrap()
}
