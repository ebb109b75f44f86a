//! `hmis dev`: the embedded default. Local PostgreSQL clusters from the machine's own
//! binaries (one for the central database, one per region, so that a region can be
//! stopped on its own), migrated, seeded with demo patients, and hmis serving on them.
//! Clusters live under `--data-dir` and are reused on the next start, on the same ports,
//! so the URLs given to pgAdmin keep working. One `hmis dev` per data directory (`lock`);
//! Ctrl-C or SIGTERM at any moment stops everything it started (`stop`, `clusters`).

/// `eprintln!` that cannot panic: when `hmis dev 2>&1 | tee log` is stopped with Ctrl-C,
/// `tee` dies first, and a message on the way out must not stop the clusters' shutdown.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod clusters;
pub mod config_file;
pub mod lock;
mod seed;
mod stop;
pub mod users;
mod vitals;

use crate::config::{DatabaseUrl, Settings};
use crate::pgcluster::{Cluster, ClusterOptions, PgBinaries};
use clusters::DevClusters;
use std::path::PathBuf;
use std::process::ExitCode;
use stop::{Interrupted, Stop};

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

/// Refuses at once what cannot work (another `hmis dev` on this data directory, a port in
/// use), then starts the clusters and serves; whatever ends the run (Ctrl-C or SIGTERM at
/// any moment, an error), the clusters this run started are stopped before it exits.
pub async fn run(mut settings: Settings, args: DevArgs) -> anyhow::Result<ExitCode> {
    let stop = Stop::install()?;
    let _lock = lock::DevLock::acquire(&args.data_dir, args.port)?;
    let listener = bind(args.port).await?;
    let mut clusters = DevClusters::default();
    let outcome = async {
        start_clusters(&mut settings, &args, &stop, &mut clusters).await?;
        let dev_key = config_file::keep_cursor_key(&mut settings, &args.data_dir);
        config_file::write(&settings, &args.data_dir, dev_key);
        serve(settings, &args, listener, &stop).await
    }
    .await;
    let stopped = clusters.stop().await;
    let Some(signal) = stop.requested() else {
        return outcome.and(stopped).map(|()| ExitCode::SUCCESS);
    };
    // That the stop cut startup short is no news; any other error still is.
    if let Err(e) = &outcome
        && !e.is::<Interrupted>()
    {
        say!("error: {e:#}");
    }
    stopped.map(|()| signal.exit_code())
}

/// Binds the HTTP port before any cluster starts, so a run that could not serve starts none.
async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{addr} is already in use (by another hmis dev or another program); \
                 choose a free port with --port, e.g. `hmis dev --port {}`",
                port.wrapping_add(1).max(1024)
            )
        } else {
            anyhow::anyhow!("cannot listen on {addr}: {e}; choose another port with --port")
        }
    })
}

async fn serve(
    settings: Settings,
    args: &DevArgs,
    listener: tokio::net::TcpListener,
    stop: &Stop,
) -> anyhow::Result<()> {
    stop.unless_stopped(prepare(&settings, args)).await?;
    print_banner(&settings, args);
    let stop = stop.clone();
    crate::launch(settings, listener, async move {
        stop.wait().await;
    })
    .await
}

/// Migrations, demo patients and demo users.
async fn prepare(settings: &Settings, args: &DevArgs) -> anyhow::Result<()> {
    for outcome in crate::migrate::migrate_all(settings, Some(users::DEMO_PASSWORD)).await {
        outcome
            .result
            .map_err(|e| anyhow::anyhow!("{}: {e}", outcome.target))?;
    }
    seed::seed_empty_regions(settings, args.patients).await?;
    let central = sqlx::PgPool::connect(settings.file.central.url.expose()).await?;
    users::ensure(&central).await?;
    central.close().await;
    Ok(())
}

/// Initializes (or reuses) and starts one cluster per region plus the central one, and
/// points the settings at them. Each cluster is recorded in `clusters` as soon as it may
/// run, and a stop request is honoured between steps: a PostgreSQL tool that runs is let
/// finish (it does not see the terminal's Ctrl-C), so nothing starts behind our back.
async fn start_clusters(
    settings: &mut Settings,
    args: &DevArgs,
    stop: &Stop,
    clusters: &mut DevClusters,
) -> anyhow::Result<()> {
    let bins = tokio::task::spawn_blocking(PgBinaries::find).await??;
    let mut names = vec!["central".to_owned()];
    names.extend(settings.regions.iter().map(|r| r.name.clone()));
    for name in names {
        stop.check()?;
        let opts = ClusterOptions {
            data_dir: std::path::absolute(args.data_dir.join(&name))?,
            superuser: DEV_USER.into(),
            password: DEV_PASSWORD.into(),
            durable: true,
            port: None,
            extra_conf: vec![],
        };
        let bins = bins.clone();
        let mut cluster = tokio::task::spawn_blocking(move || Cluster::init(&bins, opts)).await??;
        stop.check()?;
        let (cluster, started) = tokio::task::spawn_blocking(move || {
            let started = cluster.start();
            (cluster, started)
        })
        .await?;
        let cluster = clusters.record(&name, cluster, started)?;
        let url = DatabaseUrl::new(cluster.url(&format!("hmis_{name}")));
        match settings.regions.iter_mut().find(|r| r.name == name) {
            Some(region) => region.database_url = url,
            None => settings.file.central.url = url,
        }
    }
    Ok(())
}

fn print_banner(settings: &Settings, args: &DevArgs) {
    let port = args.port;
    println!(
        "\nhmis dev is up: http://127.0.0.1:{port}/ (the clinic UI: sign in as a demo user below)"
    );
    println!("  readiness: http://127.0.0.1:{port}/readyz (open to anyone)");
    println!(
        "  API docs:  http://127.0.0.1:{port}/api/v1/openapi.json (needs a session: log in \
         first, as below; a browser that has not gets 401)\n"
    );
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
    println!(
        "\nOther commands (hmis users list, hmis transfers, ...) find these databases in {}",
        args.data_dir.join("hmis.toml").display()
    );
    println!("\nCtrl-C stops hmis and the clusters.");
}
