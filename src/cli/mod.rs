//! The command line. Each subcommand is a thin shell over the library: `serve` and `dev`
//! end in [`crate::launch`], `rules` in the pure rule engine, `query` and `healthz` in a
//! running hmis, `doctor` and `pgadmin export` in the configuration and its databases.

mod connect;
mod doctor;
mod healthz;
mod pgadmin;
mod query;
mod rules;
mod transfers;
mod users;

use crate::config::{self, Settings};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "hmis", version, about = "Regional health data router")]
pub struct Cli {
    /// Settings file [env: HMIS_CONFIG]. Default: ./hmis.toml if present, else the one a
    /// local `hmis dev` wrote (.hmis/dev/hmis.toml) if present, else built-in defaults.
    // HMIS_CONFIG is read in `settings_file`, not by clap, so that an explicit --dev wins
    // over the variable instead of conflicting with it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Use the databases of a local `hmis dev` (the hmis.toml it writes in --dev-dir).
    #[arg(long, global = true, conflicts_with = "config")]
    dev: bool,
    /// The data directory of that `hmis dev` (its --data-dir); implies --dev.
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "config")]
    dev_dir: Option<PathBuf>,
    /// Log lines on stderr: `text` for a person, `json` for a log collector (one object
    /// a line, with the request's id, user, region, rule and status).
    #[arg(
        long,
        global = true,
        env = "HMIS_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    #[default]
    Text,
    Json,
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
    /// Ask a running hmis for /healthz: exit 0 when it answers, 1 otherwise (the
    /// container image's health check).
    Healthz(healthz::HealthzArgs),
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
    /// Check the settings, rules and every database; say what to fix (exit 1 on a
    /// problem, 2 when the settings cannot be loaded).
    Doctor(doctor::DoctorArgs),
    /// List unfinished patient transfers (exit code 2 when there are some).
    Transfers {
        /// Finish them now (as a running hmis does every few seconds).
        #[arg(long)]
        resume: bool,
    },
    /// pgAdmin's servers.json for regional admins and planners.
    #[command(subcommand)]
    Pgadmin(pgadmin::PgadminCommand),
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
    init_tracing(cli.log_format);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The settings file of this command (see [`config::choose`]), said on stderr when it is
/// the one `hmis dev` wrote, since then no flag of the command named it.
fn settings_file(cli: &Cli) -> Result<Option<PathBuf>, config::ConfigError> {
    let config = cli
        .config
        .clone()
        .or_else(|| std::env::var_os("HMIS_CONFIG").map(PathBuf::from));
    if let Command::Dev(_) = cli.command {
        // `hmis dev` writes that file; it does not read it.
        return Ok(config);
    }
    let dev_dir = match (&cli.dev_dir, cli.dev) {
        (Some(dir), _) => Some(dir.as_path()),
        (None, true) => Some(Path::new(config::DEV_DIR)),
        (None, false) => None,
    };
    let chosen = config::choose(config.as_deref(), dev_dir, true)?;
    if let (true, Some(path)) = (chosen.dev, &chosen.path) {
        eprintln!("hmis: using {} (written by hmis dev)", path.display());
    }
    Ok(chosen.path)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = settings_file(&cli)?;
    let config = config.as_deref();
    match cli.command {
        Command::Dev(args) => crate::dev::run(Settings::load(config)?, args).await,
        Command::Serve { listen } => serve(Settings::load(config)?, listen).await,
        Command::Migrate => migrate(&Settings::load(config)?).await,
        Command::Federate => federate(&Settings::load(config)?).await,
        Command::Healthz(args) => healthz::run(args).await,
        Command::Query(args) => query::run(args).await,
        Command::Rules(cmd) => rules::run(cmd, config),
        Command::Users(cmd) => users::users(cmd, &Settings::load(config)?).await,
        Command::Policy(cmd) => users::policy(cmd, &Settings::load(config)?).await,
        Command::Doctor(args) => doctor::run(config, args).await,
        Command::Transfers { resume } => transfers::run(Settings::load(config)?, resume).await,
        Command::Pgadmin(cmd) => pgadmin::run(cmd, &Settings::load(config)?),
    }
}

async fn serve(settings: Settings, listen: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = listen.unwrap_or_else(|| settings.file.server.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    warn_unreachable(&settings).await;
    warn_random_cursor_key(&settings);
    tracing::info!(%addr, regions = settings.regions.len(), "serving");
    crate::launch(settings, listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Without `server.cursor_key` each process seals cursors with a random key of its own:
/// every client's change cursor (and list cursor) is answered with a reset after a
/// restart or on another process. Fine for one throwaway process; said at start.
fn warn_random_cursor_key(settings: &Settings) {
    if settings.file.server.cursor_key.expose().is_empty() {
        tracing::warn!(
            "server.cursor_key is empty: cursors are sealed with a random key of this process, \
             so they will not survive a restart or work across processes (every client's \
             change cursor gets a reset); set the same long random key on every process, \
             e.g. HMIS_SERVER_CURSOR_KEY=\"$(openssl rand -base64 32)\""
        );
    }
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
    if failed > 0 {
        eprintln!("check the URLs above: {}", connect::HINT);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `hmis serve` starts while databases are down (a region fails alone, and is used again
/// once back), but says at once which ones, where, and what to check.
async fn warn_unreachable(settings: &Settings) {
    let central = (connect::CENTRAL.to_owned(), &settings.file.central.url);
    let regions = settings
        .regions
        .iter()
        .map(|r| (connect::region(&r.name), &r.database_url));
    let checks = std::iter::once(central)
        .chain(regions)
        .map(|(name, url)| async move { connect::check(&name, url).await });
    for result in futures_util::future::join_all(checks).await {
        if let Err(e) = result {
            tracing::warn!(database = %e.database, url = %e.url, reason = %e.reason,
                "cannot connect; serving anyway: {}", connect::HINT);
        }
    }
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
fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colour codes only for a person at a terminal, not in files or journald.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // The event's fields at the top; the request span's (request_id, method, path,
        // user, region, rule) under `span`.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_text_unless_json_is_asked_for_on_any_command() {
        let dev = Cli::try_parse_from(["hmis", "dev"]).unwrap();
        assert_eq!(dev.log_format, LogFormat::Text);
        let serve = Cli::try_parse_from(["hmis", "serve", "--log-format", "json"]).unwrap();
        assert_eq!(serve.log_format, LogFormat::Json);
        let before = Cli::try_parse_from(["hmis", "--log-format", "json", "migrate"]).unwrap();
        assert_eq!(before.log_format, LogFormat::Json);
        assert!(Cli::try_parse_from(["hmis", "--log-format", "yaml", "serve"]).is_err());
    }
}
