//! Files hmis keeps in a data directory, and the server's own postmaster.pid.
//!
//! Our settings go to `hmis.conf`, rewritten on every init and pulled in by one include line at
//! the end of postgresql.conf, so re-initialising a reused directory never piles up duplicates.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::exec::{RunAs, give};
use super::{ClusterOptions, PgError, io_at};

/// Our settings, included last so they win over initdb's defaults.
pub(crate) const CONF_FILE: &str = "hmis.conf";
/// The port this directory's server uses, kept so `hmis dev` has stable URLs across restarts.
pub(crate) const PORT_FILE: &str = "hmis-port";
/// The superuser initdb created; reuse with a different name would never authenticate.
pub(crate) const USER_FILE: &str = "hmis-superuser";
/// Server output; pg_ctl appends to it (`-l`), and start() quotes its tail on failure.
pub(crate) const LOG_FILE: &str = "server.log";
const INCLUDE_LINE: &str = "include_if_exists = 'hmis.conf'\n";

/// The text of hmis.conf for these options.
pub(crate) fn render(opts: &ClusterOptions, port: u16) -> Result<String, PgError> {
    let durable = if opts.durable { "on" } else { "off" };
    let mut settings: Vec<(&str, String)> = vec![
        ("listen_addresses", "127.0.0.1".into()),
        ("port", port.to_string()),
        // TCP only: no socket directory whose permissions could differ between root and postgres.
        ("unix_socket_directories", String::new()),
        ("logging_collector", "off".into()),
        ("log_destination", "stderr".into()),
        // Written explicitly either way: a clone of a test template may become durable.
        ("fsync", durable.into()),
        ("synchronous_commit", durable.into()),
        ("full_page_writes", durable.into()),
    ];
    for (key, value) in &opts.extra_conf {
        settings.push((key.as_str(), value.clone()));
    }
    let mut text = String::from("# Written by hmis on every init; edits here are overwritten.\n");
    for (key, value) in settings {
        let valid = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !valid || value.contains('\n') {
            return Err(PgError::Other(format!(
                "invalid postgresql.conf setting {key:?} = {value:?}"
            )));
        }
        // Quoting every value is always valid in postgresql.conf and keeps escaping to one rule.
        text.push_str(&format!("{key} = '{}'\n", value.replace('\'', "''")));
    }
    Ok(text)
}

/// Writes hmis.conf and the stored port, and makes sure postgresql.conf includes hmis.conf.
pub(crate) fn write(
    data_dir: &Path,
    opts: &ClusterOptions,
    port: u16,
    who: Option<RunAs>,
) -> Result<(), PgError> {
    write_owned(&data_dir.join(CONF_FILE), &render(opts, port)?, who)?;
    write_owned(&data_dir.join(PORT_FILE), &format!("{port}\n"), who)?;
    let main = data_dir.join("postgresql.conf");
    let current = std::fs::read_to_string(&main).map_err(io_at(&main))?;
    if !current
        .lines()
        .any(|line| line.trim() == INCLUDE_LINE.trim())
    {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&main)
            .map_err(io_at(&main))?;
        let sep = if current.ends_with('\n') { "" } else { "\n" };
        write!(file, "{sep}{INCLUDE_LINE}").map_err(io_at(&main))?;
    }
    Ok(())
}

/// Replaces a file's content, owned by `who` and private to it like the rest of the data dir.
pub(crate) fn write_owned(path: &Path, text: &str, who: Option<RunAs>) -> Result<(), PgError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_at(path))?;
    file.write_all(text.as_bytes()).map_err(io_at(path))?;
    give(path, who)
}

pub(crate) fn stored_port(data_dir: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(data_dir.join(PORT_FILE)).ok()?;
    text.trim().parse().ok().filter(|p| *p != 0)
}

/// What a server's postmaster.pid says: line 1 is the pid, line 4 the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PidFile {
    pub pid: u32,
    pub port: Option<u16>,
}

pub(crate) fn read_pid_file(data_dir: &Path) -> Option<PidFile> {
    parse_pid_file(&std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?)
}

pub(crate) fn parse_pid_file(text: &str) -> Option<PidFile> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok().filter(|p| *p > 0)?;
    let port = lines.get(3).and_then(|l| l.trim().parse().ok());
    Some(PidFile { pid, port })
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for URL userinfo and paths.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether a server log says the port was taken, so start() should retry on another one.
pub(crate) fn is_port_clash(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("could not create any TCP/IP sockets")
}

/// Whether a crashed server's children still hold its shared memory; they exit within moments.
pub(crate) fn is_shared_memory_busy(log: &str) -> bool {
    log.contains("pre-existing shared memory block")
}
