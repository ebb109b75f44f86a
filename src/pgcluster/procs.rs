//! What runs from a data directory, judged from postmaster.pid and /proc.
//!
//! pg_ctl trusts any live pid in postmaster.pid. After a crash that pid may be a zombie our
//! container's init has not reaped yet, or (after a reboot) an unrelated process; postgres then
//! refuses to start and pg_ctl would signal the wrong process. /proc lets us tell these apart.

use std::path::Path;

use super::conf::{self, PidFile};

/// The state of the server of one data directory.
pub(crate) enum Postmaster {
    /// No postmaster.pid: cleanly stopped or never started.
    Absent,
    /// The pid is gone; postgres discards such a lock file itself (after checking that no
    /// process of the old server still uses its shared memory).
    Gone,
    /// The pid is a zombie or an unrelated process, which postgres would take for a live server.
    Stale,
    Alive(PidFile),
}

pub(crate) fn postmaster(data_dir: &Path) -> Postmaster {
    let Some(pf) = conf::read_pid_file(data_dir) else {
        return Postmaster::Absent;
    };
    let Ok(raw) = i32::try_from(pf.pid) else {
        return Postmaster::Gone;
    };
    // kill(pid, 0): EPERM still means the process exists (it belongs to another user).
    let signal = nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None);
    if signal == Err(nix::errno::Errno::ESRCH) {
        Postmaster::Gone
    } else if is_zombie(pf.pid) || is_foreign(pf.pid, data_dir) {
        Postmaster::Stale
    } else {
        Postmaster::Alive(pf)
    }
}

/// Live postgres processes working in `data_dir`: a crashed server's leftover children, which
/// may still hold its shared memory. Empty where /proc cannot be read.
pub(crate) fn processes_in(data_dir: &Path) -> Vec<u32> {
    let Ok(dir) = data_dir.canonicalize() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| is_postgres(*pid) && cwd(*pid).is_some_and(|cwd| cwd == dir))
        .collect()
}

/// The state letter in /proc/PID/stat is 'Z' for a process that died but was not reaped.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            Some(rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Whether a live pid is certainly not a postgres process of `data_dir`. Where /proc cannot
/// tell, the pid is trusted as pg_ctl does: discarding a live server's lock would be far worse.
fn is_foreign(pid: u32, data_dir: &Path) -> bool {
    if std::fs::metadata(format!("/proc/{pid}")).is_err() {
        return false;
    }
    if !is_postgres(pid) {
        return true;
    }
    // Every process of a server runs with its data directory as working directory.
    match (cwd(pid), data_dir.canonicalize()) {
        (Some(cwd), Ok(dir)) => cwd != dir,
        _ => false,
    }
}

/// /proc/PID/comm is readable by anyone and is not changed by postgres' process titles.
fn is_postgres(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| matches!(comm.trim(), "postgres" | "postmaster"))
}

fn cwd(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}
