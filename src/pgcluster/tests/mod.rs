//! Tests for `pgcluster`: pure helpers here, real PostgreSQL servers in `live`.
//!
//! The live tests need the machine's PostgreSQL (installed here); each works in its own
//! scratch directory under the system temp dir, which is stopped and removed even on panic.

mod live;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::binaries::{not_installed_message, parse_version};
use super::conf::{self, PidFile};
use super::{ClusterOptions, PgBinaries, exec};

static NEXT_SCRATCH: AtomicU32 = AtomicU32::new(0);

/// A directory for one test; on drop, servers under it are killed and it is removed.
pub(super) struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        let n = NEXT_SCRATCH.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hmis-pgcluster-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        // The postgres user must be able to walk through to the data dirs inside.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir }
    }

    /// Options for a throwaway cluster at `dir/name`.
    pub fn opts(&self, name: &str) -> ClusterOptions {
        ClusterOptions {
            data_dir: self.dir.join(name),
            superuser: "hmis".into(),
            // Characters that must be percent-encoded in the URL.
            password: "s3cret p@ss/w:rd%".into(),
            durable: false,
            port: None,
            extra_conf: vec![("max_connections".into(), "20".into())],
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let pg_ctl = bins().tool("pg_ctl");
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if entry.path().join("postmaster.pid").exists() {
                let mut cmd = exec::command(&pg_ctl, exec::run_as().unwrap());
                cmd.arg("-D")
                    .arg(entry.path())
                    .args(["-m", "immediate", "stop"]);
                let _ = cmd.output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) fn bins() -> PgBinaries {
    PgBinaries::find().expect("PostgreSQL is installed on this machine")
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub(super) fn listens(port: u16) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
}

/// Runs one query returning text over a fresh sqlx connection.
pub(super) fn query_text(url: &str, sql: &str) -> Result<String, sqlx::Error> {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let value: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
        conn.close().await?;
        Ok(value)
    })
}

#[test]
fn the_not_installed_message_names_the_package_and_where_we_looked() {
    let msg = not_installed_message();
    assert!(msg.contains("`postgresql` package"), "{msg}");
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains("PATH"), "{msg}");
    assert!(msg.contains("/usr/lib/postgresql/*/bin"), "{msg}");
}

#[test]
fn the_version_is_read_from_pg_ctl_output() {
    let text = "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n";
    assert_eq!(parse_version(text).as_deref(), Some("15.18"));
    assert_eq!(
        parse_version("pg_ctl (PostgreSQL) 17beta1\n").as_deref(),
        Some("17beta1")
    );
    assert_eq!(parse_version("something else"), None);
}

#[test]
fn find_locates_the_real_binary_directory_of_the_installed_version() {
    let bins = bins();
    assert_eq!(bins.bin_dir, Path::new("/usr/lib/postgresql/15/bin"));
    assert!(bins.version.starts_with("15."), "{}", bins.version);
    assert_eq!(bins.major(), "15");
}

#[test]
fn passwords_are_percent_encoded_for_urls() {
    assert_eq!(
        conf::percent_encode("s3cret p@ss/w:rd%"),
        "s3cret%20p%40ss%2Fw%3Ard%25"
    );
    assert_eq!(conf::percent_encode("plain-._~"), "plain-._~");
    assert_eq!(conf::percent_encode("é"), "%C3%A9");
}

#[test]
fn the_pid_file_gives_the_pid_and_the_port() {
    let text = "4242\n/tmp/x/data\n1700000000\n54321\n\n127.0.0.1\n  1234  5678\nready   \n";
    let want = PidFile {
        pid: 4242,
        port: Some(54321),
    };
    assert_eq!(conf::parse_pid_file(text), Some(want));
    assert_eq!(conf::parse_pid_file("garbage"), None);
}

#[test]
fn a_bind_failure_in_the_server_log_counts_as_a_port_clash() {
    let log = "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\n\
               WARNING:  could not create listen socket for \"127.0.0.1\"\n\
               FATAL:  could not create any TCP/IP sockets\n";
    assert!(conf::is_port_clash(log));
    assert!(!conf::is_port_clash(
        "FATAL:  data directory has wrong ownership"
    ));
}

#[test]
fn settings_are_quoted_and_bad_keys_are_refused() {
    let scratch_free = ClusterOptions {
        data_dir: "/nowhere".into(),
        superuser: "hmis".into(),
        password: "pw".into(),
        durable: true,
        port: None,
        extra_conf: vec![("application_name".into(), "it's".into())],
    };
    let text = conf::render(&scratch_free, 5555).unwrap();
    assert!(text.contains("port = '5555'\n"), "{text}");
    assert!(text.contains("fsync = 'on'\n"), "{text}");
    assert!(text.contains("unix_socket_directories = ''\n"), "{text}");
    assert!(text.contains("application_name = 'it''s'\n"), "{text}");
    let mut bad = scratch_free;
    bad.extra_conf = vec![("port = 1\nfsync".into(), "off".into())];
    assert!(conf::render(&bad, 5555).is_err());
}

#[test]
fn debug_output_does_not_show_the_password() {
    let scratch = Scratch::new();
    let shown = format!("{:?}", scratch.opts("data"));
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}
