//! What a single process and a well-behaved client do not show: a change written through
//! one hmis process reaches a subscriber of another (they share only the databases), a
//! subscriber of a region whose database is killed and restarted gets every change once
//! (also one committed while hmis was not listening), and a client that stops answering
//! pings is closed with 4408, one that stops reading with 4429 once its bounded queue is
//! full.

use super::patch_village;
use super::subscriptions::{next_event, subscribe};
use super::{Ws, close_code, connect};
use crate::faults::{restart, sigkill_cluster};
use crate::helpers::{
    PASSWORD, launch, patient, project_databases, region_on_own_cluster, spawn_app_with,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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

/// Region events until every ID of `ids` has come (or 30 s pass), then 1.5 s more: how
/// many times each entity came.
async fn events_until(ws: &mut Ws, ids: &[&str]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::<String, usize>::new();
    let started = Instant::now();
    while !ids.iter().all(|id| seen.contains_key(*id)) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still missing after 30 s; seen {seen:?}"
        );
        let event = next_event(ws).await;
        *seen
            .entry(event["data"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(1500), next_event(ws)).await {
        *seen
            .entry(event["data"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn a_subscriber_of_a_region_killed_and_restarted_gets_every_change_once_also_one_made_while_hmis_was_not_listening()
 {
    let mut settings = project_databases().await;
    let cluster = region_on_own_cluster(&mut settings, "maseru").await;
    let url = settings
        .region("maseru")
        .unwrap()
        .database_url
        .expose()
        .to_owned();
    let app = launch(settings).await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    assert!(
        subscribe(&mut ws, &["region:maseru"], None)
            .await
            .is_empty()
    );
    let before = app.create_patient(&patient("Berea")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(events_until(&mut ws, &[&before]).await[&before], 1);

    let cluster = tokio::task::spawn_blocking(move || {
        sigkill_cluster(&cluster);
        cluster
    })
    .await
    .unwrap();
    let cluster = restart(cluster).await;
    // Straight in SQL the moment the server is back, as pgAdmin would: hmis's listener is
    // then still backing off (it retries after 0.2 s, doubling), so no NOTIFY reaches it.
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let missed = crate::changes::insert_patient(&mut *tx, "Berea")
        .await
        .to_string();
    let listening: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hmis changes'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // And one through hmis once it writes to the region again.
    let started = Instant::now();
    let after = loop {
        let r = app.post_patient(&patient("Berea")).await;
        if r.status() == 201 {
            let body: serde_json::Value = r.json().await.unwrap();
            break body["id"].as_str().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "maseru never served again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let seen = events_until(&mut ws, &[&missed, &after]).await;
    let expected: BTreeMap<String, usize> = [(missed.clone(), 1), (after.clone(), 1)].into();
    // Every change once, in the one socket that stayed open; none before the kill again.
    assert_eq!(
        seen, expected,
        "hmis changes connections at the direct write: {listening}"
    );
    eprintln!(
        "live::robustness: maseru killed and restarted; the direct write committed with \
         {listening} hmis listener(s) connected; both changes arrived once"
    );
    db.close().await;
    cluster.stop().unwrap();
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
