//! Subscribing again on the same socket with an older cursor (a screen that opens a
//! second patient, fetched a while ago) restarts the socket's feed from that cursor: the
//! new topic gets everything after it, and the topics followed before get no repeat.

use super::connect;
use super::patch_village;
use super::subscriptions::{next_event, subscribe};
use crate::helpers::{PASSWORD, patient, spawn_app};
use serde_json::Value;
use std::collections::BTreeMap;

#[tokio::test]
async fn subscribing_again_with_an_older_cursor_repeats_nothing_of_the_topics_followed_before() {
    let app = spawn_app().await;
    let a = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fetched = app
        .client
        .get(app.url(&format!("/api/v1/patients/{b}")))
        .send()
        .await
        .unwrap();
    let cursor = fetched.headers()["x-hmis-cursor"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let (topic_a, topic_b) = (format!("patient:{a}"), format!("patient:{b}"));
    subscribe(&mut ws, &[&topic_a], Some(&cursor)).await;
    patch_village(&app, &a, 1, "First").await;
    let mut seen = Vec::new();
    while seen
        .last()
        .is_none_or(|e: &Value| e["data"]["op"] != "update")
    {
        seen.push(next_event(&mut ws).await);
    }
    // Patient B, fetched before A changed: from B's cursor, which A's change is after.
    subscribe(&mut ws, &[&topic_b], Some(&cursor)).await;
    patch_village(&app, &b, 1, "Second").await;
    patch_village(&app, &a, 2, "Third").await;
    loop {
        let e = next_event(&mut ws).await;
        let last = e["topic"] == topic_a.as_str() && e["data"]["op"] == "update";
        let first_again = last && seen.iter().any(|s| s["data"]["at"] == e["data"]["at"]);
        seen.push(e);
        if last && !first_again {
            break;
        }
    }
    let mut sent: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in &seen {
        let key = (e["topic"].to_string(), e["data"]["at"].to_string());
        *sent.entry(key).or_default() += 1;
    }
    assert!(sent.values().all(|&n| n == 1), "repeated: {sent:?}");
    let b_updates = seen
        .iter()
        .filter(|e| e["topic"] == topic_b.as_str() && e["data"]["op"] == "update")
        .count();
    assert_eq!(b_updates, 1, "{seen:?}");
}
