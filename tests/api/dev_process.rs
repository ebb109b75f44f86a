//! `hmis dev` as a newcomer runs it, as real processes: a second one on the same data
//! directory is refused before it touches anything, a taken port starts nothing, Ctrl-C or
//! SIGTERM at any moment leaves no PostgreSQL running, and only what a run started is
//! stopped by it. The tests take turns (each run starts five clusters on two shared cores)
//! and reuse one initialized data directory wherever initdb is not the point.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Held by each test for its whole run; holds the initialized data dir once there is one.
static TURN: tokio::sync::Mutex<Option<PathBuf>> = tokio::sync::Mutex::const_new(None);

const BANNER: &str = "hmis dev is up";
/// A new data directory takes seven seconds on an idle machine; a loaded one is slower.
const STARTUP: Duration = Duration::from_secs(120);

/// A running `hmis dev`, its output collected. Dropping it interrupts it and waits.
struct Dev {
    child: Child,
    out: Arc<Mutex<String>>,
    port: u16,
}

impl Dev {
    fn start(data_dir: &Path, port: u16) -> Dev {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    fn banner_printed(&self) -> bool {
        self.output().contains(BANNER)
    }

    /// Waits for the banner, then for `/readyz` to answer 200.
    async fn wait_ready(&mut self) {
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

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid() as i32), signal).unwrap();
    }

    /// Waits (at most a minute) for the process to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        self.wait_exit_within(Duration::from_secs(60))
    }

    fn wait_exit_within(&mut self, limit: Duration) -> ExitStatus {
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
    fn interrupt(&mut self) -> Option<i32> {
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
fn run_to_end(data_dir: &Path, port: u16) -> (ExitStatus, String, Duration) {
    let began = Instant::now();
    let mut dev = Dev::start(data_dir, port);
    let status = dev.wait_exit_within(Duration::from_secs(10));
    (status, dev.output(), began.elapsed())
}

async fn readyz(port: u16) -> Option<u16> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/readyz");
    Some(client.get(url).send().await.ok()?.status().as_u16())
}

fn free_port() -> u16 {
    hmis::pgcluster::free_port().unwrap()
}

/// A new directory the `postgres` user can enter (as root, PostgreSQL runs as `postgres`);
/// memory-backed where possible, like the other tests' clusters.
fn scratch(name: &str) -> PathBuf {
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
fn postgres_under(dir: &Path) -> Vec<u32> {
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

/// A data directory that went through a whole `hmis dev` run (initdb, migrations, demo
/// data) and is stopped; made by the first test that needs it, under the turn it holds.
async fn initialized(turn: &mut Option<PathBuf>) -> PathBuf {
    if let Some(dir) = turn {
        return dir.clone();
    }
    let dir = scratch("ready").join("data");
    let mut dev = Dev::start(&dir, free_port());
    dev.wait_ready().await;
    assert_eq!(dev.interrupt(), Some(130), "{}", dev.output());
    assert_eq!(postgres_under(&dir), Vec::<u32>::new(), "{}", dev.output());
    *turn = Some(dir.clone());
    dir
}

/// A stopped copy of the initialized data directory, for a second run side by side.
fn copy_of(dir: &Path) -> PathBuf {
    let copy = scratch("copy").join("data");
    let status = Command::new("cp")
        .arg("-a")
        .arg(dir)
        .arg(&copy)
        .status()
        .unwrap();
    // The copied lock file is nobody's lock: the run on the copy takes it over.
    assert!(status.success());
    copy
}

#[tokio::test]
async fn a_second_dev_on_the_same_data_dir_is_refused_at_once_and_the_first_keeps_serving() {
    let mut turn = TURN.lock().await;
    let dir = initialized(&mut turn).await;
    let mut first = Dev::start(&dir, free_port());
    first.wait_ready().await;

    // On another port, and on the first one's (the lock is checked before the port).
    for port in [free_port(), first.port] {
        let (status, msg, took) = run_to_end(&dir, port);
        assert!(!status.success(), "{msg}");
        assert!(took < Duration::from_secs(2), "took {took:?}: {msg}");
        assert!(msg.contains(&format!("PID {}", first.pid())), "{msg}");
        assert!(msg.contains(&format!("127.0.0.1:{}", first.port)), "{msg}");
    }

    assert_eq!(readyz(first.port).await, Some(200), "{}", first.output());
    assert_eq!(first.interrupt(), Some(130), "{}", first.output());
    assert_eq!(postgres_under(&dir), Vec::<u32>::new());
}

#[tokio::test]
async fn a_second_dev_on_another_data_dir_and_port_runs_side_by_side() {
    let mut turn = TURN.lock().await;
    let dir = initialized(&mut turn).await;
    let other = copy_of(&dir);
    let mut first = Dev::start(&dir, free_port());
    first.wait_ready().await;
    let mut second = Dev::start(&other, free_port());
    second.wait_ready().await;

    assert_eq!(readyz(first.port).await, Some(200), "{}", first.output());
    assert_eq!(readyz(second.port).await, Some(200), "{}", second.output());
    assert_eq!(second.interrupt(), Some(130), "{}", second.output());
    assert_eq!(readyz(first.port).await, Some(200), "{}", first.output());
    assert_eq!(first.interrupt(), Some(130), "{}", first.output());
    assert_eq!(postgres_under(&dir), Vec::<u32>::new());
    assert_eq!(postgres_under(&other), Vec::<u32>::new());
    std::fs::remove_dir_all(other.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_taken_port_is_named_with_a_hint_to_use_port_and_starts_no_cluster() {
    let _turn = TURN.lock().await;
    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = squatter.local_addr().unwrap().port();
    let dir = scratch("port").join("data");

    let (status, msg, took) = run_to_end(&dir, port);
    assert!(!status.success(), "{msg}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("--port"), "{msg}");
    assert!(!dir.join("central").exists(), "a cluster was set up: {msg}");
    assert_eq!(postgres_under(&dir), Vec::<u32>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_signal_at_any_moment_of_startup_stops_every_cluster_started_so_far() {
    let _turn = TURN.lock().await;
    let moments = [
        (500, Signal::SIGINT, 130),
        (2000, Signal::SIGINT, 130),
        (3000, Signal::SIGTERM, 143),
        (4000, Signal::SIGINT, 130),
    ];
    for (after_ms, signal, code) in moments {
        let dir = scratch("signal").join("data");
        let mut dev = Dev::start(&dir, free_port());
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let during_startup = !dev.banner_printed();
        dev.signal(signal);
        let status = dev.wait_exit();
        let context = format!("{signal} after {after_ms} ms (startup: {during_startup})");
        assert_eq!(status.code(), Some(code), "{context}:\n{}", dev.output());
        let left = postgres_under(&dir);
        assert_eq!(left, Vec::<u32>::new(), "{context}:\n{}", dev.output());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn ctrl_c_after_the_banner_stops_the_clusters_and_exits_130() {
    let mut turn = TURN.lock().await;
    let dir = initialized(&mut turn).await;
    let mut dev = Dev::start(&dir, free_port());
    dev.wait_ready().await;
    assert!(!postgres_under(&dir).is_empty());
    assert_eq!(dev.interrupt(), Some(130), "{}", dev.output());
    assert_eq!(postgres_under(&dir), Vec::<u32>::new(), "{}", dev.output());
}

#[tokio::test]
async fn a_lock_left_by_a_killed_dev_is_taken_over_and_the_clusters_it_left_stay_running() {
    let mut turn = TURN.lock().await;
    let dir = initialized(&mut turn).await;
    let mut killed = Dev::start(&dir, free_port());
    killed.wait_ready().await;
    killed.signal(Signal::SIGKILL);
    killed.wait_exit();
    let orphans = postgres_under(&dir);
    assert!(!orphans.is_empty());
    let _cleanup = StopServersOnDrop(dir.clone());

    let mut next = Dev::start(&dir, free_port());
    next.wait_ready().await;
    assert!(
        next.output().contains("reusing the PostgreSQL server"),
        "{}",
        next.output()
    );
    assert_eq!(next.interrupt(), Some(130), "{}", next.output());
    let msg = next.output();
    assert!(msg.contains("left running"), "{msg}");
    let still = postgres_under(&dir);
    assert!(orphans.iter().all(|pid| still.contains(pid)), "{msg}");
}

/// Stops the servers a test left running on purpose, also when it fails.
struct StopServersOnDrop(PathBuf);

impl Drop for StopServersOnDrop {
    fn drop(&mut self) {
        stop_servers_under(&self.0);
    }
}

/// Fast shutdown of every postmaster under `dir` (left running on purpose), and waits.
fn stop_servers_under(dir: &Path) {
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
