//! `hmis dev`: the embedded default. Local PostgreSQL clusters from the machine's own
//! binaries (one for the central database, one per region, so that a region can be
//! stopped on its own), migrated, seeded with demo patients, and hmis serving on them.
//! Clusters live under `--data-dir` and are reused on the next start, on the same ports,
//! so the URLs given to pgAdmin keep working. Ctrl-C stops everything it started.

pub mod config_file;
mod seed;
pub mod users;
mod vitals;

use crate::config::{DatabaseUrl, Settings};
use crate::pgcluster::{Cluster, ClusterOptions, PgBinaries};
use std::path::PathBuf;
use std::process::ExitCode;

/// The dev clusters' superuser and its password. Local development only: the clusters
/// listen on 127.0.0.1 alone.
const DEV_USER: &str = "hmis";
const DEV_PASSWORD: &str = "hmis";

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Where the clusters' data directories live.
    #[arg(long, default_value = ".hmis/dev")]
    pub data_dir: PathBuf,
    /// HTTP port on 127.0.0.1.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Demo patients to seed into empty regions (spread over all districts).
    #[arg(long, default_value_t = 400)]
    pub patients: usize,
}

pub async fn run(mut settings: Settings, args: DevArgs) -> anyhow::Result<ExitCode> {
    let clusters = start_clusters(&mut settings, &args).await?;
    config_file::write(&settings, &args.data_dir);
    let outcome = serve(settings, &args).await;
    eprintln!("stopping the dev clusters");
    tokio::task::spawn_blocking(move || clusters.iter().try_for_each(Cluster::stop)).await??;
    outcome.map(|_| ExitCode::SUCCESS)
}

async fn serve(settings: Settings, args: &DevArgs) -> anyhow::Result<()> {
    for outcome in crate::migrate::migrate_all(&settings, Some(users::DEMO_PASSWORD)).await {
        outcome
            .result
            .map_err(|e| anyhow::anyhow!("{}: {e}", outcome.target))?;
    }
    seed::seed_empty_regions(&settings, args.patients).await?;
    let central = sqlx::PgPool::connect(settings.file.central.url.expose()).await?;
    users::ensure(&central).await?;
    central.close().await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    print_banner(&settings, args.port);
    crate::launch(settings, listener, crate::cli::shutdown_signal()).await
}

/// Initializes (or reuses) and starts one cluster per region plus the central one, and
/// points the settings at them.
async fn start_clusters(settings: &mut Settings, args: &DevArgs) -> anyhow::Result<Vec<Cluster>> {
    let bins = tokio::task::spawn_blocking(PgBinaries::find).await??;
    std::fs::create_dir_all(&args.data_dir)?;
    let mut names = vec!["central".to_owned()];
    names.extend(settings.regions.iter().map(|r| r.name.clone()));
    let mut clusters = Vec::new();
    for name in names {
        let opts = ClusterOptions {
            data_dir: std::path::absolute(args.data_dir.join(&name))?,
            superuser: DEV_USER.into(),
            password: DEV_PASSWORD.into(),
            durable: true,
            port: None,
            extra_conf: vec![],
        };
        let bins = bins.clone();
        let cluster = tokio::task::spawn_blocking(move || {
            let mut c = Cluster::init(&bins, opts)?;
            c.start()?;
            Ok::<_, crate::pgcluster::PgError>(c)
        })
        .await??;
        let url = DatabaseUrl::new(cluster.url(&format!("hmis_{name}")));
        match settings.regions.iter_mut().find(|r| r.name == name) {
            Some(region) => region.database_url = url,
            None => settings.file.central.url = url,
        }
        clusters.push(cluster);
    }
    Ok(clusters)
}

fn print_banner(settings: &Settings, port: u16) {
    println!("\nhmis dev is up: http://127.0.0.1:{port}/");
    println!("  API docs:  http://127.0.0.1:{port}/api/v1/openapi.json");
    println!("  readiness: http://127.0.0.1:{port}/readyz\n");
    println!("Databases for psql or pgAdmin (local development only). Regional admins and");
    println!("planners use their own roles (first line); the second is the service's own URL:");
    let as_role = |url: &str, role: &str| {
        url.replacen(
            &format!("{DEV_USER}:{DEV_PASSWORD}@"),
            &format!("{role}:{}@", users::DEMO_PASSWORD),
            1,
        )
    };
    let central = settings.file.central.url.expose();
    println!(
        "  {:<10} {}
  {:<10} {central}",
        "central",
        as_role(central, "planner"),
        ""
    );
    for r in &settings.regions {
        let url = r.database_url.expose();
        println!(
            "  {:<10} {}
  {:<10} {url}",
            r.name,
            as_role(url, &format!("{}_admin", r.name)),
            ""
        );
    }
    println!(
        "\nDemo users, all with password \"{}\" (dev only):",
        users::DEMO_PASSWORD
    );
    for (name, role, region) in users::DEMO_USERS {
        println!("  {name:<18} {role} in {region}");
    }
    println!(
        "Log in: curl -s localhost:{port}/api/v1/auth/login -H 'content-type: application/json' \\"
    );
    println!("          -d '{{\"username\": \"nurse.quthing\", \"password\": \"demo\"}}'");
    println!("\nCtrl-C stops hmis and the clusters.");
}
