//! `hmis migrate`: applies `migrations/shard/` to every region and `migrations/central/` to
//! the central database. The migrations are compiled into the binary, so the binary that
//! serves is the one that migrates. sqlx records what ran and holds an advisory lock, so a
//! second run is a no-op and two runs at once do not collide; the migrations themselves
//! only add, so running them under a serving hmis is safe.

use crate::config::{DatabaseUrl, RegionSettings, Settings};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres};

pub static SHARD: Migrator = sqlx::migrate!("migrations/shard");
pub static CENTRAL: Migrator = sqlx::migrate!("migrations/central");

/// What happened to one database.
#[derive(Debug)]
pub struct Outcome {
    pub target: String,
    pub result: Result<(), String>,
}

/// Migrates the central database and every region, carrying on past a region that fails
/// so that one dead region does not hold the others back; then rebuilds the central
/// database's federated planning views ([`crate::federate`]) over the regions that
/// migrated.
///
/// `pgadmin_password`: the password for the pgAdmin roles (see [`crate::dbroles`]); None
/// leaves existing roles as they are and makes missing ones without login.
pub async fn migrate_all(settings: &Settings, pgadmin_password: Option<&str>) -> Vec<Outcome> {
    let central = migrate_central(&settings.file.central.url, pgadmin_password).await;
    let central_failed = central.is_err();
    let mut out = vec![Outcome {
        target: "central".into(),
        result: central,
    }];
    let mut failed = Vec::new();
    for region in &settings.regions {
        let result = migrate_region(region, pgadmin_password).await;
        if result.is_err() {
            failed.push(region.name.clone());
        }
        out.push(Outcome {
            target: format!("region {}", region.name),
            result,
        });
    }
    // The views live in the central database: without it, federating would only wait
    // for a pool to give up, and then report the same failure again.
    let federation = if central_failed {
        Err("skipped: the central database did not migrate".to_owned())
    } else {
        let report = crate::federate::federate(settings, &failed).await;
        report.and_then(|report| report.check())
    };
    out.push(Outcome {
        target: "federation".into(),
        result: federation,
    });
    out
}

/// Migrates the central database, writes the shipped policy into an empty policy table,
/// and sets up the planners' pgAdmin role.
pub async fn migrate_central(
    url: &DatabaseUrl,
    pgadmin_password: Option<&str>,
) -> Result<(), String> {
    let pool = run(&CENTRAL, url).await?;
    let done = async {
        crate::authz::store::seed_default(&pool).await?;
        crate::dbroles::ensure_central_roles(&pool, pgadmin_password).await
    };
    let result = done.await.map_err(|e| format!("{url}: {e}"));
    pool.close().await;
    result
}

/// Migrates one region's database, checks that it is that region's database, and sets up
/// its pgAdmin roles.
pub async fn migrate_region(
    region: &RegionSettings,
    pgadmin_password: Option<&str>,
) -> Result<(), String> {
    let pool = run(&SHARD, &region.database_url).await?;
    let (name, code): (String, i32) = sqlx::query_as(
        "INSERT INTO shard_identity (region, code) VALUES ($1, $2)
         ON CONFLICT (only_row) DO UPDATE SET only_row = true
         RETURNING region, code",
    )
    .bind(&region.name)
    .bind(i32::from(region.code))
    .fetch_one(&pool)
    .await
    .map_err(|e| e.to_string())?;
    if name != region.name || code != i32::from(region.code) {
        pool.close().await;
        return Err(format!(
            "{} is the database of region {name} (code {code}), not of {} (code {}): check database_url",
            region.database_url, region.name, region.code
        ));
    }
    if let Err(e) = backfill_name_keys(&pool).await {
        pool.close().await;
        return Err(format!("{}: name keys: {e}", region.database_url));
    }
    let roles = crate::dbroles::ensure_region_roles(&pool, &region.name, pgadmin_password).await;
    pool.close().await;
    roles.map_err(|e| format!("{}: pgAdmin roles: {e}", region.database_url))
}

/// Patients written before the duplicate check existed get their name keys. The keys are
/// computed by hmis ([`crate::domain::names`]), not in SQL, so a migration cannot.
async fn backfill_name_keys(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    loop {
        let rows: Vec<(uuid::Uuid, String, String)> = sqlx::query_as(
            "SELECT id, given_name, family_name FROM patients
             WHERE given_key IS NULL OR family_key IS NULL LIMIT 5000",
        )
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let key = crate::domain::names::name_key;
        let ids: Vec<_> = rows.iter().map(|r| r.0).collect();
        let given: Vec<_> = rows.iter().map(|r| key(&r.1)).collect();
        let family: Vec<_> = rows.iter().map(|r| key(&r.2)).collect();
        sqlx::query(
            "UPDATE patients p SET given_key = k.g, family_key = k.f
             FROM unnest($1::uuid[], $2::text[], $3::text[]) AS k(id, g, f) WHERE p.id = k.id",
        )
        .bind(&ids)
        .bind(&given)
        .bind(&family)
        .execute(pool)
        .await?;
    }
}

/// How long the first connection to a database may take before it counts as down.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Creates the database if it is missing, then applies the migrations.
async fn run(migrator: &Migrator, url: &DatabaseUrl) -> Result<sqlx::PgPool, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{url}: {e}");
    // The first contact says whether the server answers at all: its failure reads as one.
    let unreachable = |e: &dyn std::fmt::Display| format!("cannot connect to {url}: {e}");
    let exists = tokio::time::timeout(CONNECT_TIMEOUT, Postgres::database_exists(url.expose()))
        .await
        .map_err(|_| unreachable(&format!("no answer within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| unreachable(&e))?;
    if !exists {
        Postgres::create_database(url.expose())
            .await
            .map_err(|e| fail(&e))?;
    }
    let opts: PgConnectOptions = url.expose().parse().map_err(|e| fail(&e))?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts.disable_statement_logging())
        .await
        .map_err(|e| fail(&e))?;
    migrator.run(&pool).await.map_err(|e| fail(&e))?;
    Ok(pool)
}
