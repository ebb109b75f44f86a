//! Running `hmis dev` as a child process, and finding the PostgreSQL servers it leaves.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BANNER: &str = "hmis dev is up";
/// A new data directory takes seven seconds on an idle machine; a loaded one is slower.
const STARTUP: Duration = Duration::from_secs(120);

/// A running `hmis dev`, its output collected. Dropping it interrupts it and waits.
pub struct Dev {
    child: Child,
    out: Arc<Mutex<String>>,
    pub port: u16,
}

impl Dev {
    pub fn start(data_dir: &Path, port: u16) -> Dev {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hmis"))
            .args([
                "dev",
                "--patients",
                "20",
                "--port",
                &port.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().unwrap(), &out);
        collect(child.stderr.take().unwrap(), &out);
        Dev { child, out, port }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    pub fn banner_printed(&self) -> bool {
        self.output().contains(BANNER)
    }

    /// Waits for the banner, then for `/readyz` to answer 200.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP;
        while !self.banner_printed() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "hmis dev exited ({status}) before its banner:\n{}",
                    self.output()
                );
            }
            assert!(Instant::now() < deadline, "no banner:\n{}", self.output());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        while readyz(self.port).await != Some(200) {
            assert!(Instant::now() < deadline, "never ready:\n{}", self.output());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid() as i32), signal).unwrap();
    }

    /// Waits (at most a minute) for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.wait_exit_within(Duration::from_secs(60))
    }

    pub fn wait_exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The readers finish once the pipes close; give them a moment.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, and the exit code it leads to (130, like a shell's Ctrl-C).
    pub fn interrupt(&mut self) -> Option<i32> {
        self.signal(Signal::SIGINT);
        self.wait_exit().code()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(Pid::from_raw(self.pid() as i32), Signal::SIGINT);
            let _ = self.child.wait();
        }
    }
}

fn collect(pipe: impl Read + Send + 'static, into: &Arc<Mutex<String>>) {
    let into = into.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
}

/// Runs `hmis dev` that is expected to give up at once; its status, output and duration.
pub fn run_to_end(data_dir: &Path, port: u16) -> (ExitStatus, String, Duration) {
    let began = Instant::now();
    let mut dev = Dev::start(data_dir, port);
    let status = dev.wait_exit_within(Duration::from_secs(10));
    (status, dev.output(), began.elapsed())
}

pub async fn readyz(port: u16) -> Option<u16> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/readyz");
    Some(client.get(url).send().await.ok()?.status().as_u16())
}

pub fn free_port() -> u16 {
    hmis::pgcluster::free_port().unwrap()
}

/// A new directory the `postgres` user can enter (as root, PostgreSQL runs as `postgres`);
/// memory-backed where possible, like the other tests' clusters.
pub fn scratch(name: &str) -> PathBuf {
    let root = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    static CLEANED: std::sync::Once = std::sync::Once::new();
    CLEANED.call_once(|| remove_earlier_runs(&root));
    let dir = root.join(format!(
        "hmis-dev-test-{}-{name}-{}",
        std::process::id(),
        crate::helpers::pg::unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Scratch directories of earlier test runs whose process is gone.
fn remove_earlier_runs(root: &Path) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("hmis-dev-test-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// PIDs of postgres processes working in a directory under `dir` (by working directory,
/// which is the data directory for every process of a server, or by command line).
pub fn postgres_under(dir: &Path) -> Vec<u32> {
    let dir = dir.canonicalize().unwrap();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !matches!(comm.trim(), "postgres" | "postmaster") {
            continue;
        }
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let dir_text = dir.to_string_lossy();
        if cwd.starts_with(&dir) || String::from_utf8_lossy(&cmdline).contains(&*dir_text) {
            found.push(pid);
        }
    }
    found
}

/// Stops the servers a test left running on purpose, also when it fails.
pub struct StopServersOnDrop(pub PathBuf);

impl Drop for StopServersOnDrop {
    fn drop(&mut self) {
        stop_servers_under(&self.0);
    }
}

/// Fast shutdown of every postmaster under `dir` (left running on purpose), and waits.
pub fn stop_servers_under(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let pid_file = entry.path().join("postmaster.pid");
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            continue;
        };
        let pid: i32 = text.lines().next().unwrap().trim().parse().unwrap();
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !postgres_under(dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "servers under {dir:?} did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
