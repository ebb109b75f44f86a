//! A client's stream of events from a cursor, without loss or repeats: it listens to the
//! hub FIRST, then catches up from the log (`changes::read` after each region's mark),
//! then goes live, skipping every live event at or before the mark it has delivered
//! (the seam). Nothing falls between: the hub's position when the feed started listening
//! is a horizon some read saw, and horizons only grow, so the catch-up (which reads up to
//! a later horizon) overlaps what the hub broadcasts from then on. A feed that falls too
//! far behind the hub (`Lagged`) catches up from the log again, the same way.
//!
//! # When the hub starts a region over
//!
//! On [`Live::Restart`] (the region's log has a new epoch, or was pruned past the hub:
//! see [`super::hub`]) a feed whose mark of the region is of another epoch than the
//! hub's new head (or that has none) is reset: its mark becomes that head and the client
//! reloads. Any other feed, and any feed handed a live event of an epoch its mark is not
//! of, lets the log judge: it catches up from its marks, which either resume or end in a
//! reset. The head a reset hands out is the log's own (read after the reset, or the
//! hub's new head), never the hub's memory of an older epoch.

use super::hub::{Delivery, Hub, Live};
use crate::app::App;
use crate::changes::{self, Cursor, Mark, Read, Reset};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const BATCH: u32 = 500;

pub struct Feed {
    cursor: Cursor,
    live: broadcast::Receiver<Arc<Live>>,
    pending: VecDeque<Delivery>,
    /// Marks reached by the catch-up, applied once its events are delivered.
    reached: Vec<(String, Mark)>,
    behind: bool,
}

pub enum Step {
    Event(Delivery),
    Reset(Reset),
}

/// One step of a feed: a step for the client, one more to take, or nothing ready.
enum Got {
    Step(Step),
    Again,
    Nothing,
}

impl Feed {
    /// From each region's latest head: only what happens next.
    pub fn from_now(hub: &Hub) -> Feed {
        let live = hub.subscribe();
        Feed::with(Cursor::at(hub.heads()), live, false)
    }

    /// From a cursor a client holds; regions it does not name are read from now.
    pub fn resume(hub: &Hub, app: &App, raw: &str) -> Result<Feed, Reset> {
        let live = hub.subscribe();
        let known = |r: &str| app.shards.get(r).is_some();
        let mut cursor = Cursor::open(raw, &app.cursor_key, known)?;
        for (region, mark) in hub.heads() {
            if cursor.get(&region).is_none() {
                cursor.set(&region, mark);
            }
        }
        Ok(Feed::with(cursor, live, true))
    }

    fn with(cursor: Cursor, live: broadcast::Receiver<Arc<Live>>, behind: bool) -> Feed {
        Feed {
            cursor,
            live,
            pending: VecDeque::new(),
            reached: Vec::new(),
            behind,
        }
    }

    /// Where the cursor says the user's notifications were read through (`user:me`).
    pub fn notices(&self) -> Option<u64> {
        self.cursor.notices()
    }

    pub fn set_notices(&mut self, horizon: u64) {
        self.cursor.set_notices(horizon);
    }

    /// The cursor after everything delivered so far, sealed for the client.
    pub fn cursor(&self, app: &App) -> String {
        self.cursor.seal(&app.cursor_key)
    }

    /// The next event, in order per region; or a reset when a region cannot resume (the
    /// feed then goes on from that region's head).
    pub async fn next(&mut self, app: &App) -> Step {
        loop {
            if let Got::Step(step) = self.step(app, true).await {
                return step;
            }
        }
    }

    /// As [`Feed::next`], but None instead of waiting for the hub: what the long-poll
    /// adds to an answer once it has one event. (A catch-up still reads the log.)
    pub async fn ready(&mut self, app: &App) -> Option<Step> {
        loop {
            match self.step(app, false).await {
                Got::Step(step) => return Some(step),
                Got::Again => continue,
                Got::Nothing => return None,
            }
        }
    }

