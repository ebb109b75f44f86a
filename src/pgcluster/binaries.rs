//! Locating the machine's PostgreSQL server binaries (initdb, pg_ctl, postgres).
//!
//! Debian/Ubuntu keep them in `/usr/lib/postgresql/<major>/bin`, off PATH, so PATH is only the
//! first guess (it lets a user pick a version by putting it first) and that directory the second.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::PgError;

/// Where Debian-style packages install each major version's server binaries.
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";

/// A directory holding initdb, pg_ctl and postgres of one PostgreSQL version.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    /// The real directory (symlinks resolved): pg_ctl finds `postgres` next to its own real path.
    pub bin_dir: PathBuf,
    /// As reported by `pg_ctl --version`, e.g. "15.18".
    pub version: String,
}

impl PgBinaries {
    /// PATH first (a directory with both initdb and pg_ctl), then the highest major version
    /// under /usr/lib/postgresql/*/bin.
    pub fn find() -> Result<Self, PgError> {
        let from_path = std::env::var_os("PATH").and_then(|p| find_in_path(&p));
        match from_path.or_else(|| highest_versioned(Path::new(VERSIONED_ROOT))) {
            Some(bin_dir) => Self::at(bin_dir),
            None => Err(PgError::NotInstalled(not_installed_message())),
        }
    }

    /// Binaries in a known directory; fails if the version cannot be read from pg_ctl.
    fn at(bin_dir: PathBuf) -> Result<Self, PgError> {
        let pg_ctl = bin_dir.join("pg_ctl");
        // `--version` is answered before pg_ctl's refuse-to-run-as-root check, so no user switch.
        let out = Command::new(&pg_ctl).arg("--version").output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = parse_version(&text).ok_or_else(|| {
            PgError::Other(format!(
                "cannot read the PostgreSQL version from `{} --version`: {text:?}",
                pg_ctl.display()
            ))
        })?;
        Ok(PgBinaries { bin_dir, version })
    }

    /// The major version ("15" for "15.18"), which is what data directories record in PG_VERSION.
    pub(crate) fn major(&self) -> &str {
        self.version.split('.').next().unwrap_or(&self.version)
    }

    pub(crate) fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// What to tell someone whose machine lacks PostgreSQL; kept separate so it can be tested.
pub(crate) fn not_installed_message() -> String {
    format!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: looked in PATH and \
         {VERSIONED_ROOT}/*/bin. Install the `postgresql` package (apt-get install postgresql)."
    )
}

/// "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15.18".
pub(crate) fn parse_version(text: &str) -> Option<String> {
    let rest = text.split_once("(PostgreSQL)")?.1;
    let version = rest.split_whitespace().next()?;
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| version.to_string())
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A directory that has every tool we run.
fn is_complete(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|tool| is_executable(&dir.join(tool)))
}

/// The first PATH entry with initdb and pg_ctl, resolved to the directory the links point into
/// (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin).
fn find_in_path(path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).find_map(|dir| {
        if !is_executable(&dir.join("initdb")) || !is_executable(&dir.join("pg_ctl")) {
            return None;
        }
        let real = std::fs::canonicalize(dir.join("initdb")).ok()?;
        let real_dir = real.parent()?.to_path_buf();
        is_complete(&real_dir).then_some(real_dir)
    })
}

/// `root/<version>/bin` with the highest version number that has all the tools.
fn highest_versioned(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let key = version_key(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            is_complete(&bin).then_some((key, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// "9.6" -> [9, 6], "15" -> [15]; numeric so that 10 sorts above 9.6.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}
