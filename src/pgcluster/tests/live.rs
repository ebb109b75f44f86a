//! Tests that run real PostgreSQL servers from the machine's binaries.
//!
//! Timings go to stderr (`cargo test -- --nocapture`) to keep an eye on test-harness cost.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Scratch, bins, listens, query_text};
use crate::pgcluster::{Cluster, PgError, free_port, spawn_watchdog};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    eprintln!("pgcluster timing: {what}: {:?}", start.elapsed());
    value
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn init_then_start_serves_the_superuser_over_tcp_with_its_password() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut cluster = timed("init (initdb --no-sync)", || {
        Cluster::init(&bins, scratch.opts("data")).unwrap()
    });
    assert!(!cluster.is_running());
    timed("start", || cluster.start().unwrap());
    assert!(cluster.is_running());
    assert!(listens(cluster.port()));
    assert!(cluster.postmaster_pid().is_some());

    let url = cluster.url("postgres");
    assert!(url.starts_with("postgresql://hmis:s3cret%20p%40ss%2Fw%3Ard%25@127.0.0.1:"));
    assert_eq!(
        query_text(&url, "SELECT current_user::text").unwrap(),
        "hmis"
    );
    assert_eq!(query_text(&url, "SHOW fsync").unwrap(), "off");
    assert_eq!(query_text(&url, "SHOW max_connections").unwrap(), "20");
    let wrong = url.replace("s3cret", "wrong");
    assert!(
        query_text(&wrong, "SELECT 'x'").is_err(),
        "host auth must check the password"
    );

    timed("stop", || cluster.stop().unwrap());
    assert!(!cluster.is_running());
    assert!(!listens(cluster.port()));
}

#[test]
fn reusing_a_data_dir_keeps_its_port_and_refuses_another_superuser() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut first = Cluster::init(&bins, scratch.opts("data")).unwrap();
    first.start().unwrap();
    first.stop().unwrap();

    let mut again = timed("init (reuse)", || {
        Cluster::init(&bins, scratch.opts("data")).unwrap()
    });
    assert_eq!(again.port(), first.port());
    again.start().unwrap();
    assert_eq!(again.port(), first.port());
    assert!(listens(again.port()));
    again.stop().unwrap();

    let mut other_user = scratch.opts("data");
    other_user.superuser = "someone_else".into();
    let err = Cluster::init(&bins, other_user).unwrap_err();
    assert!(err.to_string().contains("someone_else"), "{err}");
}

#[test]
fn a_server_left_running_by_an_earlier_process_is_adopted_by_start() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut first = Cluster::init(&bins, scratch.opts("data")).unwrap();
    first.start().unwrap();
    let pid = first.postmaster_pid();
    drop(first); // like `hmis dev` being killed: the server keeps running

    let mut second = Cluster::init(&bins, scratch.opts("data")).unwrap();
    assert!(second.is_running());
    second.start().unwrap();
    assert_eq!(second.postmaster_pid(), pid);
    assert_eq!(
        query_text(&second.url("postgres"), "SELECT 'up'").unwrap(),
        "up"
    );
    second.stop().unwrap();
}

#[test]
fn clone_from_gives_a_second_independent_running_cluster() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut template = Cluster::init(&bins, scratch.opts("template")).unwrap();
    let mut clone = timed("clone_from", || {
        Cluster::clone_from(&bins, template.data_dir(), scratch.opts("clone")).unwrap()
    });
    template.start().unwrap();
    clone.start().unwrap();
    assert_ne!(template.port(), clone.port());
    assert_ne!(template.postmaster_pid(), clone.postmaster_pid());

    let in_clone = clone.url("postgres");
    query_text(
        &in_clone,
        "SELECT 'made' FROM (SELECT 1) s, LATERAL (SELECT 1) t",
    )
    .unwrap();
    let count = "SELECT count(*)::text FROM pg_database WHERE datname = 'only_in_clone'";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&in_clone).await.unwrap();
        sqlx::query("CREATE DATABASE only_in_clone")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    assert_eq!(query_text(&in_clone, count).unwrap(), "1");
    assert_eq!(query_text(&template.url("postgres"), count).unwrap(), "0");

    let err = Cluster::clone_from(&bins, template.data_dir(), scratch.opts("clone2")).unwrap_err();
    assert!(err.to_string().contains("running server"), "{err}");
    template.stop().unwrap();
    timed("stop", || clone.stop().unwrap());
}

