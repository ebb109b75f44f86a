//! Local PostgreSQL clusters run from the machine's own PostgreSQL binaries.
//!
//! Two users: `hmis dev` keeps durable clusters under `.hmis/dev/` that survive restarts with
//! stable ports, and the integration-test harness makes throwaway clusters (fsync off, cloned
//! from a template, stopped by a watchdog when the test binary dies).
//!
//! Everything here is blocking `std::process`/`std::fs`; async callers use `spawn_blocking`.
//! As root, PostgreSQL's tools refuse to run, so they run as the `postgres` system user and the
//! files they touch are chowned to it (see `exec`).

mod binaries;
mod cluster;
mod conf;
mod exec;
mod procs;
mod setup;
mod watchdog;

#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, TcpListener};

pub use binaries::PgBinaries;
pub use cluster::{Cluster, ClusterOptions};
pub use watchdog::spawn_watchdog;

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// No usable initdb/pg_ctl; the message says what to install and where we looked.
    #[error("{0}")]
    NotInstalled(String),
    /// A PostgreSQL tool exited unsuccessfully; `output` is the tail of its stderr and the server log.
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// What `Cluster::start` did: callers that clean up stop only the servers they started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// This call ran `pg_ctl start`.
    Started,
    /// A server was already running from the data directory (e.g. left by a killed process).
    Adopted { pid: u32 },
}

/// A TCP port on 127.0.0.1 that nobody listens on right now.
///
/// The kernel picks it, so it never collides with clusters that are already listening; a race
/// with another process grabbing it before PostgreSQL binds is handled by `Cluster::start`.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether we run with effective uid 0, in which case PostgreSQL runs as the `postgres` user.
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether 127.0.0.1:`port` can be bound now (a listener on 0.0.0.0 or 127.0.0.1 makes it fail).
pub(crate) fn port_is_free(port: u16) -> bool {
    port != 0 && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Wraps an I/O error with the path it concerns, since a bare "Permission denied" is useless here.
pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PgError + '_ {
    move |e| {
        PgError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    }
}
