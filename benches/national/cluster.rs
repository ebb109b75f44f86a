//! The bench's own PostgreSQL: one durable cluster per region and one central, under one
//! directory (a temporary one, removed at the end, or `--reuse DIR`), migrated with
//! `hmis::migrate` (also on reuse, so that a new migration is measured too), seeded once,
//! with the users the scenarios log in as.

use super::common;
use super::seed;
use hmis::config::{DatabaseUrl, RegionSettings};
use hmis::pgcluster::Cluster;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use uuid::Uuid;

/// The small region: creates there are compared with creates in a big one.
pub const SMALL: (&str, usize) = ("leribe", 1_000);
pub const PASSWORD: &str = "bench-password";
/// (user, role, region) the scenarios log in as.
pub const USERS: &[(&str, &str, &str)] = &[
    ("nurse.quthing", "nurse", "quthing"),
    ("nurse.leribe", "nurse", "leribe"),
    ("admin", "system_admin", "*"),
];

/// Settings every cluster gets: room for 128 direct clients beside hmis's pools, and
/// checkpoints spaced out for the bulk load. Durable (fsync, synchronous commit) as the
/// bench compares durable writes.
const CONF: &[(&str, &str)] = &[
    ("max_connections", "300"),
    ("shared_buffers", "256MB"),
    ("max_wal_size", "4GB"),
    ("checkpoint_timeout", "30min"),
];

pub struct Env {
    pub dir: PathBuf,
    pub clusters: BTreeMap<String, Cluster>,
    pub regions: Vec<RegionSettings>,
    /// Patients per region, and the seeded IDs of quthing (random reads pick among them).
    pub sizes: BTreeMap<String, i64>,
    pub quthing_ids: Vec<Uuid>,
    pub seed_report: Option<String>,
}

impl Env {
    /// A database's URL: `hmis_central` on the central cluster, `hmis_<region>` on its own.
    pub fn url(&self, db: &str) -> String {
        let cluster = db.strip_prefix("hmis_").unwrap_or(db);
        self.clusters[cluster].url(db)
    }

    /// Stops every cluster (a fast shutdown, which checkpoints).
    pub fn stop(&self) {
        for (name, c) in &self.clusters {
            if let Err(e) = c.stop() {
                eprintln!("could not stop the {name} cluster: {e}");
            }
        }
    }
}

/// Starts (or reuses) the clusters, migrates, seeds when not seeded yet, adds the users.
pub async fn prepare(dir: PathBuf, patients: usize, watch: bool) -> anyhow::Result<Env> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut regions = hmis::config::region_files(&root.join("regions"))?;
    let mut clusters = BTreeMap::new();
    for name in regions
        .iter()
        .map(|r| r.name.clone())
        .chain(["central".into()])
    {
        let cluster = common::durable_cluster(dir.join(&name), CONF)?;
        clusters.insert(name, cluster);
    }
    if watch {
        // Stops the clusters if this process dies without its cleanup (Ctrl-C, a panic).
        let dirs: Vec<PathBuf> = clusters.values().map(|c| c.data_dir().to_owned()).collect();
        hmis::pgcluster::spawn_watchdog(
            &hmis::pgcluster::PgBinaries::find()?,
            std::process::id(),
            &dirs,
        )?;
    }
    let mut env = Env {
        dir,
        clusters,
        regions: Vec::new(),
        sizes: BTreeMap::new(),
        quthing_ids: Vec::new(),
        seed_report: None,
    };
    for r in &mut regions {
        r.database_url = DatabaseUrl::new(env.url(&format!("hmis_{}", r.name)));
        hmis::migrate::migrate_region(r, None)
            .await
            .map_err(anyhow::Error::msg)?;
    }
    let central = DatabaseUrl::new(env.url("hmis_central"));
    hmis::migrate::migrate_central(&central, None)
        .await
        .map_err(anyhow::Error::msg)?;
    env.regions = regions;
    let marker = env.dir.join("seeded");
    if !marker.exists() {
        env.seed_report = Some(seed_all(&env, patients).await?);
        std::fs::write(&marker, format!("{patients}\n"))?;
    }
    users(&env.url("hmis_central")).await?;
    for r in &env.regions {
        let (client, conn) =
            tokio_postgres::connect(&env.url(&format!("hmis_{}", r.name)), tokio_postgres::NoTls)
                .await?;
        tokio::spawn(conn);
        let n: i64 = client
            .query_one("SELECT count(*) FROM patients", &[])
            .await?
            .get(0);
        env.sizes.insert(r.name.clone(), n);
        if r.name == "quthing" {
            // Only seeded patients: creates of earlier runs are not read back.
            let last =
                hmis::domain::hrn::Hrn::new(r.code as u8, patients.max(1) as u32)?.to_string();
            let rows = client
                .query("SELECT id FROM patients WHERE hrn <= $1", &[&last])
                .await?;
            env.quthing_ids = rows.iter().map(|r| r.get(0)).collect();
        }
    }
    Ok(env)
}

/// Seeds every region in parallel; returns the line that reports it.
async fn seed_all(env: &Env, patients: usize) -> anyhow::Result<String> {
    let start = Instant::now();
    let tasks: Vec<_> = env
        .regions
        .iter()
        .map(|r| {
            let n = if r.name == SMALL.0 { SMALL.1 } else { patients };
            let (url, name, code, districts) = (
                env.url(&format!("hmis_{}", r.name)),
                r.name.clone(),
                r.code,
                r.districts.clone(),
            );
            tokio::spawn(async move {
                let t = Instant::now();
                let s = seed::region(&url, &name, code, &districts, n).await?;
                eprintln!(
                    "seeded {name}: {n} patients, {} rows in {:.1} s",
                    s.rows,
                    t.elapsed().as_secs_f64()
                );
                anyhow::Ok((n, s.rows))
            })
        })
        .collect();
    let (mut patients_total, mut rows) = (0, 0);
    for t in tasks {
        let (n, r) = t.await??;
        patients_total += n;
        rows += r;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(format!(
        "seeded {patients_total} patients ({rows} rows with audit lines and observations) in {secs:.1} s: {:.0} rows/s, {:.0} patients/s (indexes rebuilt, VACUUM, ANALYZE and CHECKPOINT included)",
        rows as f64 / secs,
        patients_total as f64 / secs
    ))
}

async fn users(central: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(central).await?;
    for (name, role, region) in USERS {
        if hmis::auth::users::id_of(&pool, name).await?.is_none() {
            hmis::auth::users::create(&pool, name, PASSWORD, name).await?;
        }
        hmis::authz::store::grant(&pool, true, name, role, region).await?;
    }
    pool.close().await;
    Ok(())
}
