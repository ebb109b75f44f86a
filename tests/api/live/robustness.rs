//! What a single process and a well-behaved client do not show: a change written through
//! one hmis process reaches a subscriber of another (they share only the databases), and
//! a client that stops answering pings is closed with 4408, one that stops reading with
//! 4429 once its bounded queue is full.

use super::patch_village;
use super::subscriptions::{next_event, subscribe};
use super::{close_code, connect};
use crate::helpers::{PASSWORD, launch, patient, project_databases, spawn_app_with};
use std::time::Duration;

#[tokio::test]
async fn a_client_on_process_b_receives_a_change_written_through_process_a() {
    let settings = project_databases().await;
    let a = launch(settings.clone()).await;
    let b = launch(settings).await;
    let id = a.create_patient(&patient("Leribe")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = connect(&b, &b.login("admin", PASSWORD).await).await;
    let topic = format!("patient:{id}");
    assert!(subscribe(&mut ws, &[&topic], None).await.is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    patch_village(&a, &id, 1, "Ha Mothae").await;
    let mut event = next_event(&mut ws).await;
    if event["data"]["op"] == "insert" {
        event = next_event(&mut ws).await;
    }
    assert_eq!(event["data"]["op"], "update", "{event}");
    assert_eq!(event["data"]["id"], id.as_str());
}

#[tokio::test]
async fn a_client_that_never_reads_its_socket_is_closed_with_4408_for_unanswered_pings() {
    let app = spawn_app_with(|s| s.file.live.ping_seconds = 1).await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    // Not reading: the pings go unanswered (tungstenite answers them only when read).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(close_code(&mut ws, 10).await, Some(4408));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_4429_once_its_queue_is_full() {
    let app = spawn_app_with(|s| s.file.live.queue_frames = 8).await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    // The OpenAPI document, well over 100 KB a copy and cheap to make: 400 of them are
    // more than loopback's socket buffers hold however far they grow (a few MB each
    // way), and hmis makes them faster than a loaded machine could otherwise hide. (Pages of
    // patients, each audited, were slow enough under load that the client's buffers never
    // filled, and then no close was due.)
    for i in 0..400 {
        let frame = serde_json::json!({"id": i, "method": "GET", "path": "/api/v1/openapi.json"});
        super::send(&mut ws, &frame).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Reading again drains what was sent; the close frame follows it.
    let (mut answers, mut code) = (0, None);
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(message)) = futures_util::StreamExt::next(&mut ws).await {
            match message {
                tokio_tungstenite::tungstenite::Message::Text(_) => answers += 1,
                tokio_tungstenite::tungstenite::Message::Close(frame) => {
                    code = frame.map(|f| u16::from(f.code));
                    return;
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the socket stayed open");
    assert_eq!(code, Some(4429), "after {answers} answers");
    assert!(
        answers < 400,
        "every answer arrived: the queue did not bound anything"
    );
}
