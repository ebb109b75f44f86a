//! The command line. Each subcommand is a thin shell over the library: `serve` and `dev`
//! end in [`crate::launch`], `rules` in the pure rule engine, `query` in a running hmis.

mod query;
mod rules;
mod transfers;
mod users;

use crate::config::Settings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "hmis", version, about = "Regional health data router")]
pub struct Cli {
    /// Settings file. Default: ./hmis.toml if present, else built-in defaults.
    #[arg(long, global = true, env = "HMIS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything locally: PostgreSQL clusters, migrations, demo data, the server.
    Dev(crate::dev::DevArgs),
    /// Serve against the configured databases.
    Serve {
        /// Listen address; overrides server.listen.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply the migrations to the central database and every region, then federate.
    Migrate,
    /// Rebuild the central database's federated planning views from regions/*.toml.
    Federate,
    /// Run a planner's SQL in every region through a running hmis, and print the rows.
    Query(query::QueryArgs),
    /// Check or explain the routing rules.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Create, list, disable users; give and take roles.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// List and change the authorization policy.
    #[command(subcommand)]
    Policy(users::PolicyCommand),
    /// List unfinished patient transfers (exit code 2 when there are some).
    Transfers {
        /// Finish them now (as a running hmis does every few seconds).
        #[arg(long)]
        resume: bool,
    },
}

/// Parses the command line, runs it, and turns errors into a message and exit code 1.
/// Usage errors too (clap's own code is 2, which `hmis query` uses for "some regions
/// failed"); help and version still exit 0.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::FAILURE;
        }
        Err(e) => e.exit(),
    };
    init_tracing();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Dev(args) => crate::dev::run(Settings::load(config)?, args).await,
        Command::Serve { listen } => serve(Settings::load(config)?, listen).await,
        Command::Migrate => migrate(&Settings::load(config)?).await,
        Command::Federate => federate(&Settings::load(config)?).await,
        Command::Query(args) => query::run(args).await,
        Command::Rules(cmd) => rules::run(cmd, config),
        Command::Users(cmd) => users::users(cmd, &Settings::load(config)?).await,
        Command::Policy(cmd) => users::policy(cmd, &Settings::load(config)?).await,
        Command::Transfers { resume } => transfers::run(Settings::load(config)?, resume).await,
    }
}

async fn serve(settings: Settings, listen: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = listen.unwrap_or_else(|| settings.file.server.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, regions = settings.regions.len(), "serving");
    crate::launch(settings, listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for outcome in crate::migrate::migrate_all(settings, None).await {
        match outcome.result {
            Ok(()) => println!("{}: up to date", outcome.target),
            Err(e) => {
                failed += 1;
                println!("{}: FAILED: {e}", outcome.target);
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn federate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let report = crate::federate::federate(settings, &[])
        .await
        .map_err(anyhow::Error::msg)?;
    println!("planning views over: {}", report.in_views.join(", "));
    if !report.removed.is_empty() {
        println!("removed: {}", report.removed.join(", "));
    }
    for (region, reason) in &report.failed {
        println!("{region}: FAILED (earlier tables kept, if any): {reason}");
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Resolves on Ctrl-C or SIGTERM, so that `serve` drains requests when stopped.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

/// Logs to stderr; `RUST_LOG` filters (default: info for hmis and requests).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
