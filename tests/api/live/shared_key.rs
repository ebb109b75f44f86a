//! Change cursors across processes and restarts: they are sealed with `server.cursor_key`,
//! so processes that share the key resume each other's cursors (a client moved to another
//! process by the load balancer, or reconnecting after a restart, gets exactly what it
//! missed), while a process with another key (the default: a random one per process)
//! answers the same cursor with a `reset`.

use super::longpoll::{poll, poll_for};
use super::patch_village;
use crate::helpers::{launch, patient, project_databases};
use hmis::config::Secret;
use serde_json::json;

const KEY: &str = "a key both processes of this deployment share";

#[tokio::test]
async fn a_cursor_from_process_a_resumes_on_process_b_with_exactly_the_missed_events() {
    let mut settings = project_databases().await;
    settings.file.server.cursor_key = Secret::new(KEY);
    settings.file.live.long_poll_seconds = 1;
    let a = launch(settings.clone()).await;
    let b = launch(settings).await;
    let id = a.create_patient(&patient("Leribe")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = format!("patient:{id}");
    // The heads a read's cursor is sealed from come from A's hub: let it pass the insert
    // (else the insert is delivered too, as it may be: shown and delivered, never lost).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // A's cursor as of its read of the patient, before the changes.
    let r = a
        .client
        .get(a.url(&format!("/api/v1/patients/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cursor = r.headers()["x-hmis-cursor"].to_str().unwrap().to_owned();
    patch_village(&a, &id, 1, "Ha Mothae").await;
    patch_village(&a, &id, 2, "Ha Setene").await;

    let (events, after) = poll_for(&b, &topic, &cursor, 2).await;
    let ops: Vec<_> = events.iter().map(|e| e["data"]["op"].clone()).collect();
    assert_eq!(ops, [json!("update"), json!("update")], "{events:?}");
    assert!(events.iter().all(|e| e["data"]["id"] == id.as_str()));
    // Nothing repeated, and B's own cursor goes on on A.
    let (status, rest) = poll(&a, &topic, Some(&after)).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["events"], json!([]), "{rest}");
}

#[tokio::test]
async fn without_a_shared_key_another_process_answers_the_same_cursor_with_a_reset() {
    let mut settings = project_databases().await;
    settings.file.live.long_poll_seconds = 1;
    assert!(settings.file.server.cursor_key.expose().is_empty());
    let a = launch(settings.clone()).await;
    let b = launch(settings).await;
    let (_, first) = poll(&a, "region:quthing", None).await;
    let (status, body) = poll(&b, "region:quthing", first["cursor"].as_str()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], "tampered", "{body}");
}
