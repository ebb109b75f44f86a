//! Running PostgreSQL's tools as the right OS user, and giving that user the files it needs.
//!
//! initdb, pg_ctl and postgres refuse to run as root, so when we are root they run as the
//! `postgres` system user; data directories (and parent directories we create) belong to it,
//! and every directory above a data directory must let it through.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{PgError, io_at};

/// The identity PostgreSQL's tools run as when we are root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// `Some(postgres)` when root, `None` (stay who we are) otherwise.
pub(crate) fn run_as() -> Result<Option<RunAs>, PgError> {
    if !super::running_as_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(RunAs {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })),
        Ok(None) => Err(PgError::Other(
            "running as root, but there is no `postgres` system user to run PostgreSQL as \
             (it refuses to run as root); install the `postgresql` package (apt-get install \
             postgresql), which creates it"
                .into(),
        )),
        Err(e) => Err(PgError::Other(format!(
            "looking up the `postgres` user: {e}"
        ))),
    }
}

/// A command for a PostgreSQL tool, run as `who`, detached from our stdin and environment quirks.
pub(crate) fn command(program: &Path, who: Option<RunAs>) -> Command {
    let mut cmd = Command::new(program);
    // Our cwd may be unreadable for `postgres` (e.g. /root), which initdb and postgres trip over.
    cmd.current_dir("/");
    cmd.stdin(Stdio::null());
    // A process group of its own: a Ctrl-C in the terminal goes to hmis alone, which lets the
    // running step finish and then stops what it started. A pg_ctl interrupted halfway would
    // leave a server starting up (it runs in its own session) that nobody knows to stop.
    cmd.process_group(0);
    // Fixed English messages: start() recognises port clashes by the server log's wording.
    cmd.env("LC_MESSAGES", "C").env_remove("LC_ALL");
    // A developer's shell settings would otherwise redirect pg_ctl or the server.
    for var in [
        "PGDATA",
        "PGPORT",
        "PGHOST",
        "PGUSER",
        "PGOPTIONS",
        "PGCTLTIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    if let Some(who) = who {
        // std drops supplementary groups (setgroups(0)) before setuid when starting as root.
        cmd.uid(who.uid).gid(who.gid);
    }
    cmd
}

/// Runs to completion; a non-zero exit becomes `PgError::Command` with the tail of the output.
pub(crate) fn run(mut cmd: Command, what: &str) -> Result<Output, PgError> {
    let out = cmd
        .output()
        .map_err(|e| PgError::Other(format!("{what}: cannot run {:?}: {e}", cmd.get_program())))?;
    if out.status.success() {
        return Ok(out);
    }
    Err(PgError::Command {
        what: what.to_string(),
        status: out.status.to_string(),
        output: tail(&combined(&out), 40),
    })
}

/// stderr then stdout, since tools print their diagnosis on stderr.
pub(crate) fn combined(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stdout);
    }
    text
}

/// The last `lines` lines, so errors stay readable when a log is long.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Hands a path to `who` (no-op when we are not root); symlinks themselves, not their targets.
pub(crate) fn give(path: &Path, who: Option<RunAs>) -> Result<(), PgError> {
    match who {
        Some(who) => {
            std::os::unix::fs::lchown(path, Some(who.uid), Some(who.gid)).map_err(io_at(path))
        }
        None => Ok(()),
    }
}

/// Hands a whole tree to `who`, e.g. a data directory copied by root.
pub(crate) fn give_tree(root: &Path, who: Option<RunAs>) -> Result<(), PgError> {
    if who.is_none() {
        return Ok(());
    }
    give(root, who)?;
    if std::fs::symlink_metadata(root)
        .map_err(io_at(root))?
        .is_dir()
    {
        for entry in std::fs::read_dir(root).map_err(io_at(root))? {
            give_tree(&entry.map_err(io_at(root))?.path(), who)?;
        }
    }
    Ok(())
}

/// Creates `data_dir` (0700, owned by `who`) and any missing parents (0755, owned by `who`),
/// then checks that `who` can reach it through the parents that already existed.
pub(crate) fn prepare_data_dir(data_dir: &Path, who: Option<RunAs>) -> Result<(), PgError> {
    let missing: Vec<PathBuf> = data_dir
        .ancestors()
        .skip(1)
        .take_while(|dir| !dir.exists())
        .map(Path::to_path_buf)
        .collect();
    for dir in missing.iter().rev() {
        make_dir(dir, 0o755, who)?;
    }
    if !data_dir.exists() {
        make_dir(data_dir, 0o700, who)?;
    }
    check_reachable(data_dir, who)
}

fn make_dir(dir: &Path, mode: u32, who: Option<RunAs>) -> Result<(), PgError> {
    match std::fs::create_dir(dir) {
        // Another test or process may be creating the same shared parent concurrently.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        other => other.map_err(io_at(dir))?,
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(io_at(dir))?;
    give(dir, who)
}

/// Fails early with a clear message if `postgres` cannot traverse some parent directory
/// (e.g. a project under /root, mode 0700); initdb's own error would only say "Permission denied".
pub(crate) fn check_reachable(data_dir: &Path, who: Option<RunAs>) -> Result<(), PgError> {
    let Some(who) = who else { return Ok(()) };
    for dir in data_dir.ancestors().skip(1) {
        let Ok(meta) = dir.metadata() else { continue };
        let mode = meta.mode();
        let through = if meta.uid() == who.uid {
            mode & 0o100 != 0
        } else if meta.gid() == who.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !through {
            return Err(PgError::Other(format!(
                "the `postgres` user cannot enter {} (mode {:o}), so it cannot reach the data \
                 directory {}; put the data directory elsewhere or `chmod o+x` that directory",
                dir.display(),
                mode & 0o7777,
                data_dir.display()
            )));
        }
    }
    Ok(())
}
