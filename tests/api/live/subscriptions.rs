//! Subscriptions: events of a topic arrive whoever wrote the change (hmis or SQL), a
//! reconnecting client resumes from its cursor with exactly what it missed, a refused
//! topic is an error frame naming it (also one dropped when the user loses the grant), and
//! a cursor hmis did not seal gets `reset`.

use super::{Ws, connect, next_frame, patch_village, send};
use crate::helpers::{PASSWORD, patient, spawn_app};
use serde_json::{Value, json};

/// Subscribes and waits for the acknowledgement; the error frames before it.
pub async fn subscribe(ws: &mut Ws, topics: &[&str], cursor: Option<&str>) -> Vec<Value> {
    send(
        ws,
        &json!({"type": "subscribe", "id": "s", "topics": topics, "cursor": cursor}),
    )
    .await;
    let mut others = Vec::new();
    loop {
        let frame = next_frame(ws).await;
        if frame["type"] == "subscribed" {
            return others;
        }
        others.push(frame);
    }
}

pub async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let frame = next_frame(ws).await;
        if frame["type"] == "event" {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_change_over_http_reaches_a_subscriber_of_the_patient() {
    let app = spawn_app().await;
    let p = app.create_patient(&patient("Maseru")).await;
    let id = p["id"].as_str().unwrap();
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let topic = format!("patient:{id}");
    assert!(subscribe(&mut ws, &[&topic], None).await.is_empty());
    patch_village(&app, id, 1, "Ha Thetsane").await;
    let event = next_event(&mut ws).await;
    assert_eq!(event["topic"], topic.as_str());
    assert_eq!(event["kind"], "patient");
    assert_eq!(event["data"]["op"], "update");
    assert_eq!(event["data"]["region"], "maseru");
    assert_eq!(event["data"]["id"], id);
    assert!(event["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(
        !event
            .to_string()
            .contains(p["family_name"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_direct_sql_update_reaches_a_subscriber_of_the_region() {
    let app = spawn_app().await;
    let p = app.create_patient(&patient("Quthing")).await;
    let id: uuid::Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    subscribe(&mut ws, &["region:quthing"], None).await;
    let db = app.shard("quthing").await;
    sqlx::query("UPDATE patients SET village = 'Ha Sekake' WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await
        .unwrap();
    let event = next_event(&mut ws).await;
    assert_eq!(event["topic"], "region:quthing");
    assert_eq!(event["data"]["id"], id.to_string());
}

#[tokio::test]
async fn a_client_that_reconnects_with_its_cursor_receives_exactly_what_it_missed() {
    let app = spawn_app().await;
    let p = app.create_patient(&patient("Maseru")).await;
    let id = p["id"].as_str().unwrap();
    let token = app.login("admin", PASSWORD).await;
    let topic = format!("patient:{id}");
    let mut ws = connect(&app, &token).await;
    subscribe(&mut ws, &[&topic], None).await;
    patch_village(&app, id, 1, "A").await;
    let cursor = next_event(&mut ws).await["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(ws);
    for (version, village) in [(2, "B"), (3, "C"), (4, "D")] {
        patch_village(&app, id, version, village).await;
    }
    let mut ws = connect(&app, &token).await;
    subscribe(&mut ws, &[&topic], Some(&cursor)).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_event(&mut ws).await);
    }
    assert!(
        seen.iter()
            .all(|e| e["data"]["op"] == "update" && e["data"]["id"] == id)
    );
    // Nothing else: a fourth change is the next event, not a repeat.
    patch_village(&app, id, 5, "E").await;
    let fourth = next_event(&mut ws).await;
    let at = |e: &Value| e["data"]["at"].as_str().unwrap().to_owned();
    assert!(
        at(&seen[0]) < at(&seen[1]) && at(&seen[1]) < at(&seen[2]) && at(&seen[2]) < at(&fourth)
    );
}

#[tokio::test]
async fn a_quthing_nurse_cannot_follow_a_maseru_patient_or_region() {
    let app = spawn_app().await;
    let p = app.create_patient(&patient("Maseru")).await;
    let id = p["id"].as_str().unwrap();
    app.user("nthabiseng", "nurse", "quthing").await;
    let mut ws = connect(&app, &app.login("nthabiseng", PASSWORD).await).await;
    let patient_topic = format!("patient:{id}");
    let errors = subscribe(
        &mut ws,
        &[&patient_topic, "region:maseru", "region:quthing"],
        None,
    )
    .await;
    let refused: Vec<&str> = errors
        .iter()
        .map(|e| e["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        refused,
        [patient_topic.as_str(), "region:maseru"],
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["type"] == "error" && e["field"] == "topics")
    );
    // Audited like a refused read, in Maseru.
    let db = app.shard("maseru").await;
    let mut denials = 0_i64;
    for _ in 0..100 {
        denials = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor = 'nthabiseng'")
            .fetch_one(&db)
            .await
            .unwrap_or(0);
        if denials >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(denials >= 2, "denials audited: {denials}");
}

#[tokio::test]
async fn a_tampered_cursor_gets_a_reset() {
    let app = spawn_app().await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let frames = subscribe(&mut ws, &["region:maseru"], Some("bm90IGEgY3Vyc29y")).await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "reset");
    assert_eq!(frames[0]["reason"], "tampered");
}

#[tokio::test]
async fn a_nurse_whose_grant_is_removed_is_dropped_from_her_region_with_an_error_frame_and_audited()
{
    let app = spawn_app().await;
    app.user("palesa", "nurse", "quthing").await;
    let mut ws = connect(&app, &app.login("palesa", PASSWORD).await).await;
    assert!(
        subscribe(&mut ws, &["region:quthing"], None)
            .await
            .is_empty()
    );
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next_event(&mut ws).await["data"]["id"], id.as_str());

    let revoked = app
        .client
        .delete(app.url("/api/v1/admin/users/palesa/grants"))
        .json(&json!({"role": "nurse", "region": "quthing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let dropped = loop {
        let frame = next_frame(&mut ws).await;
        if frame["type"] == "error" {
            break frame;
        }
    };
    assert_eq!(dropped["topic"], "region:quthing", "{dropped}");
    assert_eq!(dropped["field"], "topics", "{dropped}");
    assert!(
        dropped["reason"]
            .as_str()
            .is_some_and(|r| r.contains("quthing"))
    );

    // No further event of the region reaches her.
    patch_village(&app, &id, 1, "Ha Sekake").await;
    let quiet = tokio::time::timeout(std::time::Duration::from_secs(3), next_event(&mut ws)).await;
    assert!(
        quiet.is_err(),
        "an event after the grant was removed: {quiet:?}"
    );
    // The refusal is audited in Quthing, as a refused subscribe is.
    let db = app.shard("quthing").await;
    let mut denials = 0_i64;
    for _ in 0..100 {
        denials = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE actor = 'palesa' AND outcome = 'denied'",
        )
        .fetch_one(&db)
        .await
        .unwrap_or(0);
        if denials >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(denials >= 1, "the dropped subscription is not audited");
}