    async fn step(&mut self, app: &App, wait: bool) -> Got {
        if let Some(d) = self.pending.pop_front() {
            self.cursor.set(&d.event.region, d.mark);
            return Got::Step(Step::Event(d));
        }
        for (region, mark) in self.reached.drain(..) {
            self.cursor.set(&region, mark);
        }
        if self.behind {
            self.behind = false;
            return match self.catch_up(app).await {
                Err(reset) => Got::Step(Step::Reset(reset)),
                // Its events, if any, are pending now.
                Ok(()) => Got::Again,
            };
        }
        let received = if wait {
            self.live.recv().await
        } else {
            match self.live.try_recv() {
                Ok(d) => Ok(d),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Err(broadcast::error::RecvError::Lagged(n))
                }
                Err(_) => return Got::Nothing,
            }
        };
        match received {
            Ok(live) => match &*live {
                Live::Event(d) => self.live_event(d),
                Live::Restart {
                    region,
                    head,
                    reason,
                } => self.restart(region, *head, *reason),
            },
            Err(broadcast::error::RecvError::Lagged(_)) => {
                self.behind = true;
                Got::Again
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }

    /// A live event: new, already seen (at or before the mark), or of an epoch the mark
    /// is not of (the hub read it before the log changed, or the feed missed a restart):
    /// then the log judges the marks.
    fn live_event(&mut self, d: &Delivery) -> Got {
        match self.cursor.get(&d.event.region) {
            Some(m) if m.epoch != d.mark.epoch => {
                self.behind = true;
                Got::Again
            }
            Some(m) if d.mark.position <= m.position => Got::Again,
            _ => {
                self.cursor.set(&d.event.region, d.mark);
                Got::Step(Step::Event(d.clone()))
            }
        }
    }

    /// The hub starts `region` over at `head` (see the module header).
    fn restart(&mut self, region: &str, head: Mark, reason: Reset) -> Got {
        match self.cursor.get(region) {
            Some(m) if m.epoch == head.epoch => {
                self.behind = true;
                Got::Again
            }
            held => {
                let reason = if held.is_some() {
                    Reset::OtherEpoch
                } else {
                    reason
                };
                self.cursor.set(region, head);
                Got::Step(Step::Reset(reason))
            }
        }
    }

    /// Reads every region's log after the cursor into `pending`. A region that cannot be
    /// read is retried (its events must come before its live ones); one that cannot
    /// resume restarts at its head and is reported.
    async fn catch_up(&mut self, app: &App) -> Result<(), Reset> {
        let marks: Vec<(String, Mark)> = self
            .cursor
            .regions()
            .map(|(r, m)| (r.to_owned(), *m))
            .collect();
        let mut reset = None;
        for (region, mut mark) in marks {
            let Some(shard) = app.shards.get(&region) else {
                continue;
            };
            loop {
                match changes::read(shard, &mark, BATCH).await {
                    Ok(Read::Batch(batch)) => {
                        let full = batch.events.len() as u32 >= BATCH;
                        for event in batch.events {
                            let at = Mark {
                                epoch: mark.epoch,
                                position: event.position,
                            };
                            self.pending.push_back(Delivery { event, mark: at });
                        }
                        mark = batch.next;
                        if !full {
                            break;
                        }
                    }
                    Ok(Read::Reset(r)) => {
                        reset = Some(r);
                        mark = fresh_head(shard).await;
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
            self.reached.push((region, mark));
        }
        match reset {
            Some(r) => {
                // The client reloads: what was caught up is moot, the heads are not.
                self.pending.clear();
                for (region, mark) in self.reached.drain(..) {
                    self.cursor.set(&region, mark);
                }
                Err(r)
            }
            None => Ok(()),
        }
    }
}

/// The log's head, read from the log itself (the hub's may still be of the epoch it
/// last read): what a reset hands out. Tried until the region answers.
async fn fresh_head(shard: &crate::shards::Shard) -> Mark {
    loop {
        match changes::head(shard).await {
            Ok(head) => return head,
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}
