//! One PostgreSQL cluster: a data directory and the server pg_ctl runs from it.
//!
//! Data directories are reused: init() only runs initdb when PG_VERSION is missing, and start()
//! adopts a server that is still running from an earlier process (a killed `hmis dev`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::conf::{self, LOG_FILE, PidFile};
use super::exec::{self, RunAs};
use super::procs::{self, Postmaster};
use super::{PgBinaries, PgError, Start, free_port, io_at, port_is_free, setup};

/// Attempts start() makes when the port is taken meanwhile or a crashed server's children linger.
const START_ATTEMPTS: usize = 10;
/// How long start() waits for a crashed server's children to exit before giving up.
const LEFTOVER_WAIT: Duration = Duration::from_secs(10);

/// What a cluster should look like; see `Cluster::init`.
#[derive(Clone)]
pub struct ClusterOptions {
    pub data_dir: PathBuf,
    /// Created by initdb, e.g. "hmis".
    pub superuser: String,
    /// Given to initdb through a password file (removed afterwards); TCP logins use scram-sha-256.
    pub password: String,
    /// false: fsync, synchronous_commit and full_page_writes off (tests); true for dev data.
    pub durable: bool,
    /// None: reuse the port stored in the data dir if it is free, else pick a free one.
    pub port: Option<u16>,
    /// Extra postgresql.conf settings, e.g. ("max_connections", "200").
    pub extra_conf: Vec<(String, String)>,
}

// By hand so that the password never lands in logs.
impl fmt::Debug for ClusterOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("data_dir", &self.data_dir)
            .field("superuser", &self.superuser)
            .field("password", &"<redacted>")
            .field("durable", &self.durable)
            .field("port", &self.port)
            .field("extra_conf", &self.extra_conf)
            .finish()
    }
}

/// An initialised data directory, started or not. Dropping it leaves the server as it is.
#[derive(Debug)]
pub struct Cluster {
    bins: PgBinaries,
    /// `data_dir` made absolute, since the tools run with `/` as their working directory.
    opts: ClusterOptions,
    port: u16,
    who: Option<RunAs>,
}

impl Cluster {
    /// initdb if `data_dir/PG_VERSION` is missing, else reuse; then (re)writes our settings.
    /// Does not start the server.
    pub fn init(bins: &PgBinaries, mut opts: ClusterOptions) -> Result<Cluster, PgError> {
        if opts.superuser.is_empty() || opts.password.is_empty() || opts.password.contains('\n') {
            return Err(PgError::Other(
                "superuser and password must be non-empty, and the password one line".into(),
            ));
        }
        opts.data_dir = std::path::absolute(&opts.data_dir).map_err(io_at(&opts.data_dir))?;
        let who = exec::run_as()?;
        if opts.data_dir.join("PG_VERSION").is_file() {
            exec::check_reachable(&opts.data_dir, who)?;
            setup::check_reusable(bins, &opts)?;
        } else {
            exec::prepare_data_dir(&opts.data_dir, who)?;
            setup::initdb(bins, &opts, who)?;
        }
        let mut cluster = Cluster {
            bins: bins.clone(),
            opts,
            port: 0,
            who,
        };
        cluster.port = cluster.choose_port()?;
        conf::write(&cluster.opts.data_dir, &cluster.opts, cluster.port, who)?;
        Ok(cluster)
    }

    /// Copies an initialised, stopped template data dir to `opts.data_dir` (much faster than
    /// initdb), hands it to the postgres user, then continues as init(). The clone keeps the
    /// template's roles, so `opts.superuser`/`password` must be the template's.
    pub fn clone_from(
        bins: &PgBinaries,
        template_dir: &Path,
        mut opts: ClusterOptions,
    ) -> Result<Cluster, PgError> {
        opts.data_dir = std::path::absolute(&opts.data_dir).map_err(io_at(&opts.data_dir))?;
        setup::copy_template(template_dir, &opts.data_dir, exec::run_as()?)?;
        Self::init(bins, opts)
    }

    /// `pg_ctl -w start`. Adopts a server already running from this data dir (and says so, so
    /// that the caller stops only what it started); retries on a fresh port if ours was taken
    /// meanwhile (unless the port was fixed by the caller).
    pub fn start(&mut self) -> Result<Start, PgError> {
        match self.postmaster() {
            Postmaster::Alive(pf) => {
                if let Some(port) = pf.port.filter(|p| *p != self.port) {
                    tracing::warn!(
                        port,
                        configured = self.port,
                        "running server uses another port"
                    );
                    self.port = port;
                }
                tracing::info!(data_dir = %self.data_dir().display(), pid = pf.pid, "reusing running PostgreSQL");
                return Ok(Start::Adopted { pid: pf.pid });
            }
            Postmaster::Stale => self.clear_stale_lock()?,
            Postmaster::Gone | Postmaster::Absent => {}
        }
        if self.opts.port.is_none() && !port_is_free(self.port) {
            self.move_to(free_port()?)?;
        }
        let log = self.data_dir().join(LOG_FILE);
        for attempt in 1..=START_ATTEMPTS {
            let offset = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
            let mut cmd = self.pg_ctl();
            cmd.arg("-l").arg(&log).args(["-w", "-t", "30", "start"]);
            let Err(err) = exec::run(cmd, "pg_ctl start") else {
                tracing::info!(data_dir = %self.data_dir().display(), port = self.port, "started PostgreSQL");
                return Ok(Start::Started);
            };
            let new_log = read_from(&log, offset);
            let retry = attempt < START_ATTEMPTS;
            if retry && conf::is_port_clash(&new_log) && self.opts.port.is_none() {
                self.move_to(free_port()?)?;
            } else if retry && conf::is_shared_memory_busy(&new_log) {
                std::thread::sleep(Duration::from_millis(500));
            } else {
                return Err(with_log(err, &new_log));
            }
        }
        unreachable!("the last attempt returns")
    }

