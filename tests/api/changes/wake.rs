//! The waker: a commit wakes readers of its region, and after the region's database
//! restarts the waker listens again and wakes everyone (they re-read from their marks, so
//! whatever was committed while nobody listened is read).

use super::{insert_patient, read_until, shards};
use crate::helpers::{project_databases, region_on_own_cluster};
use hmis::changes::{self, News, Wake};
use std::time::Duration;
use tokio::sync::broadcast;

/// The next news of `region`, within `seconds`.
async fn news_of(rx: &mut broadcast::Receiver<News>, region: &str, seconds: u64) {
    tokio::time::timeout(Duration::from_secs(seconds), async {
        loop {
            match rx.recv().await {
                Ok(news) if &*news.region == region => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no news of {region} within {seconds} s"));
}

#[tokio::test]
async fn the_waker_wakes_readers_after_its_shard_restarts() {
    let mut settings = project_databases().await;
    let mut cluster = region_on_own_cluster(&mut settings, "maseru").await;
    let shards = shards(&settings);
    let maseru = shards.get("maseru").unwrap();
    let wake = Wake::spawn(shards.iter());
    let mut rx = wake.subscribe();
    news_of(&mut rx, "maseru", 10).await; // listening
    let url = maseru.settings.database_url.expose().to_owned();
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let mark = changes::head(maseru).await.unwrap();
    insert_patient(&db, "Berea").await;
    news_of(&mut rx, "maseru", 10).await;
    db.close().await;

    cluster.kill().unwrap();
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    // A write the waker could not have heard of (it may not be listening yet).
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let missed = insert_patient(&db, "Berea").await;
    news_of(&mut rx, "maseru", 20).await;
    let (events, _) = read_until(maseru, mark, |e| e.iter().any(|e| e.entity_id == missed)).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    db.close().await;
    drop(wake);
    cluster.stop().unwrap();
}