#[test]
fn kill_then_start_again_brings_the_server_back() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut cluster = Cluster::init(&bins, scratch.opts("data")).unwrap();
    cluster.start().unwrap();
    let before = cluster.postmaster_pid();
    timed("kill", || cluster.kill().unwrap());
    assert!(!cluster.is_running());
    assert!(!listens(cluster.port()));
    timed("start after kill (crash recovery)", || {
        cluster.start().unwrap()
    });
    assert_ne!(cluster.postmaster_pid(), before);
    assert_eq!(
        query_text(&cluster.url("postgres"), "SELECT 'back'").unwrap(),
        "back"
    );
    cluster.stop().unwrap();
}

#[test]
fn start_succeeds_over_a_stale_pid_file_left_by_a_crash() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut cluster = Cluster::init(&bins, scratch.opts("data")).unwrap();
    cluster.start().unwrap();

    // A real crash: the postmaster dies without removing postmaster.pid.
    let pid = cluster.postmaster_pid().unwrap();
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    wait_until("the postmaster to die", Duration::from_secs(5), || {
        !cluster.is_running()
    });
    assert!(cluster.data_dir().join("postmaster.pid").exists());
    timed("start after SIGKILL of the postmaster", || {
        cluster.start().unwrap()
    });
    assert!(listens(cluster.port()));
    cluster.kill().unwrap();

    // After a reboot the pid may belong to an unrelated process (pid 1 here).
    let pid_file = cluster.data_dir().join("postmaster.pid");
    let fake = format!(
        "1\n{}\n1700000000\n{}\n\n127.0.0.1\n",
        cluster.data_dir().display(),
        cluster.port()
    );
    std::fs::write(&pid_file, fake).unwrap();
    assert!(!cluster.is_running());
    cluster.stop().unwrap(); // must not signal pid 1
    timed("start over a foreign pid", || cluster.start().unwrap());
    assert!(listens(cluster.port()));
    cluster.stop().unwrap();
}

#[test]
fn start_moves_to_a_free_port_when_the_stored_one_is_taken() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut cluster = Cluster::init(&bins, scratch.opts("data")).unwrap();
    let stored = cluster.port();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", stored)).unwrap();
    cluster.start().unwrap();
    assert_ne!(cluster.port(), stored);
    assert!(listens(cluster.port()));
    cluster.stop().unwrap();
    drop(squatter);

    // The new port is the stored one from now on.
    let again = Cluster::init(&bins, scratch.opts("data")).unwrap();
    assert_eq!(again.port(), cluster.port());
}

#[test]
fn a_fixed_port_that_is_taken_fails_with_the_server_log() {
    let scratch = Scratch::new();
    let bins = bins();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = squatter.local_addr().unwrap().port();
    let mut opts = scratch.opts("data");
    opts.port = Some(port);
    let mut cluster = Cluster::init(&bins, opts).unwrap();
    match cluster.start() {
        Err(PgError::Command { output, .. }) => {
            assert!(output.contains("Address already in use"), "{output}")
        }
        other => panic!("expected a pg_ctl failure, got {other:?}"),
    }
    assert!(!cluster.is_running());
}

#[test]
fn stop_and_kill_are_harmless_when_nothing_runs() {
    let scratch = Scratch::new();
    let cluster = Cluster::init(&bins(), scratch.opts("data")).unwrap();
    cluster.stop().unwrap();
    cluster.kill().unwrap();
    assert_eq!(cluster.postmaster_pid(), None);
}

#[test]
fn the_watchdog_stops_clusters_once_the_watched_process_exits() {
    let scratch = Scratch::new();
    let bins = bins();
    let mut a = Cluster::init(&bins, scratch.opts("a")).unwrap();
    let mut b = Cluster::clone_from(&bins, a.data_dir(), scratch.opts("b")).unwrap();
    a.start().unwrap();
    b.start().unwrap();

    let mut parent = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let dirs = [a.data_dir().to_path_buf(), b.data_dir().to_path_buf()];
    spawn_watchdog(&bins, parent.id(), &dirs).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        a.is_running() && b.is_running(),
        "stopped while the parent lives"
    );

    parent.kill().unwrap();
    parent.wait().unwrap();
    let limit = Duration::from_secs(10);
    timed("watchdog reaction", || {
        wait_until("the watchdog", limit, || !a.is_running() && !b.is_running())
    });
    assert!(!listens(a.port()) && !listens(b.port()));
    let _ = free_port().unwrap();
}
