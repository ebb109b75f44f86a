//! Cursors that can no longer resume, over the socket and the long-poll alike: one older
//! than the retention (its region's log pruned past it) and one of another epoch (the
//! region's log recreated, or restored from a backup) each get an explicit `reset` with
//! the reason and a fresh cursor, never a silent gap; events before the reset are not
//! replayed, and the ones after it arrive.

use super::subscriptions::{next_event, subscribe};
use super::{Ws, connect, next_frame, patch_village};
use crate::helpers::{PASSWORD, TestApp, patient, spawn_app};
use serde_json::Value;
use std::time::Duration;

/// A cursor a client holds, from the insert of a Quthing patient, and that patient's ID.
/// The patient is changed once more after it, so that the cursor has a newer event behind.
pub(super) async fn a_held_cursor(app: &TestApp) -> (String, String) {
    let mut ws = connect(app, &app.login("admin", PASSWORD).await).await;
    assert!(
        subscribe(&mut ws, &["region:quthing"], None)
            .await
            .is_empty()
    );
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inserted = next_event(&mut ws).await;
    assert_eq!(inserted["data"]["op"], "insert", "{inserted}");
    patch_village(app, &id, 1, "Ha Sekake").await;
    assert_eq!(next_event(&mut ws).await["data"]["op"], "update");
    (inserted["cursor"].as_str().unwrap().to_owned(), id)
}

/// Every event of Quthing's log made 100 hours old, then the log pruned to a 72-hour
/// retention, as the pruner would: the held cursor now points before pruned events.
async fn prune_quthing(app: &TestApp) {
    let db = app.shard("quthing").await;
    sqlx::query("UPDATE change_log SET at = now() - interval '100 hours'")
        .execute(&db)
        .await
        .unwrap();
    let shards = hmis::shards::Shards::new(&app.settings).unwrap();
    let before = chrono::Utc::now() - chrono::Duration::hours(72);
    let pruned = hmis::changes::prune(shards.get("quthing").unwrap(), before)
        .await
        .unwrap();
    assert!(pruned >= 2, "pruned {pruned}");
}

/// Quthing's log recreated: a new epoch, as after a restore. It returns at once, before
/// hmis's reader of the region has noticed (a reset hands out the log's own head, not
/// the reader's memory of the old epoch).
pub(super) async fn new_epoch_in_quthing(app: &TestApp) {
    let db = app.shard("quthing").await;
    sqlx::query("UPDATE change_log_meta SET epoch = gen_random_uuid()")
        .execute(&db)
        .await
        .unwrap();
}

/// Subscribes to `region:quthing` from `cursor`: the reset frame (which may come before
/// or after the acknowledgement), asserting no event came before it.
async fn reset_on_socket(ws: &mut Ws, cursor: &str) -> Value {
    let early = subscribe(ws, &["region:quthing"], Some(cursor)).await;
    let mut frames = early.into_iter();
    let reset = loop {
        let frame = match frames.next() {
            Some(f) => f,
            None => next_frame(ws).await,
        };
        assert_ne!(frame["type"], "event", "an event before the reset: {frame}");
        if frame["type"] == "reset" {
            break frame;
        }
    };
    assert!(reset["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    reset
}

pub(super) async fn long_poll(app: &TestApp, cursor: &str) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/events"))
        .query(&[("topics", "region:quthing"), ("cursor", cursor)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// After a reset the feed goes on: the next change is the next event, not a replay of
/// what came before the reset.
async fn goes_on_after_the_reset(app: &TestApp, ws: &mut Ws, id: &str) {
    patch_village(app, id, 2, "Ha Nohana").await;
    let event = next_event(ws).await;
    assert_eq!(
        (event["data"]["id"].as_str(), event["data"]["op"].as_str()),
        (Some(id), Some("update")),
        "{event}"
    );
    let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(read["village"], "Ha Nohana");
    // Nothing else follows: no replay of the insert or the first update.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), next_event(ws)).await;
    assert!(quiet.is_err(), "a further event: {quiet:?}");
}

#[tokio::test]
async fn a_cursor_older_than_the_retention_gets_an_expired_reset_on_the_socket_and_the_long_poll() {
    let app = spawn_app().await;
    let (cursor, id) = a_held_cursor(&app).await;
    prune_quthing(&app).await;

    let answer = long_poll(&app, &cursor).await;
    assert_eq!(answer["reset"], "expired", "{answer}");
    assert!(answer.get("events").is_none(), "{answer}");
    assert!(answer["cursor"].as_str().is_some_and(|c| c != cursor));

    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let reset = reset_on_socket(&mut ws, &cursor).await;
    assert_eq!(reset["reason"], "expired", "{reset}");
    goes_on_after_the_reset(&app, &mut ws, &id).await;
}

#[tokio::test]
async fn a_cursor_of_another_epoch_gets_an_other_epoch_reset_on_the_socket_and_the_long_poll() {
    let app = spawn_app().await;
    let (cursor, id) = a_held_cursor(&app).await;
    new_epoch_in_quthing(&app).await;

    let answer = long_poll(&app, &cursor).await;
    assert_eq!(answer["reset"], "other-epoch", "{answer}");
    assert!(answer.get("events").is_none(), "{answer}");

    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let reset = reset_on_socket(&mut ws, &cursor).await;
    assert_eq!(reset["reason"], "other-epoch", "{reset}");
    goes_on_after_the_reset(&app, &mut ws, &id).await;
}
