//! A detached process that stops test clusters once the test binary is gone.
//!
//! pg_ctl starts servers in their own session, so they survive a test binary that panics,
//! aborts or is interrupted; without this they would pile up across test runs.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{PgBinaries, PgError, exec, io_at};

/// `$1` is the pid to watch, `$2` pg_ctl, the rest data dirs. `kill -0` fails with EPERM when we
/// run as `postgres` and the parent is root's, hence the /proc fallback.
const SCRIPT: &str = r#"p=$1; ctl=$2; shift 2
while kill -0 "$p" 2>/dev/null || [ -d "/proc/$p" ]; do sleep 0.5; done
for d in "$@"; do "$ctl" -D "$d" -m immediate -w -t 30 stop; done"#;

/// Spawns `sh -c` that polls `parent_pid` every 0.5 s and, once it is gone, stops every data
/// dir with `pg_ctl -m immediate stop` (as the postgres user when root).
pub fn spawn_watchdog(
    bins: &PgBinaries,
    parent_pid: u32,
    data_dirs: &[PathBuf],
) -> Result<(), PgError> {
    let who = exec::run_as()?;
    let mut cmd = exec::command(Path::new("/bin/sh"), who);
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("hmis-pg-watchdog")
        .arg(parent_pid.to_string())
        .arg(bins.tool("pg_ctl"));
    for dir in data_dirs {
        // The script runs in `/`, so relative paths would point elsewhere.
        cmd.arg(std::path::absolute(dir).map_err(io_at(dir))?);
    }
    // Holding the test's stdout/stderr pipes open would make `cargo test` wait for us forever.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // Own process group: a Ctrl-C aimed at the test run must not take the watchdog down with it.
    cmd.process_group(0);
    // Not waited for: it outlives us by design and is reaped by init once we are gone.
    let child = cmd.spawn()?;
    tracing::debug!(pid = child.id(), parent_pid, "spawned PostgreSQL watchdog");
    Ok(())
}
