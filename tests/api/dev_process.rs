//! `hmis dev` as a newcomer runs it, as real processes: a second one on the same data
//! directory is refused before it touches anything, a taken port starts nothing, Ctrl-C or
//! SIGTERM at any moment leaves no PostgreSQL running, and only what a run started is
//! stopped by it. The tests take turns (each run starts five clusters on two shared cores)
//! and reuse one initialized data directory wherever initdb is not the point.

mod harness;
mod readme;

use harness::{Dev, StopServersOnDrop, free_port, postgres_under, readyz, run_to_end, scratch};
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Held by each test for its whole run; holds the initialized data dir once there is one.
static TURN: tokio::sync::Mutex<Option<PathBuf>> = tokio::sync::Mutex::const_new(None);

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
