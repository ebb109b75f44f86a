//! A database connection dropped in the middle of a write's transaction: the test takes a
//! table lock in SQL that the write's last statement needs, waits until hmis's backend is
//! stuck on it with the earlier rows written, and terminates that backend. The client must
//! get a clean 503, nothing of the write may remain, and the next request must succeed.

use super::{ANSWER_BOUND, problem};
use crate::helpers::{TestApp, patient, spawn_app_with};
use serde_json::{Value, json};
use sqlx::Connection;
use std::time::{Duration, Instant};

/// hmis with room for a loaded machine: the retry's new connections are not refused for
/// taking longer than the tests' usual 1.5 s.
async fn roomy_app() -> TestApp {
    spawn_app_with(|s| s.file.server.shard_timeout_ms = 3000).await
}

/// Holds `LOCK TABLE table IN SHARE MODE` (inserts wait on it) on a connection of its own.
async fn lock_table(app: &TestApp, region: &str, table: &str) -> sqlx::PgConnection {
    let url = app.settings.region(region).unwrap().database_url.expose();
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query(&format!("LOCK TABLE {table} IN SHARE MODE"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Waits until a backend waits on a lock running a statement that starts with `prefix`,
/// then terminates it, as a network cut or a DBA's `pg_terminate_backend` would.
async fn terminate_waiting(shard: &sqlx::PgPool, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE $1 || '%'",
        )
        .bind(prefix)
        .fetch_optional(shard)
        .await
        .unwrap();
        if let Some(pid) = pid {
            let done: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(shard)
                .await
                .unwrap();
            assert!(done, "terminated hmis's backend {pid}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no write ever waited on {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn count(shard: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(shard).await.unwrap()
}

#[tokio::test]
async fn a_create_whose_connection_is_terminated_before_its_audit_line_leaves_no_patient_and_its_retry_succeeds()
 {
    let app = roomy_app().await;
    let shard = app.shard("maseru").await;
    let mut body = patient("Maseru");
    body["national_id"] = json!("DROP-1");
    let send = || {
        app.client
            .post(app.url("/api/v1/patients"))
            .header("idempotency-key", "dropped-create")
            .json(&body)
            .send()
    };
    // The key and the patient are inserted; the audit line waits on the lock.
    let mut lock = lock_table(&app, "maseru", "audit_log").await;
    let started = Instant::now();
    let (response, ()) = tokio::join!(send(), terminate_waiting(&shard, "INSERT INTO audit_log"));
    let took = started.elapsed();
    let problem = problem(response.unwrap(), 503).await;
    assert_eq!(problem["region"], "maseru", "{problem}");
    assert!(took < ANSWER_BOUND, "answered after {took:?}");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    let national = "SELECT count(*) FROM patients WHERE national_id = 'DROP-1'";
    assert_eq!(count(&shard, national).await, 0, "no patient");
    let keys = "SELECT count(*) FROM idempotency_keys";
    assert_eq!(count(&shard, keys).await, 0, "no claimed key");
    assert_eq!(super::patients_without_audit(&shard).await, 0);

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert!(
        retry.headers().get("idempotent-replayed").is_none(),
        "nothing committed, so nothing to replay"
    );
    assert_eq!(count(&shard, national).await, 1);
    assert_eq!(count(&shard, keys).await, 1);
    assert_eq!(super::patients_without_audit(&shard).await, 0);
    shard.close().await;
}

/// A set with a critical heart rate (an alert row) and a weight and height (a derived BMI).
fn vitals() -> Value {
    json!({"vitals": [
        {"code": "8867-4", "value": 150, "unit": "/min"},
        {"code": "29463-7", "value": 70, "unit": "kg"},
        {"code": "8302-2", "value": 170, "unit": "cm"},
    ]})
}

#[tokio::test]
async fn a_vitals_set_whose_connection_is_terminated_before_its_alert_leaves_no_observation_and_its_retry_records_it_whole()
 {
    let app = roomy_app().await;
    let mut adult = patient("Quthing");
    adult["birth_date"] = json!("1980-06-15");
    let id = app.create_patient(&adult).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shard = app.shard("quthing").await;
    let url = app.url(&format!("/api/v1/patients/{id}/observations"));
    let send = || {
        app.client
            .post(&url)
            .header("idempotency-key", "dropped-vitals")
            .json(&vitals())
            .send()
    };
    // The observations are inserted; the alert of the critical one waits on the lock.
    let mut lock = lock_table(&app, "quthing", "alerts").await;
    let started = Instant::now();
    let (response, ()) = tokio::join!(send(), terminate_waiting(&shard, "INSERT INTO alerts"));
    let took = started.elapsed();
    let problem = problem(response.unwrap(), 503).await;
    assert_eq!(problem["region"], "quthing", "{problem}");
    assert!(took < ANSWER_BOUND, "answered after {took:?}");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    let observations = "SELECT count(*) FROM observations";
    assert_eq!(count(&shard, observations).await, 0, "no half-written set");
    assert_eq!(count(&shard, "SELECT count(*) FROM alerts").await, 0);
    let lines = "SELECT count(*) FROM audit_log WHERE action = 'create observation'";
    assert_eq!(
        count(&shard, lines).await,
        0,
        "no audit line of a set never stored"
    );

    let retry = send().await.unwrap();
    let status = retry.status();
    let set: Value = retry.json().await.unwrap();
    assert_eq!(status, 201, "{set}");
    // Heart rate, weight, height and the derived BMI.
    assert_eq!(set["observations"].as_array().unwrap().len(), 4, "{set}");
    assert_eq!(set["alerts"].as_array().unwrap().len(), 1, "{set}");
    assert_eq!(count(&shard, observations).await, 4);
    assert_eq!(count(&shard, "SELECT count(*) FROM alerts").await, 1);
    assert_eq!(count(&shard, lines).await, 1);
    shard.close().await;
}
