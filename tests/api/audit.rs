//! The audit trail: every create, read, search, update, delete and denied attempt on a
//! patient is on record in the patient's own region, none is lost under concurrent reads,
//! and nobody, the service included, can change or delete a line.

use crate::helpers::{patient, spawn_app};
use serde_json::{Value, json};

async fn trail(app: &crate::helpers::TestApp, client: &reqwest::Client, id: &str) -> (u16, Value) {
    let response = client
        .get(app.url(&format!("/api/v1/patients/{id}/audit?limit=500")))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn each_action_on_a_patient_and_each_denied_attempt_is_in_its_audit_trail() {
    let app = spawn_app().await;
    let nurse = app.user("a.nurse", "nurse", "quthing").await;
    let clerk = app.user("a.clerk", "records_clerk", "quthing").await;
    let stranger = app.user("a.maseru", "nurse", "maseru").await;
    let regional_admin = app.user("a.admin", "regional_admin", "quthing").await;
    let created: Value = nurse
        .post(app.url("/api/v1/patients"))
        .json(&patient("Quthing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let url = app.url(&format!("/api/v1/patients/{id}"));
    assert_eq!(nurse.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(
        nurse
            .get(app.url("/api/v1/patients?region=quthing"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let patched = nurse
        .patch(&url)
        .header("if-match", "\"1\"")
        .json(&json!({"village": "Ha Audit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(stranger.get(&url).send().await.unwrap().status(), 403);
    assert_eq!(clerk.delete(&url).send().await.unwrap().status(), 204);

    let (status, _) = trail(&app, &nurse, id).await;
    assert_eq!(status, 403, "nurses do not read audit trails");
    let mut seen = Vec::new();
    for _ in 0..50 {
        let (status, entries) = trail(&app, &regional_admin, id).await;
        assert_eq!(status, 200, "{entries}");
        seen = entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["actor"].as_str().unwrap(),
                    e["action"].as_str().unwrap(),
                    e["outcome"].as_str().unwrap()
                )
            })
            .collect();
        if seen.iter().filter(|s| s.contains("denied")).count() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    seen.reverse();
    assert_eq!(
        seen,
        [
            "a.nurse create ok",
            "a.nurse read ok",
            "a.nurse search ok",
            "a.nurse update ok",
            "a.maseru read denied",
            "a.clerk delete ok",
            "a.nurse read patient_audit denied",
        ]
    );
    let (_, entries) = trail(&app, &regional_admin, id).await;
    let first = &entries.as_array().unwrap().last().unwrap();
    assert_eq!(first["roles"], "nurse");
    assert!(first["request_id"].as_str().is_some_and(|r| r.len() > 10));
}

#[tokio::test]
async fn concurrent_reads_each_leave_exactly_one_audit_line() {
    let app = spawn_app().await;
    let nurse = app.user("c.nurse", "nurse", "maseru").await;
    let id = app.create_patient(&patient("Berea")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = app.url(&format!("/api/v1/patients/{id}"));
    let reads = (0..60).map(|_| {
        let request = nurse.get(&url);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(reads).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let pool = app.shard("maseru").await;
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_log WHERE object_id = $1::uuid AND actor = 'c.nurse' AND action = 'read'",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(count, 60);
}

#[tokio::test]
async fn audit_lines_cannot_be_changed_deleted_or_truncated_even_by_the_service() {
    let app = spawn_app().await;
    let id = app.create_patient(&patient("Mafeteng")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pool = app.shard("mafeteng").await;
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE object_id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
    let central = app.central().await;
    let e = sqlx::query("DELETE FROM login_audit")
        .execute(&central)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}
