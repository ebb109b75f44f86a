//! Creating a data directory: initdb, copying a template, and vetting one that is reused.

use std::path::Path;

use super::conf::{self, LOG_FILE, USER_FILE};
use super::exec::{self, RunAs};
use super::procs::{self, Postmaster};
use super::{ClusterOptions, PgBinaries, PgError, io_at};

/// initdb into the (empty, prepared) `opts.data_dir`, with the superuser and its password.
pub(crate) fn initdb(
    bins: &PgBinaries,
    opts: &ClusterOptions,
    who: Option<RunAs>,
) -> Result<(), PgError> {
    let dir = &opts.data_dir;
    // Beside the data dir, since initdb wants that empty; unique so parallel inits don't clash.
    let pwfile = dir.with_file_name(format!(
        ".{}.pwfile-{}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    conf::write_owned(&pwfile, &format!("{}\n", opts.password), who)?;
    let mut cmd = exec::command(&bins.tool("initdb"), who);
    let mut pw_arg = std::ffi::OsString::from("--pwfile=");
    pw_arg.push(&pwfile);
    cmd.arg("-D")
        .arg(dir)
        .arg("-U")
        .arg(&opts.superuser)
        .arg(pw_arg);
    cmd.args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
    // C.UTF-8: byte-order collation whatever the host's locale, yet Unicode-aware upper/lower.
    cmd.args(["--encoding=UTF8", "--locale=C.UTF-8"]);
    if !opts.durable {
        cmd.arg("--no-sync");
    }
    let result = exec::run(cmd, "initdb");
    // Removed whatever happened: it holds the password in clear.
    let _ = std::fs::remove_file(&pwfile);
    result?;
    conf::write_owned(&dir.join(USER_FILE), &format!("{}\n", opts.superuser), who)
}

/// Refuses a reused data dir that could never work: another major version or superuser.
pub(crate) fn check_reusable(bins: &PgBinaries, opts: &ClusterOptions) -> Result<(), PgError> {
    let dir = &opts.data_dir;
    let version_file = dir.join("PG_VERSION");
    let version = std::fs::read_to_string(&version_file).map_err(io_at(&version_file))?;
    if version.trim() != bins.major() {
        return Err(PgError::Other(format!(
            "{} was created by PostgreSQL {}, but the binaries in {} are {}; remove the \
             directory to start afresh",
            dir.display(),
            version.trim(),
            bins.bin_dir.display(),
            bins.version
        )));
    }
    if let Ok(user) = std::fs::read_to_string(dir.join(USER_FILE))
        && user.trim() != opts.superuser
    {
        return Err(PgError::Other(format!(
            "{} was created with superuser {:?}, not {:?}",
            dir.display(),
            user.trim(),
            opts.superuser
        )));
    }
    Ok(())
}

/// Copies a stopped template data dir to `dst` (which must not exist) and hands it to `who`.
pub(crate) fn copy_template(
    template: &Path,
    dst: &Path,
    who: Option<RunAs>,
) -> Result<(), PgError> {
    if !template.join("PG_VERSION").is_file() {
        return Err(PgError::Other(format!(
            "template {} is not an initialised data directory",
            template.display()
        )));
    }
    if matches!(procs::postmaster(template), Postmaster::Alive(_)) {
        return Err(PgError::Other(format!(
            "template {} has a running server; stop it before cloning",
            template.display()
        )));
    }
    if dst.exists() {
        return Err(PgError::Other(format!(
            "clone target {} already exists",
            dst.display()
        )));
    }
    exec::prepare_data_dir(dst, who)?;
    // `cp -a` rather than a std walk: it keeps modes and copies the ~1000 files quickly.
    let mut cp = std::process::Command::new("cp");
    cp.arg("-a").arg(template.join(".")).arg(dst);
    exec::run(cp, "cp -a (cloning the template data dir)")?;
    // The clone gets its own port, log and lock file, not the template's.
    for leftover in ["postmaster.pid", conf::PORT_FILE, LOG_FILE] {
        let path = dst.join(leftover);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_at(&path)(e))?,
            _ => {}
        }
    }
    exec::give_tree(dst, who)
}
