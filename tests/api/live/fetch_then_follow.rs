//! "Fetch, then subscribe from that cursor": every successful GET under `/api/v1` carries
//! `X-Hmis-Cursor`, and a change made after the fetch reaches a socket subscriber or a
//! long-poll started later from that cursor (nothing falls in the window between).

use super::connect;
use super::longpoll::poll_for;
use super::patch_village;
use super::subscriptions::{next_event, subscribe};
use crate::helpers::{PASSWORD, TestApp, patient, spawn_app, spawn_app_with};

/// A fresh patient, fetched: its ID and the cursor of the fetch.
async fn fetched(app: &TestApp) -> (String, String) {
    let id = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cursor = r
        .headers()
        .get("x-hmis-cursor")
        .map(|v| v.to_str().unwrap().to_owned());
    (id, cursor.expect("a GET carries X-Hmis-Cursor"))
}

#[tokio::test]
async fn a_change_after_a_fetch_reaches_a_socket_subscribed_later_with_the_fetched_cursor() {
    let app = spawn_app().await;
    let (id, cursor) = fetched(&app).await;
    patch_village(&app, &id, 1, "Ha Thetsane").await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let topic = format!("patient:{id}");
    assert!(
        subscribe(&mut ws, &[&topic], Some(&cursor))
            .await
            .is_empty()
    );
    // The insert may come first (a head older than the fetch repeats, never loses).
    let mut event = next_event(&mut ws).await;
    if event["data"]["op"] == "insert" {
        event = next_event(&mut ws).await;
    }
    assert_eq!(event["data"]["op"], "update", "{event}");
    assert_eq!(event["data"]["id"], id.as_str());
}

#[tokio::test]
async fn a_change_after_a_fetch_reaches_a_long_poll_from_the_fetched_cursor() {
    let app = spawn_app_with(|s| s.file.live.long_poll_seconds = 1).await;
    let (id, cursor) = fetched(&app).await;
    patch_village(&app, &id, 1, "Ha Thetsane").await;
    let topic = format!("patient:{id}");
    let (events, _) = poll_for(&app, &topic, &cursor, 2).await;
    let updates = events
        .iter()
        .filter(|e| e["data"]["op"] == "update")
        .count();
    assert_eq!(updates, 1, "{events:?}");
}

#[tokio::test]
async fn only_successful_gets_carry_the_cursor() {
    let app = spawn_app().await;
    let (status, _) = app.get_json("/api/v1/auth/me").await;
    assert_eq!(status, 200);
    let me = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert!(me.headers().contains_key("x-hmis-cursor"));
    let missing = app
        .client
        .get(app.url("/api/v1/patients/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(!missing.headers().contains_key("x-hmis-cursor"));
    let created = app.post_patient(&patient("Quthing")).await;
    assert_eq!(created.status(), 201);
    assert!(!created.headers().contains_key("x-hmis-cursor"));
}

async fn cursor_of(app: &TestApp, path: &str) -> String {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-hmis-cursor"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn reads_between_two_changes_share_one_cursor_and_a_change_moves_it() {
    let app = spawn_app().await;
    let (id, first) = fetched(&app).await;
    let path = format!("/api/v1/patients/{id}");
    // The hub may still be reading the create: wait until the cursor settles.
    let mut settled = first;
    for _ in 0..50 {
        let again = cursor_of(&app, &path).await;
        if again == settled {
            break;
        }
        settled = again;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(cursor_of(&app, &path).await, settled);
    assert_eq!(cursor_of(&app, "/api/v1/auth/me").await, settled);
    patch_village(&app, &id, 1, "Ha Thetsane").await;
    let mut moved = false;
    for _ in 0..50 {
        if cursor_of(&app, &path).await != settled {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        moved,
        "a committed change must move the cursor of later reads"
    );
}
