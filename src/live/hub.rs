//! One in-process reader per region, woken by [`changes::Wake`] (and once a second, since
//! an event held back below the horizon by an older transaction gets no NOTIFY of its
//! own when that transaction ends), fanning every event out to this process's feeds
//! through one broadcast channel. It also keeps each region's latest head in memory, for
//! the `X-Hmis-Cursor` of REST reads without a database round trip.

use crate::app::App;
use crate::changes::{self, Event, Mark, News, Read, Wake};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// Events waiting for the slowest feed; beyond it the feed re-reads the log.
const BACKLOG: usize = 4096;
const BATCH: u32 = 500;
const POLL: Duration = Duration::from_secs(1);

/// One event as the hub read it, with the region's mark after it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: Event,
    pub mark: Mark,
}

type Heads = Arc<RwLock<BTreeMap<String, Mark>>>;

/// The last heads sealed into a cursor, and the token: see [`Hub::sealed_heads`].
type Sealed = Arc<parking_lot::Mutex<Option<(BTreeMap<String, Mark>, Arc<str>)>>>;

/// The process's readers; cloning shares them, [`Hub::stop`] ends them.
#[derive(Clone)]
pub struct Hub {
    events: broadcast::Sender<Arc<Delivery>>,
    heads: Heads,
    sealed: Sealed,
    tasks: Arc<Vec<JoinHandle<()>>>,
}

impl Hub {
    /// Starts a reader per region. Each ends with `wake` or the `App`.
    pub fn start(app: &Arc<App>, wake: &Wake) -> Hub {
        let (events, _) = broadcast::channel(BACKLOG);
        let heads: Heads = Arc::default();
        let tasks = app
            .shards
            .iter()
            .map(|shard| {
                let region: Arc<str> = shard.name().into();
                let (app, news) = (Arc::downgrade(app), wake.subscribe());
                tokio::spawn(read_forever(
                    app,
                    region,
                    news,
                    events.clone(),
                    heads.clone(),
                ))
            })
            .collect();
        Hub {
            events,
            heads,
            sealed: Sealed::default(),
            tasks: Arc::new(tasks),
        }
    }

    pub fn stop(&self) {
        for task in self.tasks.iter() {
            task.abort();
        }
    }

    /// Events read from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Delivery>> {
        self.events.subscribe()
    }

    /// Every region's position as of the hub's latest read (regions it has not read yet
    /// are missing: a cursor without them reads them from when it is used).
    pub fn heads(&self) -> BTreeMap<String, Mark> {
        self.heads.read().clone()
    }

    /// The heads sealed by `seal`, sealed again only when they have moved: every read
    /// between two changes gets the same token, so a read costs a comparison of a few
    /// marks, not an encryption (sealing was 6 % of a read by ID's CPU in hmis).
    pub fn sealed_heads(&self, seal: impl FnOnce(&BTreeMap<String, Mark>) -> String) -> Arc<str> {
        let heads = self.heads.read();
        let mut sealed = self.sealed.lock();
        if let Some((at, token)) = sealed.as_ref()
            && *at == *heads
        {
            return token.clone();
        }
        let token: Arc<str> = seal(&heads).into();
        *sealed = Some((heads.clone(), token.clone()));
        token
    }

    pub fn head(&self, region: &str) -> Option<Mark> {
        self.heads.read().get(region).copied()
    }
}

async fn read_forever(
    app: Weak<App>,
    region: Arc<str>,
    mut news: broadcast::Receiver<News>,
    events: broadcast::Sender<Arc<Delivery>>,
    heads: Heads,
) {
    let mut mark: Option<Mark> = None;
    loop {
        let Some(a) = app.upgrade() else { return };
        let Some(shard) = a.shards.get(&region) else {
            return;
        };
        mark = match mark {
            None => changes::head(shard).await.ok(),
            Some(from) => read_on(shard, from, &events).await,
        };
        if let Some(m) = mark {
            heads.write().insert(region.to_string(), m);
        }
        drop(a);
        // Until this region has news, or the poll is due.
        if !changes::news_or_poll(&mut news, &region, POLL).await {
            return;
        }
    }
}

/// Reads everything after `from` and broadcasts it; the mark to read on from (None: the
/// log was recreated or pruned past us; start again from its head).
async fn read_on(
    shard: &crate::shards::Shard,
    mut from: Mark,
    events: &broadcast::Sender<Arc<Delivery>>,
) -> Option<Mark> {
    loop {
        match changes::read(shard, &from, BATCH).await {
            Ok(Read::Batch(batch)) => {
                record_lag(shard.name(), batch.events.first());
                let full = batch.events.len() as u32 >= BATCH;
                for event in batch.events {
                    let mark = Mark {
                        epoch: from.epoch,
                        position: event.position,
                    };
                    // No feed listening is no error.
                    let _ = events.send(Arc::new(Delivery { event, mark }));
                }
                from = batch.next;
                if !full {
                    return Some(from);
                }
            }
            Ok(Read::Reset(reset)) => {
                tracing::warn!(region = shard.name(), ?reset, "change hub starts over");
                return None;
            }
            Err(e) => {
                tracing::debug!(region = shard.name(), error = %e, "change hub cannot read");
                return Some(from);
            }
        }
    }
}

/// The age of the oldest event not read before this read (0 when there was none): how
/// far behind the region's subscribers are.
fn record_lag(region: &str, oldest: Option<&Event>) {
    let lag = oldest.map_or(0.0, |e| {
        (chrono::Utc::now() - e.at).num_milliseconds().max(0) as f64 / 1000.0
    });
    metrics::gauge!(crate::telemetry::CHANGE_LAG, "region" => region.to_owned()).set(lag);
}
