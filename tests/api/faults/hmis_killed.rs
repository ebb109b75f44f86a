//! `hmis serve` killed with SIGKILL in the middle of a burst of creates sent with
//! `Idempotency-Key`, restarted on the same databases, and every create that got no answer
//! retried with the same key and body, as a phone on a bad link would. Counted in the
//! shard by each request's own national ID: nothing lost, nothing twice.

use super::{ANSWER_BOUND, bounded, bounded_bearer};
use crate::helpers::{PASSWORD, database_envs, patient, project_databases};
use futures_util::StreamExt;
use hmis::config::Settings;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CREATES: usize = 200;
const AT_ONCE: usize = 16;
const KILL_AFTER: usize = 50;

/// A running `hmis serve`, killed when dropped (also when the test fails).
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `hmis serve` on `port`, waited for until `/readyz` says every region is up.
async fn serve(settings: &Settings, port: u16) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hmis"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(database_envs(settings))
        .env("RUST_LOG", "error")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let probe = bounded(reqwest::Client::builder());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = probe
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return Serve(child);
        }
        assert!(child.try_wait().unwrap().is_none(), "hmis serve exited");
        assert!(Instant::now() < deadline, "hmis serve never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one create got: no answer at all (`None`), or its status, ID and replay header.
type Outcome = Option<(u16, Value, bool)>;

async fn create(client: &reqwest::Client, base: &str, i: usize, body: &Value) -> Outcome {
    let response = client
        .post(format!("{base}/api/v1/patients"))
        .header("idempotency-key", format!("burst-{i}"))
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let json = response.json().await.ok()?;
    Some((status, json, replayed))
}

/// Patients in the shard with each request's national ID.
async fn copies(shard: &sqlx::PgPool, national_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM patients WHERE national_id = $1")
        .bind(national_id)
        .fetch_one(shard)
        .await
        .unwrap()
}

#[tokio::test]
async fn hmis_killed_with_sigkill_in_a_burst_of_idempotent_creates_loses_none_and_doubles_none_when_the_client_retries()
 {
    let settings = project_databases().await;
    let central = sqlx::PgPool::connect(settings.file.central.url.expose())
        .await
        .unwrap();
    hmis::auth::users::create(&central, "admin", PASSWORD, "Admin")
        .await
        .unwrap();
    hmis::authz::store::grant(&central, true, "admin", "system_admin", "*")
        .await
        .unwrap();
    central.close().await;
    let port = hmis::pgcluster::free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let first = serve(&settings, port).await;
    let pid = first.0.id();
    let login = bounded(reqwest::Client::builder())
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let login: Value = login.json().await.unwrap();
    let client = bounded_bearer(login["token"].as_str().unwrap());
    let bodies: Vec<Value> = (0..CREATES)
        .map(|i| {
            let mut body = patient("Berea");
            body["national_id"] = serde_json::json!(format!("FK-{i}"));
            body
        })
        .collect();

    let maseru = settings.region("maseru").unwrap().database_url.expose();
    // Named, so that the wait below for the killed hmis's backends can tell ours apart.
    let options: sqlx::postgres::PgConnectOptions = maseru.parse().unwrap();
    let shard = sqlx::PgPool::connect_with(options.application_name("faults"))
        .await
        .unwrap();
    let acked = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (acked, shard) = (acked.clone(), shard.clone());
        tokio::spawn(async move {
            while acked.load(Ordering::SeqCst) < KILL_AFTER {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // Best at a moment when a create has committed but its answer has not arrived
            // (the case a replay exists for): more rows than answers. Not waited for long.
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                let answers = acked.load(Ordering::SeqCst) as i64;
                let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
                    .fetch_one(&shard)
                    .await
                    .unwrap();
                if rows > answers {
                    break;
                }
            }
            kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        })
    };
    let outcomes: Vec<(usize, Outcome)> = futures_util::stream::iter(0..CREATES)
        .map(|i| {
            let (client, base, body, acked) = (&client, &base, &bodies[i], &acked);
            async move {
                let outcome = create(client, base, i, body).await;
                if outcome
                    .as_ref()
                    .is_some_and(|(status, _, _)| *status == 201)
                {
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                (i, outcome)
            }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    killer.await.unwrap();
    drop(first);

    let (mut answered, mut unanswered, mut busy) = (Vec::new(), Vec::new(), 0);
    for (i, outcome) in outcomes {
        match outcome {
            // On a loaded machine a create may wait too long for a connection: a 503 says
            // "retry", and the client does, with the same key, as for no answer.
            Some((503, _, _)) => {
                busy += 1;
                unanswered.push(i);
            }
            Some((status, json, replayed)) => {
                assert_eq!(status, 201, "create {i} before the kill: {json}");
                assert!(!replayed, "a first attempt is no replay");
                answered.push((i, json["id"].as_str().unwrap().to_owned()));
            }
            None => unanswered.push(i),
        }
    }
    assert!(answered.len() >= KILL_AFTER, "{} answered", answered.len());
    assert!(!unanswered.is_empty(), "the kill came after the burst");

    // The killed process's transactions are settled once its backends are gone: only then
    // does the shard say for certain which unanswered creates committed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name <> 'faults'
               AND backend_type = 'client backend'",
        )
        .fetch_one(&shard)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the killed hmis's backends stayed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut committed_unanswered = Vec::new();
    for &i in &unanswered {
        let n = copies(&shard, &format!("FK-{i}")).await;
        assert!(n <= 1, "create {i}: {n} copies before any retry");
        if n == 1 {
            committed_unanswered.push(i);
        }
    }

    let second = serve(&settings, port).await;
    let mut replays = 0;
    let mut slowest = Duration::ZERO;
    for &i in &unanswered {
        let started = Instant::now();
        let mut outcome = create(&client, &base, i, &bodies[i]).await;
        for _ in 0..5 {
            if outcome
                .as_ref()
                .is_some_and(|(status, _, _)| *status != 503)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            outcome = create(&client, &base, i, &bodies[i]).await;
        }
        slowest = slowest.max(started.elapsed());
        let (status, json, replayed) = outcome.unwrap_or_else(|| panic!("retry {i}: no answer"));
        assert_eq!(status, 201, "retry {i}: {json}");
        let had_committed = committed_unanswered.contains(&i);
        assert_eq!(
            replayed, had_committed,
            "retry {i}: Idempotent-Replayed exactly when the first attempt had committed"
        );
        replays += usize::from(replayed);
    }
    // A retry of an acknowledged create answers the same patient.
    for (i, id) in answered.iter().take(5) {
        let (status, json, replayed) = create(&client, &base, *i, &bodies[*i]).await.unwrap();
        assert_eq!((status, replayed), (201, true), "replay of {i}: {json}");
        assert_eq!(json["id"], id.as_str(), "replay of {i}");
    }
    for i in 0..CREATES {
        let n = copies(&shard, &format!("FK-{i}")).await;
        assert_eq!(n, 1, "create {i} exists exactly once");
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
        .fetch_one(&shard)
        .await
        .unwrap();
    assert_eq!(total, CREATES as i64);
    assert_eq!(super::patients_without_audit(&shard).await, 0);
    assert!(slowest < ANSWER_BOUND * 2, "a retry took {slowest:?}");
    shard.close().await;
    drop(second);
    eprintln!(
        "faults::hmis_killed: {} acknowledged before the SIGKILL, {} unanswered and retried \
         ({busy} of them answered 503 before the kill; {replays} had committed and were \
         replayed); {CREATES} patients, each exactly once",
        answered.len(),
        unanswered.len(),
    );
}
