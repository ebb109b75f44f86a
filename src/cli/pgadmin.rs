//! `hmis pgadmin export`: the servers.json that pgAdmin loads (`setup.py load-servers`, or
//! the container's `PGADMIN_SERVER_JSON_FILE`), built from the configured database URLs so
//! that regional admins never type a host or a port. Never a password: each server names a
//! passfile. Reads the configuration only; no database is asked.

use crate::config::{DatabaseUrl, Settings};
use crate::dbroles::pgadmin::{Address, Region, servers_json};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The passfile servers name by default: in pgAdmin's server mode (its container) a path
/// is read inside the user's storage directory, so this is `<storage>/<user>/pgpass`.
pub const DEFAULT_PASSFILE: &str = "/pgpass";

#[derive(Debug, Subcommand)]
pub enum PgadminCommand {
    /// Write pgAdmin's servers.json: every region's admin and read-only role, grouped by
    /// region, and the central database's planner role; a passfile, never a password.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to FILE (replaced whole, or left untouched on error) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The passfile every server names (libpq format: host:port:database:user:password).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PASSFILE)]
    passfile: String,
}

pub fn run(cmd: PgadminCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let PgadminCommand::Export(args) = cmd;
    if args.passfile.trim().is_empty() {
        bail!("--passfile: must name a file");
    }
    let text = export(settings, &args.passfile)?;
    match &args.out {
        None => std::io::stdout().write_all(text.as_bytes())?,
        Some(path) => write_atomically(path, &text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The servers.json text of `settings`, ending in a newline.
pub fn export(settings: &Settings, passfile: &str) -> anyhow::Result<String> {
    let regions = settings
        .regions
        .iter()
        .map(|r| {
            Ok(Region {
                name: r.name.clone(),
                display_name: r.display_name.clone(),
                address: address(&r.database_url)
                    .with_context(|| format!("region {}: database_url", r.name))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let central = address(&settings.file.central.url).context("central.url")?;
    let doc = servers_json(&regions, &central, passfile).map_err(anyhow::Error::msg)?;
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// Host, port, database and sslmode of `url`, as the driver reads it (a socket directory
/// given with `?host=/path` is the host pgAdmin needs too).
fn address(url: &DatabaseUrl) -> anyhow::Result<Address> {
    let opts: PgConnectOptions = url
        .expose()
        .parse()
        .map_err(|e: sqlx::Error| anyhow::anyhow!("not a valid URL ({url}): {e}"))?;
    let host = match opts.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => opts.get_host().to_owned(),
    };
    let ssl_mode = match opts.get_ssl_mode() {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    };
    Ok(Address {
        host,
        port: opts.get_port(),
        database: opts.get_database().unwrap_or("postgres").to_owned(),
        ssl_mode: ssl_mode.to_owned(),
    })
}

/// Writes a temporary file beside `path` and renames it over `path`, so that a pgAdmin
/// starting meanwhile never reads half a file, and a failure leaves the old one.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("--out {}: is a directory", path.display());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let cannot = |e: std::io::Error| anyhow::anyhow!("--out {}: cannot write: {e}", path.display());
    // Readable by all (no secret in it): pgAdmin's container reads it as its own user.
    std::fs::write(&tmp, text).map_err(cannot)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, FileSettings};
    use std::sync::Arc;

    /// The shipped regions with hmis.example.toml's defaults (what a fresh checkout has).
    fn shipped() -> Settings {
        let regions = config::region_files(Path::new("regions")).unwrap();
        let rules = config::load_rules(Path::new("routing-rules"), &regions).unwrap();
        Settings {
            file: FileSettings::default(),
            regions,
            rules: Arc::new(rules),
        }
    }

    #[test]
    fn the_committed_example_is_the_export_of_the_shipped_regions() {
        let example = std::fs::read_to_string("pgadmin/servers.example.json").unwrap();
        // Regenerate: hmis --config hmis.example.toml pgadmin export --out pgadmin/servers.example.json
        assert_eq!(export(&shipped(), DEFAULT_PASSFILE).unwrap(), example);
    }

    #[test]
    fn an_address_comes_from_the_url_with_its_sslmode_and_socket_directory() {
        let url =
            DatabaseUrl::new("postgresql://hmis:pw@db.example:6000/hmis_x?sslmode=verify-full");
        let a = address(&url).unwrap();
        assert_eq!((a.host.as_str(), a.port), ("db.example", 6000));
        assert_eq!(
            (a.database.as_str(), a.ssl_mode.as_str()),
            ("hmis_x", "verify-full")
        );
        let socket =
            DatabaseUrl::new("postgresql://hmis@localhost/hmis_y?host=/var/run/postgresql");
        assert_eq!(address(&socket).unwrap().host, "/var/run/postgresql");
    }

    #[test]
    fn an_unwritable_out_is_refused_naming_it_and_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("hmis-pgadmin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("no/such/dir/servers.json");
        let err = write_atomically(&missing, "{}").unwrap_err().to_string();
        assert!(
            err.contains("--out") && err.contains("no/such/dir"),
            "{err}"
        );
        let err = write_atomically(&dir, "{}").unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let file = dir.join("servers.json");
        write_atomically(&file, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
