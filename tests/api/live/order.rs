//! Through the socket, the same guarantee as the log's own (`tests/api/changes/order.rs`):
//! eight writers that commit or roll back in a random order while a subscriber listens:
//! every committed change arrives exactly once, none rolled back, in reading order.

use super::connect;
use super::subscriptions::subscribe;
use crate::changes::insert_patient;
use crate::helpers::{PASSWORD, spawn_app};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const WRITERS: usize = 8;
const SEEDS: u64 = 4;

#[tokio::test]
async fn eight_writers_committing_out_of_order_reach_a_subscriber_once_each_and_rollbacks_never() {
    let app = spawn_app().await;
    let db = app.shard("quthing").await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    assert!(
        subscribe(&mut ws, &["region:quthing"], None)
            .await
            .is_empty()
    );
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut open = Vec::new();
        for _ in 0..WRITERS {
            let mut tx = db.begin().await.unwrap();
            let first = insert_patient(&mut *tx, "Quthing").await;
            open.push((tx, vec![first.to_string()]));
        }
        let (mut committed, mut aborted) = (BTreeSet::new(), BTreeSet::new());
        while !open.is_empty() {
            let i = rng.random_range(0..open.len());
            if rng.random_bool(0.3) {
                let (tx, ids) = &mut open[i];
                ids.push(insert_patient(&mut **tx, "Quthing").await.to_string());
                continue;
            }
            let (tx, ids) = open.swap_remove(i);
            if rng.random_bool(0.25) {
                tx.rollback().await.unwrap();
                aborted.extend(ids);
            } else {
                tx.commit().await.unwrap();
                committed.extend(ids);
            }
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..4))).await;
        }
        let seen = inserts_until_quiet(&mut ws, &committed).await;
        assert!(
            seen.values().all(|&n| n == 1),
            "seed {seed}: repeated: {seen:?}"
        );
        let read: BTreeSet<String> = seen.keys().cloned().collect();
        assert_eq!(read, committed, "seed {seed}");
        assert!(
            read.is_disjoint(&aborted),
            "seed {seed}: a rolled-back change arrived"
        );
    }
}

/// Counts the insert events per patient until every committed one has arrived and then
/// nothing more for a second (so a repeat or a phantom would still be seen).
async fn inserts_until_quiet(
    ws: &mut super::Ws,
    committed: &BTreeSet<String>,
) -> BTreeMap<String, usize> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let all = committed.iter().all(|id| seen.contains_key(id));
        let wait = if all {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        let frame = match tokio::time::timeout(wait, ws.next()).await {
            Err(_) if all => return seen,
            Err(_) => panic!("not every committed change arrived: {seen:?}"),
            Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("socket ended: {other:?}"),
        };
        assert_ne!(frame["type"], "reset", "{frame}");
        if frame["type"] == "event" && frame["data"]["op"] == "insert" {
            let id = frame["data"]["id"].as_str().unwrap().to_owned();
            *seen.entry(id).or_default() += 1;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still receiving after 20 s"
        );
    }
}
