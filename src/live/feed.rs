//! A client's stream of events from a cursor, without loss or repeats: it listens to the
//! hub FIRST, then catches up from the log (`changes::read` after each region's mark),
//! then goes live, skipping every live event at or before the mark it has delivered
//! (the seam). Nothing falls between: the hub's position when the feed started listening
//! is a horizon some read saw, and horizons only grow, so the catch-up (which reads up to
//! a later horizon) overlaps what the hub broadcasts from then on. A feed that falls too
//! far behind the hub (`Lagged`) catches up from the log again, the same way.

use super::hub::{Delivery, Hub};
use crate::app::App;
use crate::changes::{self, Cursor, Mark, Read, Reset};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const BATCH: u32 = 500;

pub struct Feed {
    hub: Hub,
    cursor: Cursor,
    live: broadcast::Receiver<Arc<Delivery>>,
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
        let mut cursor = Cursor::new();
        for (region, mark) in hub.heads() {
            cursor.set(&region, mark);
        }
        Feed::with(hub, cursor, live, false)
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
        Ok(Feed::with(hub, cursor, live, true))
    }

    fn with(
        hub: &Hub,
        cursor: Cursor,
        live: broadcast::Receiver<Arc<Delivery>>,
        behind: bool,
    ) -> Feed {
        Feed {
            hub: hub.clone(),
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
            Ok(d) => {
                let seen = self
                    .cursor
                    .get(&d.event.region)
                    .is_some_and(|m| m.epoch == d.mark.epoch && d.mark.position <= m.position);
                if seen {
                    return Got::Again;
                }
                self.cursor.set(&d.event.region, d.mark);
                Got::Step(Step::Event((*d).clone()))
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                self.behind = true;
                Got::Again
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
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
                        match self.hub.head(&region).or(changes::head(shard).await.ok()) {
                            Some(head) => mark = head,
                            None => break,
                        }
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
