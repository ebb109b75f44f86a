//! Cursors that cannot resume are told so (`reset` with the reason), never served a gap;
//! pruning never breaks a reader inside the retention.

use super::{insert_patient, read_until, shards};
use crate::helpers::project_databases;
use hmis::changes::{self, Cursor, Mark, Read, Reset};
use hmis::fanout::cursor::Key;

fn key() -> Key {
    Key::from_setting("the change cursor tests' key, long enough")
}

async fn reset_of(shard: &hmis::shards::Shard, mark: &Mark) -> Option<Reset> {
    match changes::read(shard, mark, 10).await.unwrap() {
        Read::Reset(r) => Some(r),
        Read::Batch(_) => None,
    }
}

#[tokio::test]
async fn a_cursor_older_than_the_retention_gets_reset() {
    let settings = project_databases().await;
    let shards = shards(&settings);
    let quthing = shards.get("quthing").unwrap();
    let db = sqlx::PgPool::connect(quthing.settings.database_url.expose())
        .await
        .unwrap();
    let old_mark = changes::head(quthing).await.unwrap();
    let old = insert_patient(&db, "Quthing").await;
    let (_, at_old) = read_until(quthing, old_mark, |e| !e.is_empty()).await;
    // A reader that read the old event, then stopped; and one that started after it.
    let (events, inside) = read_until(quthing, at_old, |_| true).await;
    assert!(events.is_empty());
    sqlx::query("UPDATE change_log SET at = now() - interval '100 hours' WHERE entity_id = $1")
        .bind(old)
        .execute(&db)
        .await
        .unwrap();
    let young = insert_patient(&db, "Quthing").await;
    read_until(quthing, inside, |e| !e.is_empty()).await;

    let retention = chrono::Duration::hours(72);
    let pruned = changes::prune(quthing, chrono::Utc::now() - retention)
        .await
        .unwrap();
    assert_eq!(pruned, 1, "the old event only");

    assert_eq!(reset_of(quthing, &old_mark).await, Some(Reset::Expired));
    // Inside the retention: the young event, exactly.
    let (events, _) = read_until(quthing, inside, |e| !e.is_empty()).await;
    assert_eq!(
        events.iter().map(|e| e.entity_id).collect::<Vec<_>>(),
        [young]
    );
    assert_eq!(
        changes::prune(quthing, chrono::Utc::now() - retention)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_tampered_cursor_gets_reset() {
    let settings = project_databases().await;
    let shards = shards(&settings);
    let mut cursor = Cursor::new();
    cursor.set(
        "quthing",
        changes::head(shards.get("quthing").unwrap()).await.unwrap(),
    );
    let raw = cursor.seal(&key());
    let known = |r: &str| shards.get(r).is_some();
    assert_eq!(Cursor::open(&raw, &key(), known), Ok(cursor));
    let mut tampered = raw.into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(Cursor::open(&tampered, &key(), known), Err(Reset::Tampered));
}

#[tokio::test]
async fn a_cursor_of_another_epoch_gets_reset() {
    let settings = project_databases().await;
    let shards = shards(&settings);
    let quthing = shards.get("quthing").unwrap();
    let mark = changes::head(quthing).await.unwrap();
    assert_eq!(reset_of(quthing, &mark).await, None);
    // The log recreated (or the database restored and given a new epoch, as an operator
    // must after a restore).
    let db = sqlx::PgPool::connect(quthing.settings.database_url.expose())
        .await
        .unwrap();
    sqlx::query("UPDATE change_log_meta SET epoch = gen_random_uuid()")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(reset_of(quthing, &mark).await, Some(Reset::OtherEpoch));
    let fresh = changes::head(quthing).await.unwrap();
    assert_ne!(fresh.epoch, mark.epoch);
    assert_eq!(reset_of(quthing, &fresh).await, None);
}
