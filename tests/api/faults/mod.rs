//! The fault suite: what hmis does when a piece under it dies abruptly. A region's
//! PostgreSQL killed with SIGKILL under load, hmis itself killed with SIGKILL in a burst of
//! idempotent creates, a connection terminated inside a write's transaction, the central
//! database killed. Each test builds what it kills (a cluster or a process of its own), so
//! it hurts no other test, and bounds every wait, so a hang fails the test instead of
//! stalling the run.

mod central_down;
mod connection_dropped;
mod hmis_killed;
mod region_killed;

use hmis::pgcluster::Cluster;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest any answer may take while something is down: the shard and central
/// timeouts in the tests are 1.5 s, so this leaves room for a loaded machine, not a hang.
pub const ANSWER_BOUND: Duration = Duration::from_secs(5);

/// A client that gives up after twice the bound, so that a hang is reported as one (status
/// 0 in the tallies) instead of blocking the test.
pub fn bounded(client: reqwest::ClientBuilder) -> reqwest::Client {
    client.timeout(ANSWER_BOUND * 2).build().unwrap()
}

/// A bearer client like `helpers::bearer_client`, bounded.
pub fn bounded_bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    bounded(reqwest::Client::builder().default_headers(headers))
}

/// Kills a cluster the way a crash or the OOM killer would: SIGKILL to the postmaster and
/// to every one of its processes, no shutdown of any kind (unlike `Cluster::kill`, which is
/// `pg_ctl -m immediate` and lets backends say goodbye). Returns once none is left.
pub fn sigkill_cluster(cluster: &Cluster) {
    let dir = cluster.data_dir().canonicalize().unwrap();
    let postmaster = cluster.postmaster_pid().expect("the cluster runs");
    let _ = kill(Pid::from_raw(postmaster as i32), Signal::SIGKILL);
    for pid in postgres_in(&dir) {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !postgres_in(&dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "postgres in {dir:?} survived SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live (not zombie) postgres processes whose working directory is `dir`: every process of
/// a server runs in its data directory.
fn postgres_in(dir: &Path) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        if matches!(comm.trim(), "postgres" | "postmaster") && !zombie && cwd == dir {
            found.push(pid);
        }
    }
    found
}

/// Restarts a killed cluster (crash recovery included) off the async threads.
pub async fn restart(mut cluster: Cluster) -> Cluster {
    tokio::task::spawn_blocking(move || {
        cluster.start().expect("the killed cluster starts again");
        cluster
    })
    .await
    .unwrap()
}

/// What a problem+json answer must never show a client: the driver's or the server's
/// own words, which name hosts, roles, SQL and internals.
pub fn assert_no_internal_text(body: &str) {
    let lower = body.to_lowercase();
    for word in [
        "sqlstate",
        "postgres",
        "terminat",
        "administrator",
        "connection",
        "error connecting",
        "db error",
        "tokio",
        "sqlx",
        "127.0.0.1",
        "insert",
        "select",
    ] {
        assert!(!lower.contains(word), "internal text {word:?} in: {body}");
    }
}

/// Asserts an answer is problem+json with `status` and returns its body.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    let got = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    assert_eq!(kind, "application/problem+json", "{text}");
    assert_no_internal_text(&text);
    serde_json::from_str(&text).unwrap()
}

/// Patients in a shard without the audit line of their creation: a create writes both in
/// one transaction, so this is 0 whatever was killed when.
pub async fn patients_without_audit(shard: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM patients p WHERE NOT EXISTS (
             SELECT 1 FROM audit_log a WHERE a.object_id = p.id AND a.action = 'create')",
    )
    .fetch_one(shard)
    .await
    .unwrap()
}
