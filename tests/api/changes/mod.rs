//! The change log of every shard (`hmis::changes`): triggers append events whoever
//! writes, a cursor reader never skips or repeats one whatever the commit order, cursors
//! that cannot resume are reset with the reason, and the waker survives a shard restart.
//! These tests use the shards directly, as the real-time layer will.

mod events;
mod order;
mod plan;
mod resets;
mod wake;

use hmis::changes::{self, Event, Mark, Read};
use hmis::shards::{Shard, Shards};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The shards of `settings`, as hmis opens them.
pub fn shards(settings: &hmis::config::Settings) -> Shards {
    Shards::new(settings).unwrap()
}

/// Reads from `mark` until `done` holds for everything read (or 20 s pass); the events
/// and the mark to go on from.
pub async fn read_until(
    shard: &Shard,
    mut mark: Mark,
    done: impl Fn(&[Event]) -> bool,
) -> (Vec<Event>, Mark) {
    let started = Instant::now();
    let mut events = Vec::new();
    loop {
        match changes::read(shard, &mark, 100).await.unwrap() {
            Read::Batch(batch) => {
                events.extend(batch.events);
                mark = batch.next;
            }
            Read::Reset(reset) => panic!("unexpected reset: {reset:?}"),
        }
        if done(&events) {
            return (events, mark);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up waiting; read so far: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Inserts a patient straight into a region's database, as pgAdmin would; its ID.
pub async fn insert_patient(db: impl sqlx::PgExecutor<'_>, district: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district) \
         VALUES ($1, 'Palesa', 'Mokoena', 'female', '1990-04-12', $2)",
    )
    .bind(id)
    .bind(district)
    .execute(db)
    .await
    .unwrap();
    id
}
