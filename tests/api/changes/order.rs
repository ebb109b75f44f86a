//! No skipped, repeated or phantom event, whatever order concurrent writers commit in:
//! eight writers begin in one order (so their transaction IDs and sequence numbers are
//! drawn in that order), write more while others finish, and commit or roll back in a
//! random order, while a reader polls the log throughout. Seeded random orders, so a
//! failure names the seed that reproduces it.

use super::{insert_patient, read_until, shards};
use crate::helpers::project_databases;
use hmis::changes::{self, Event, Op, Read};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

const WRITERS: usize = 8;
const SEEDS: u64 = 12;

#[tokio::test]
async fn every_committed_event_is_read_once_whatever_the_commit_order() {
    let settings = project_databases().await;
    let shards = Arc::new(shards(&settings));
    let url = settings.region("quthing").unwrap().database_url.expose();
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(WRITERS as u32 + 2)
        .connect(url)
        .await
        .unwrap();
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let start = changes::head(shards.get("quthing").unwrap()).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(poll(shards.clone(), start, stop.clone()));

        let mut open = Vec::new();
        for _ in 0..WRITERS {
            let mut tx = db.begin().await.unwrap();
            let first = insert_patient(&mut *tx, "Quthing").await;
            open.push((tx, vec![first]));
        }
        // Each step: one writer writes once more, or finishes (commit, or one in four
        // rolls back); the reader polls between steps.
        let mut committed = BTreeSet::new();
        let mut aborted = BTreeSet::new();
        while !open.is_empty() {
            let i = rng.random_range(0..open.len());
            if rng.random_bool(0.3) {
                let (tx, ids) = &mut open[i];
                ids.push(insert_patient(&mut **tx, "Quthing").await);
            } else {
                let (tx, ids) = open.swap_remove(i);
                if rng.random_bool(0.25) {
                    tx.rollback().await.unwrap();
                    aborted.extend(ids);
                } else {
                    tx.commit().await.unwrap();
                    committed.extend(ids);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(rng.random_range(0..4))).await;
        }
        stop.store(true, Ordering::Relaxed);
        let (mut events, mark) = reader.await.unwrap();
        let quthing = shards.get("quthing").unwrap();
        let (rest, _) = read_until(quthing, mark, |rest| {
            inserted(&events, rest)
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>()
                == committed
        })
        .await;
        events.extend(rest);

        let counts = inserted(&events, &[]);
        assert!(
            counts.values().all(|&n| n == 1),
            "seed {seed}: repeated: {counts:?}"
        );
        let read: BTreeSet<Uuid> = counts.keys().cloned().collect();
        assert_eq!(read, committed, "seed {seed}");
        assert!(
            read.is_disjoint(&aborted),
            "seed {seed}: a rolled-back event was read"
        );
        assert!(
            events.windows(2).all(|w| w[0].position < w[1].position),
            "seed {seed}: not in reading order"
        );
    }
}

/// Polls until told to stop; everything read and the mark reached.
async fn poll(
    shards: Arc<hmis::shards::Shards>,
    mut mark: changes::Mark,
    stop: Arc<AtomicBool>,
) -> (Vec<Event>, changes::Mark) {
    let quthing = shards.get("quthing").unwrap();
    let mut events = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match changes::read(quthing, &mark, 3).await.unwrap() {
            Read::Batch(batch) => {
                events.extend(batch.events);
                mark = batch.next;
            }
            Read::Reset(r) => panic!("reset {r:?}"),
        }
        tokio::task::yield_now().await;
    }
    (events, mark)
}

/// How often each patient's insert was read.
fn inserted(a: &[Event], b: &[Event]) -> BTreeMap<Uuid, usize> {
    let mut counts = BTreeMap::new();
    for e in a.iter().chain(b).filter(|e| e.op == Op::Insert) {
        *counts.entry(e.entity_id).or_default() += 1;
    }
    counts
}
