//! The long-poll `GET /api/v1/events`: it holds until a change arrives (and no longer
//! than `[live] long_poll_seconds`), each answer's cursor gets exactly the events after
//! it, a refused topic is a 403 naming it (and audited), a bad cursor a `reset`.

use super::patch_village;
use crate::helpers::{TestApp, patient, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One long-poll as `client`: the status and the body.
pub async fn poll_as(
    app: &TestApp,
    client: &reqwest::Client,
    topics: &str,
    cursor: Option<&str>,
) -> (u16, Value) {
    let mut query = vec![("topics", topics)];
    query.extend(cursor.map(|c| ("cursor", c)));
    let r = client
        .get(app.url("/api/v1/events"))
        .query(&query)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

pub async fn poll(app: &TestApp, topics: &str, cursor: Option<&str>) -> (u16, Value) {
    poll_as(app, &app.client, topics, cursor).await
}

/// Polls from `cursor` until `n` events came (or 20 s passed): the events and the cursor.
pub async fn poll_for(app: &TestApp, topics: &str, cursor: &str, n: usize) -> (Vec<Value>, String) {
    let (mut events, mut cursor) = (Vec::new(), cursor.to_owned());
    let started = Instant::now();
    while events.len() < n && started.elapsed() < Duration::from_secs(20) {
        let (status, body) = poll(app, topics, Some(&cursor)).await;
        assert_eq!(status, 200, "{body}");
        events.extend(body["events"].as_array().unwrap().iter().cloned());
        cursor = body["cursor"].as_str().unwrap().to_owned();
    }
    (events, cursor)
}

#[tokio::test]
async fn a_long_poll_waiting_for_a_patient_answers_as_soon_as_it_changes() {
    let app = spawn_app().await;
    let id = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = format!("patient:{id}");
    // "From now" is from the hub's last read, woken by NOTIFY (and polled each second):
    // let it pass the insert, or the insert is the answer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let waiting = {
        let (url, client, topic) = (app.url("/api/v1/events"), app.client.clone(), topic.clone());
        tokio::spawn(async move {
            let r = client
                .get(url)
                .query(&[("topics", topic)])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    patch_village(&app, &id, 1, "Ha Thetsane").await;
    let (status, body) = waiting.await.unwrap();
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["topic"], topic.as_str());
    assert_eq!(events[0]["data"]["id"], id.as_str());
    assert_eq!(events[0]["data"]["op"], "update");
    assert!(body["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(10),
        "answered after {took:?}: it must wait for the change, and not for 25 s"
    );
}

#[tokio::test]
async fn a_long_poll_with_nothing_new_answers_empty_after_its_wait() {
    let app = spawn_app_with(|s| s.file.live.long_poll_seconds = 1).await;
    let started = Instant::now();
    let (status, body) = poll(&app, "region:quthing", None).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"], json!([]));
    assert!(body["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
}

#[tokio::test]
async fn a_cursor_from_an_earlier_long_poll_gets_exactly_the_events_after_it() {
    let app = spawn_app_with(|s| s.file.live.long_poll_seconds = 1).await;
    let id = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = format!("patient:{id}");
    // "From now" is the hub's last read: let it pass the insert, or the insert comes too.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, first) = poll(&app, &topic, None).await;
    patch_village(&app, &id, 1, "A").await;
    let (a, after_a) = poll_for(&app, &topic, first["cursor"].as_str().unwrap(), 1).await;
    assert_eq!(a.len(), 1, "{a:?}");
    patch_village(&app, &id, 2, "B").await;
    patch_village(&app, &id, 3, "C").await;
    let (bc, after_c) = poll_for(&app, &topic, &after_a, 2).await;
    assert_eq!(bc.len(), 2, "{bc:?}");
    let at = |e: &Value| e["data"]["at"].as_str().unwrap().to_owned();
    assert!(
        at(&a[0]) < at(&bc[0]) && at(&bc[0]) < at(&bc[1]),
        "{a:?} {bc:?}"
    );
    // Nothing after the last one: no repeat.
    let (status, rest) = poll(&app, &topic, Some(&after_c)).await;
    assert_eq!(status, 200);
    assert_eq!(rest["events"], json!([]), "{rest}");
}

#[tokio::test]
async fn a_quthing_nurse_polling_a_maseru_patient_gets_403_naming_the_topic_and_is_audited() {
    let app = spawn_app().await;
    let id = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nurse = app.user("nthabiseng", "nurse", "quthing").await;
    let topic = format!("patient:{id}");
    let (status, body) = poll_as(&app, &nurse, &format!("region:quthing,{topic}"), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["field"], "topics", "{body}");
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains(&topic),
        "{body}"
    );
    let (status, body) = poll_as(&app, &nurse, "region:maseru", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("region:maseru"),
        "{body}"
    );
    let (status, body) = poll_as(&app, &nurse, "no-such-kind:1", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "topics", "{body}");
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
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(denials >= 2, "denials audited: {denials}");
}

#[tokio::test]
async fn a_tampered_cursor_gets_a_reset_and_a_cursor_that_works() {
    let app = spawn_app_with(|s| s.file.live.long_poll_seconds = 1).await;
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, first) = poll(&app, "region:quthing", None).await;
    let mut tampered = first["cursor"].as_str().unwrap().to_owned();
    let last = if tampered.ends_with('A') { "B" } else { "A" };
    tampered.replace_range(tampered.len() - 1.., last);
    let (status, body) = poll(&app, "region:quthing", Some(&tampered)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], "tampered", "{body}");
    assert!(body.get("events").is_none(), "{body}");
    patch_village(&app, &id, 1, "Ha Sekake").await;
    let (events, _) = poll_for(&app, "region:quthing", body["cursor"].as_str().unwrap(), 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["id"], id.as_str());
}

#[tokio::test]
async fn a_long_poll_from_a_cursor_with_newer_events_answers_at_once_not_after_its_wait() {
    // The default wait (25 s): an answer well under a second can only be the catch-up.
    let app = spawn_app().await;
    assert_eq!(app.settings.file.live.long_poll_seconds, 25);
    let id = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = format!("patient:{id}");
    let cursor = {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.headers()["x-hmis-cursor"].to_str().unwrap().to_owned()
    };
    patch_village(&app, &id, 1, "Ha Foso").await;
    // Long enough for the change to be below every reader's horizon.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let (status, body) = poll(&app, &topic, Some(&cursor)).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let events = body["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["data"]["op"] == "update"), "{body}");
    assert!(
        took < Duration::from_millis(1000),
        "answered after {took:?}: newer events exist, so it must not wait"
    );
}
