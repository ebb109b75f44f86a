//! One in-process reader per region, woken by [`changes::Wake`] (and once a second, since
//! an event held back below the horizon by an older transaction gets no NOTIFY of its
//! own when that transaction ends), fanning every event out to this process's feeds
//! through one broadcast channel. It also keeps each region's latest head in memory, for
//! the `X-Hmis-Cursor` of REST reads without a database round trip.
//!
//! # A new epoch, or a log pruned past the reader
//!
//! When a region's log can no longer be read on from the hub's mark (its epoch changed:
//! the log was recreated or restored; or it was pruned past the mark), the events of the
//! new log before the hub's next head are not broadcast: "the new epoch's start" is not a
//! position anyone can name (a restored log holds the backup's events, a recreated one may
//! hold anything). So the hub answers with an explicit reset instead: it takes the log's
//! head `h` at once, makes `h` the region's head (so every cursor sealed from the heads
//! from then on is of the new log), THEN broadcasts [`Live::Restart`] with `h`, and reads
//! on from `h`. Nothing is lost, because every feed ([`super::feed`]) hears of it:
//!
//! - a feed listening before the restart was broadcast receives it before any event
//!   after `h` (one channel, in order), or lags and re-reads the log from its own marks,
//!   where the log itself judges them (`changes::resume`);
//! - on the restart a feed whose mark of the region is of another epoch than `h` is reset
//!   explicitly, its cursor set to `h`: the client reloads after `h` was taken, so its
//!   data shows everything before `h` (`changes::head`), and the hub broadcasts
//!   everything after `h`;
//! - a feed whose mark is of `h`'s epoch (it read the new log itself, or took the heads
//!   after they moved; or the log was restored under the same epoch ID) re-reads the log
//!   from that mark, which either resumes (then everything after the mark comes, from the
//!   log up to a horizon at or past `h`, then live) or is reset by the log with a head
//!   read from it;
//! - a feed that starts listening after the broadcast reads the heads after they moved:
//!   its marks of the region are `h` or later, or are checked against the log.
//!
//! Until the hub's next read (at most [`POLL`], sooner on a NOTIFY) the heads are those
//! of the epoch it last read: a cursor sealed then is reset explicitly wherever it is
//! used (by the log, or by the restart), never served a gap.

use crate::app::App;
use crate::changes::{self, Event, Mark, News, Read, Reset, Wake};
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

/// What the hub broadcasts to the feeds.
#[derive(Debug, Clone)]
pub enum Live {
    Event(Delivery),
    /// `region`'s log could not be read on (`reason`); the hub starts again at `head`,
    /// already the region's head: nothing before it will be broadcast (module header).
    Restart {
        region: Arc<str>,
        head: Mark,
        reason: Reset,
    },
}

type Heads = Arc<RwLock<BTreeMap<String, Mark>>>;

/// Heads as one read saw them, and their sealed cursor: see [`Hub::sealed_heads`].
#[derive(Clone)]
pub struct Stamp {
    pub heads: Arc<BTreeMap<String, Mark>>,
    pub token: Arc<str>,
}

/// The last heads sealed into a cursor.
type Sealed = Arc<parking_lot::Mutex<Option<Stamp>>>;

/// The process's readers; cloning shares them, [`Hub::stop`] ends them.
#[derive(Clone)]
pub struct Hub {
    events: broadcast::Sender<Arc<Live>>,
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
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Live>> {
        self.events.subscribe()
    }

    /// Every region's position as of the hub's latest read (regions it has not read yet
    /// are missing: a cursor without them reads them from when it is used).
    pub fn heads(&self) -> BTreeMap<String, Mark> {
        self.heads.read().clone()
    }

    /// The heads and their token sealed by `seal`, sealed again only when the heads have
    /// moved: every read between two changes gets the same token, so a read costs a
    /// comparison of a few marks, not an encryption (sealing was 6 % of a read by ID's CPU
    /// in hmis). The heads come with it, for a read that must seal more than the heads.
    pub fn sealed_heads(&self, seal: impl FnOnce(&BTreeMap<String, Mark>) -> String) -> Stamp {
        let heads = self.heads.read();
        let mut sealed = self.sealed.lock();
        if let Some(stamp) = sealed.as_ref()
            && *stamp.heads == *heads
        {
            return stamp.clone();
        }
        let stamp = Stamp {
            token: seal(&heads).into(),
            heads: Arc::new(heads.clone()),
        };
        *sealed = Some(stamp.clone());
        stamp
    }
}

async fn read_forever(
    app: Weak<App>,
    region: Arc<str>,
    mut news: broadcast::Receiver<News>,
    events: broadcast::Sender<Arc<Live>>,
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
            Some(from) => match read_on(shard, from, &events).await {
                Ok(next) => Some(next),
                // Until a head is had, the old mark: the next read resets again.
                Err(reason) => restart(shard, &region, reason, &events, &heads)
                    .await
                    .or(Some(from)),
            },
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

/// Starts `region` again at its log's head: the head first, then the broadcast (see the
/// module header for why in this order). None when the head cannot be read.
async fn restart(
    shard: &crate::shards::Shard,
    region: &Arc<str>,
    reason: Reset,
    events: &broadcast::Sender<Arc<Live>>,
    heads: &Heads,
) -> Option<Mark> {
    let head = changes::head(shard).await.ok()?;
    tracing::warn!(
        region = shard.name(),
        ?reason,
        "change hub starts over; feeds reset"
    );
    heads.write().insert(region.to_string(), head);
    let _ = events.send(Arc::new(Live::Restart {
        region: region.clone(),
        head,
        reason,
    }));
    Some(head)
}

/// Reads everything after `from` and broadcasts it; the mark to read on from, or why
/// `from` cannot resume (the log was recreated or pruned past us).
async fn read_on(
    shard: &crate::shards::Shard,
    mut from: Mark,
    events: &broadcast::Sender<Arc<Live>>,
) -> Result<Mark, Reset> {
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
                    let _ = events.send(Arc::new(Live::Event(Delivery { event, mark })));
                }
                from = batch.next;
                if !full {
                    return Ok(from);
                }
            }
            Ok(Read::Reset(reset)) => return Err(reset),
            Err(e) => {
                tracing::debug!(region = shard.name(), error = %e, "change hub cannot read");
                return Ok(from);
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