    /// `pg_ctl -m fast stop`: clients are disconnected, data is checkpointed. Ok if not running.
    pub fn stop(&self) -> Result<(), PgError> {
        self.stop_with("fast")
    }

    /// `pg_ctl -m immediate stop`: like a crash, for tests that take a region down.
    pub fn kill(&self) -> Result<(), PgError> {
        self.stop_with("immediate")
    }

    /// Whether a server runs from this data dir (its postmaster.pid names a live postgres of
    /// ours). Checked directly rather than with `pg_ctl status`, which trusts any live pid.
    pub fn is_running(&self) -> bool {
        matches!(self.postmaster(), Postmaster::Alive(_))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.opts.data_dir
    }

    pub fn postmaster_pid(&self) -> Option<u32> {
        match self.postmaster() {
            Postmaster::Alive(pf) => Some(pf.pid),
            _ => None,
        }
    }

    /// `postgresql://USER:PASSWORD@127.0.0.1:PORT/DB`, percent-encoded.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://{}:{}@127.0.0.1:{}/{}",
            conf::percent_encode(&self.opts.superuser),
            conf::percent_encode(&self.opts.password),
            self.port,
            conf::percent_encode(database)
        )
    }

    fn pg_ctl(&self) -> std::process::Command {
        let mut cmd = exec::command(&self.bins.tool("pg_ctl"), self.who);
        cmd.arg("-D").arg(self.data_dir());
        cmd
    }

    fn stop_with(&self, mode: &str) -> Result<(), PgError> {
        // Also keeps pg_ctl from signalling an unrelated process named by a stale pid file.
        if !self.is_running() {
            return Ok(());
        }
        let mut cmd = self.pg_ctl();
        cmd.args(["-m", mode, "-w", "-t", "60", "stop"]);
        match exec::run(cmd, &format!("pg_ctl stop -m {mode}")) {
            Err(_) if !self.is_running() => Ok(()), // it went down anyway (e.g. a concurrent stop)
            other => other.map(drop),
        }
    }

    /// A fixed port, else the running server's, else the stored one if free, else a new one.
    fn choose_port(&self) -> Result<u16, PgError> {
        if let Some(port) = self.opts.port {
            return Ok(port);
        }
        if let Postmaster::Alive(PidFile {
            port: Some(port), ..
        }) = self.postmaster()
        {
            return Ok(port);
        }
        match conf::stored_port(self.data_dir()) {
            Some(port) if port_is_free(port) => Ok(port),
            _ => Ok(free_port()?),
        }
    }

    fn move_to(&mut self, port: u16) -> Result<(), PgError> {
        tracing::info!(from = self.port, to = port, "PostgreSQL port taken; moving");
        self.port = port;
        conf::write(self.data_dir(), &self.opts, port, self.who)
    }

    fn postmaster(&self) -> Postmaster {
        procs::postmaster(self.data_dir())
    }

    /// Removes a postmaster.pid whose pid is a zombie or an unrelated process (postgres would
    /// refuse to start over it), once no child of the crashed server uses its shared memory.
    fn clear_stale_lock(&self) -> Result<(), PgError> {
        let deadline = Instant::now() + LEFTOVER_WAIT;
        loop {
            let left = procs::processes_in(self.data_dir());
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                return Err(PgError::Other(format!(
                    "processes {left:?} of a crashed server still run in {}; stop them first",
                    self.data_dir().display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let path = self.data_dir().join("postmaster.pid");
        tracing::warn!(path = %path.display(), "removing the lock file of a crashed server");
        std::fs::remove_file(&path).map_err(io_at(&path))
    }
}

/// The part of the log written since `offset`, so errors show this attempt, not old runs.
fn read_from(log: &Path, offset: u64) -> String {
    let bytes = std::fs::read(log).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

fn with_log(err: PgError, log: &str) -> PgError {
    match err {
        PgError::Command {
            what,
            status,
            output,
        } if !log.trim().is_empty() => PgError::Command {
            what,
            status,
            output: exec::tail(&format!("{output}\n--- server.log ---\n{log}"), 40),
        },
        other => other,
    }
}
