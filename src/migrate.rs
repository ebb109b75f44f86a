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
/// so that one dead region does not hold the others back.
pub async fn migrate_all(settings: &Settings) -> Vec<Outcome> {
    let mut out = vec![Outcome {
        target: "central".into(),
        result: migrate_central(&settings.file.central.url).await,
    }];
    for region in &settings.regions {
        out.push(Outcome {
            target: format!("region {}", region.name),
            result: migrate_region(region).await,
        });
    }
    out
}

/// Migrates the central database and writes the shipped policy into an empty policy table.
pub async fn migrate_central(url: &DatabaseUrl) -> Result<(), String> {
    let pool = run(&CENTRAL, url).await?;
    let seeded = crate::authz::store::seed_default(&pool).await;
    pool.close().await;
    seeded
        .map(|_| ())
        .map_err(|e| format!("{url}: policy: {e}"))
}

/// Migrates one region's database and checks that it is that region's database.
pub async fn migrate_region(region: &RegionSettings) -> Result<(), String> {
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
    pool.close().await;
    if name != region.name || code != i32::from(region.code) {
        return Err(format!(
            "{} is the database of region {name} (code {code}), not of {} (code {}): check database_url",
            region.database_url, region.name, region.code
        ));
    }
    Ok(())
}

/// Creates the database if it is missing, then applies the migrations.
async fn run(migrator: &Migrator, url: &DatabaseUrl) -> Result<sqlx::PgPool, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{url}: {e}");
    if !Postgres::database_exists(url.expose())
        .await
        .map_err(|e| fail(&e))?
    {
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
