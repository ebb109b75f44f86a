//! A region's log that gets a new epoch (recreated, restored) while hmis follows it:
//! events committed in the new log before hmis's reader of the region notices never
//! vanish in silence. A live subscriber gets them or an explicit `reset`, and every
//! cursor handed out with or after that reset is of the new epoch (used again, it
//! resumes instead of being reset once more).

use super::resets::{a_held_cursor, long_poll, new_epoch_in_quthing};
use super::subscriptions::{next_event, subscribe};
use super::{connect, next_frame, patch_village};
use crate::helpers::{PASSWORD, TestApp, patient, spawn_app};
use serde_json::Value;

/// The update events of patient `id` in a long-poll's answer from `cursor`, which must
/// resume (no reset).
async fn updates_from(app: &TestApp, cursor: &str, id: &str) -> usize {
    let answer = long_poll(app, cursor).await;
    assert!(answer.get("reset").is_none(), "reset again: {answer}");
    let events = answer["events"].as_array().expect("events");
    events
        .iter()
        .filter(|e| e["data"]["id"] == id && e["data"]["op"] == "update")
        .count()
}

/// The `X-Hmis-Cursor` of a read of patient `id`.
async fn fetched_cursor(app: &TestApp, id: &str) -> String {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cursor = r.headers().get("x-hmis-cursor").expect("X-Hmis-Cursor");
    cursor.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_change_committed_right_after_a_new_epoch_reaches_a_live_subscriber_as_the_event_or_a_reset()
 {
    let app = spawn_app().await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    assert!(
        subscribe(&mut ws, &["region:quthing"], None)
            .await
            .is_empty()
    );
    new_epoch_in_quthing(&app).await;
    // At once, before hmis's reader of the region polls it again.
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Never silence: the insert, or a reset (within next_frame's 10 s).
    let frame: Value = next_frame(&mut ws).await;
    match frame["type"].as_str() {
        Some("event") => {
            assert_eq!(frame["data"]["id"], id.as_str(), "{frame}");
            assert_eq!(frame["data"]["op"], "insert", "{frame}");
        }
        Some("reset") => assert_eq!(frame["reason"], "other-epoch", "{frame}"),
        _ => panic!("neither the insert nor a reset: {frame}"),
    }
    let cursor = frame["cursor"].as_str().unwrap().to_owned();

    // The socket goes on in the new epoch. The insert may come (again) first: after a
    // reset, when the hub's new head was taken before the insert committed, and after the
    // event, when the hub's restart comes behind it (a duplicate, never a loss).
    patch_village(&app, &id, 1, "Ha Sekake").await;
    let mut update = next_event(&mut ws).await;
    while update["data"]["op"] == "insert" && update["data"]["id"] == id.as_str() {
        update = next_event(&mut ws).await;
    }
    assert_eq!(
        (update["data"]["id"].as_str(), update["data"]["op"].as_str()),
        (Some(id.as_str()), Some("update")),
        "{update}"
    );
    // The cursor of the reset (or of the event) resumes: it is of the new epoch.
    assert_eq!(updates_from(&app, &cursor, &id).await, 1);
    // So does a cursor a REST read hands out now.
    let fetched = fetched_cursor(&app, &id).await;
    patch_village(&app, &id, 2, "Ha Nohana").await;
    assert_eq!(updates_from(&app, &fetched, &id).await, 1);
}

#[tokio::test]
async fn a_reset_handed_out_right_after_a_new_epoch_carries_a_cursor_that_resumes() {
    let app = spawn_app().await;
    let (held, id) = a_held_cursor(&app).await;
    new_epoch_in_quthing(&app).await;

    // At once: hmis's reader of the region may still hold the old epoch.
    let answer = long_poll(&app, &held).await;
    assert_eq!(answer["reset"], "other-epoch", "{answer}");
    let fresh = answer["cursor"].as_str().unwrap().to_owned();

    patch_village(&app, &id, 2, "Ha Nohana").await;
    assert_eq!(updates_from(&app, &fresh, &id).await, 1);
}
