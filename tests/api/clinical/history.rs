//! Corrections never overwrite: amendments and entered-in-error keep every version.

use super::{new_patient, of, record};
use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

async fn amend(
    app: &TestApp,
    patient: &str,
    obs: &str,
    if_match: &str,
    body: Value,
) -> (u16, Value) {
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{patient}/observations/{obs}")))
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_amendment_keeps_the_original_in_the_history_with_who_changed_it_and_why() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let id = p["id"].as_str().unwrap();
    let nurse = app.user("n.amend", "nurse", "quthing").await;
    let (_, set) = record(
        &app,
        &nurse,
        id,
        &json!({"vitals": [{"code": "8867-4", "value": 150, "unit": "/min"}]}),
    )
    .await;
    let hr = of(&set, "8867-4");
    assert_eq!(
        hr["flag"], "critical",
        "150/min is critical for an adult: {hr}"
    );
    let obs = hr["id"].as_str().unwrap();
    let (status, problem) = amend(&app, id, obs, "\"1\"", json!({"value": 75})).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("reason"))
    );
    let (status, amended) = amend(
        &app,
        id,
        obs,
        "\"1\"",
        json!({"value": 75, "reason": "typed 150 for 75"}),
    )
    .await;
    assert_eq!(status, 200, "{amended}");
    assert_eq!(
        (
            amended["status"].as_str(),
            amended["flag"].as_str(),
            amended["version"].as_i64()
        ),
        (Some("amended"), Some("normal"), Some(2))
    );
    assert_eq!(amended["changed_by"], "admin");
    let (stale, _) = amend(
        &app,
        id,
        obs,
        "\"1\"",
        json!({"value": 76, "reason": "again"}),
    )
    .await;
    assert_eq!(stale, 412);
    let (_, read) = app
        .get_json(&format!("/api/v1/patients/{id}/observations/{obs}"))
        .await;
    let history = read["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{read}");
    assert_eq!(
        (
            history[0]["value"].as_f64(),
            history[0]["written_by"].as_str(),
            history[0]["flag"].as_str()
        ),
        (Some(150.0), Some("n.amend"), Some("critical"))
    );
    assert_eq!(read["change_reason"], "typed 150 for 75");
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert!(
        summary["alerts"].as_array().unwrap().is_empty(),
        "the alert follows the corrected value: {summary}"
    );
    assert_eq!(summary["latest"][0]["value"].as_f64(), Some(75.0));
}

#[tokio::test]
async fn a_value_entered_in_error_leaves_the_summary_and_charts_but_stays_in_its_history() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Maseru").await;
    let id = p["id"].as_str().unwrap();
    let (_, set) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "8310-5", "value": 36.8, "unit": "Cel"}]}),
    )
    .await;
    let obs = of(&set, "8310-5")["id"].as_str().unwrap().to_owned();
    let (status, body) = amend(
        &app,
        id,
        &obs,
        "\"1\"",
        json!({"status": "entered-in-error", "reason": "wrong patient"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "entered-in-error");
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert!(
        summary["latest"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    assert_eq!(summary["counts"]["entered_in_error"], 1);
    let (_, chart) = app
        .get_json(&format!("/api/v1/patients/{id}/observations?code=8310-5"))
        .await;
    assert_eq!(chart["series"][0]["total"], 0, "{chart}");
    let (_, read) = app
        .get_json(&format!("/api/v1/patients/{id}/observations/{obs}"))
        .await;
    assert_eq!(read["history"][0]["value"].as_f64(), Some(36.8));
    let (again, problem) = amend(
        &app,
        id,
        &obs,
        "\"2\"",
        json!({"value": 37, "reason": "retry"}),
    )
    .await;
    assert_eq!(
        (again, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:entered-in-error"))
    );
}

#[tokio::test]
async fn amending_a_weight_recomputes_the_bmi_of_its_set() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Leribe").await;
    let id = p["id"].as_str().unwrap();
    let (status, _) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "29463-7", "value": 810, "unit": "kg"}]}),
    )
    .await;
    assert_eq!(status, 422, "810 kg is impossible");
    let (_, set) = record(&app, &app.client, id, &json!({"vitals": [
        {"code": "8302-2", "value": 180, "unit": "cm"}, {"code": "29463-7", "value": 97.2, "unit": "kg"}]})).await;
    assert_eq!(of(&set, "39156-5")["value"].as_f64(), Some(30.0));
    let weight = of(&set, "29463-7")["id"].as_str().unwrap();
    let (status, _) = amend(
        &app,
        id,
        weight,
        "\"1\"",
        json!({"value": 81, "reason": "scale not zeroed"}),
    )
    .await;
    assert_eq!(status, 200);
    let bmi = of(&set, "39156-5")["id"].as_str().unwrap();
    let (_, read) = app
        .get_json(&format!("/api/v1/patients/{id}/observations/{bmi}"))
        .await;
    assert_eq!(
        (read["value"].as_f64(), read["flag"].as_str()),
        (Some(25.0), Some("high")),
        "{read}"
    );
    assert_eq!(read["history"][0]["value"].as_f64(), Some(30.0));
    let (refused, problem) =
        amend(&app, id, bmi, "\"2\"", json!({"value": 20, "reason": "x"})).await;
    assert_eq!(
        (refused, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:derived"))
    );
}

#[tokio::test]
async fn observations_and_their_history_cannot_be_deleted_even_in_pgadmin() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let (_, set) = record(
        &app,
        &app.client,
        p["id"].as_str().unwrap(),
        &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
    )
    .await;
    let obs: uuid::Uuid = of(&set, "8867-4")["id"].as_str().unwrap().parse().unwrap();
    let pool = app.shard("quthing").await;
    sqlx::query("UPDATE observations SET value = 71 WHERE id = $1")
        .bind(obs)
        .execute(&pool)
        .await
        .unwrap();
    let (kept,): (f64,) =
        sqlx::query_as("SELECT value FROM observation_history WHERE observation_id = $1")
            .bind(obs)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        kept, 70.0,
        "an edit in pgAdmin also keeps the earlier version"
    );
    let delete = sqlx::query("DELETE FROM observations WHERE id = $1")
        .bind(obs)
        .execute(&pool)
        .await;
    assert!(delete.unwrap_err().to_string().contains("never deleted"));
    let rewrite = sqlx::query("UPDATE observation_history SET value = 1")
        .execute(&pool)
        .await;
    assert!(rewrite.unwrap_err().to_string().contains("append-only"));
}
