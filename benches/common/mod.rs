//! What the benches share: a durable PostgreSQL cluster of their own, the migrated and
//! seeded databases, the release `hmis serve` as a child process (so that its memory and
//! CPU count no client), and the nurse they log in as. Included with `#[path]`; a folder
//! without `main.rs`, so Cargo does not take it for a bench.

use hmis::pgcluster::{Cluster, ClusterOptions, PgBinaries};
use std::path::PathBuf;
use std::time::Duration;

/// A started cluster in a temporary directory named after the bench; stop it and remove
/// the directory when done.
#[allow(dead_code)] // Not every bench that includes this module uses every function.
pub fn start_cluster(name: &str) -> anyhow::Result<(Cluster, PathBuf)> {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let cluster = durable_cluster(dir.join("pg"), &[("max_connections", "200")])?;
    Ok((cluster, dir))
}

/// A durable cluster in `data_dir` (initialized there, or reused when it already is),
/// started, with `conf` added to its settings.
pub fn durable_cluster(data_dir: PathBuf, conf: &[(&str, &str)]) -> anyhow::Result<Cluster> {
    let bins = PgBinaries::find()?;
    let mut cluster = Cluster::init(
        &bins,
        ClusterOptions {
            data_dir,
            superuser: "hmis".into(),
            password: "bench".into(),
            durable: true,
            port: None,
            extra_conf: conf
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        },
    )?;
    cluster.start()?;
    Ok(cluster)
}

/// A kernel figure of a process from `/proc/<pid>/status`, in KiB: `VmRSS` (resident
/// now) or `VmHWM` (the peak resident so far).
#[allow(dead_code)]
pub fn proc_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} for {pid}"))
}

/// The release `hmis serve` on `port`, on the databases `url` names.
pub fn serve(url: &dyn Fn(&str) -> String, port: u16) -> std::io::Result<std::process::Child> {
    std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
        .arg("serve")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HMIS_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("HMIS_CENTRAL_URL", url("hmis_central"))
        .env("RUST_LOG", "warn")
        .envs(std::env::var("TOKIO_WORKER_THREADS").map(|t| ("TOKIO_WORKER_THREADS", t)))
        .envs(["quthing", "maseru", "mafeteng", "leribe"].map(|r| {
            (
                format!("HMIS_REGION_{}_DATABASE_URL", r.to_uppercase()),
                url(&format!("hmis_{r}")),
            )
        }))
        .spawn()
}

/// Migrates every region's database and the central one, puts `n` patients into quthing,
/// and creates the Quthing nurse the benches log in as (`bench.nurse`).
#[allow(dead_code)]
pub async fn seed(url: &dyn Fn(&str) -> String, n: usize) -> anyhow::Result<Vec<uuid::Uuid>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut regions = hmis::config::region_files(&root.join("regions"))?;
    for r in &mut regions {
        r.database_url = hmis::config::DatabaseUrl::new(url(&format!("hmis_{}", r.name)));
        hmis::migrate::migrate_region(r, None)
            .await
            .map_err(anyhow::Error::msg)?;
    }
    let central = hmis::config::DatabaseUrl::new(url("hmis_central"));
    hmis::migrate::migrate_central(&central, None)
        .await
        .map_err(anyhow::Error::msg)?;
    let (client, conn) =
        tokio_postgres::connect(&url("hmis_quthing"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let code = regions
        .iter()
        .find(|r| r.name == "quthing")
        .map(|r| r.code)
        .unwrap_or(1);
    let ids: Vec<uuid::Uuid> = (0..n)
        .map(|_| hmis::domain::PatientId::new(code).uuid())
        .collect();
    client
        .execute(
            "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district, phone)
             SELECT id, 'Palesa', 'Mokoena' || n, 'female', DATE '1990-01-01' + (n % 9000)::int, 'Quthing', '+2665800' || lpad(n::text, 4, '0')
             FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)",
            &[&ids],
        )
        .await?;
    client.execute("ANALYZE patients", &[]).await?;
    let central = sqlx::PgPool::connect(&url("hmis_central")).await?;
    hmis::auth::users::create(&central, "bench.nurse", "bench-password", "").await?;
    hmis::authz::store::grant(&central, true, "bench.nurse", "nurse", "quthing").await?;
    Ok(ids)
}

#[allow(dead_code)]
pub async fn login(base: &str) -> anyhow::Result<String> {
    login_as(base, "bench.nurse", "bench-password").await
}

/// A bearer token for `username`.
pub async fn login_as(base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({"username": username, "password": password});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    answer["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login of {username} failed: {answer}"))
}

pub async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("hmis did not become ready")
}
