//! `user:me` on the long-poll: the user's notifications read by position from the central
//! database ([`crate::notices::since`], where the proof that none is skipped is), not
//! pushed, since between two requests there is nobody to push to and another process's
//! pushes never reach this one. Pushes only wake the wait. The position travels in the
//! answer's cursor (its `n`), so any process resumes it; a cursor without one starts from
//! the central horizon at the first read (a `X-Hmis-Cursor` of `GET
//! /api/v1/notifications` has one: fetch the list, then follow from its cursor).
//!
//! The subscription to pushes is made BEFORE each read: a notification whose push came
//! before it had committed before the read's snapshot, so the read sees it (returned, or
//! beyond the horizon and `held`, which re-reads each second until it is not).

use crate::notices::since::{self, Since};
use crate::notices::{Notices, Push};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// How soon a read is repeated while rows beyond its horizon wait for an older transaction.
const HELD: Duration = Duration::from_secs(1);

pub struct MePoll {
    user: Uuid,
    name: String,
    position: Option<u64>,
    pushes: broadcast::Receiver<Push>,
    held: bool,
}

impl MePoll {
    pub fn new(notices: &Notices, user: Uuid, name: &str, position: Option<u64>) -> MePoll {
        MePoll {
            user,
            name: name.to_owned(),
            position,
            pushes: notices.subscribe(),
            held: false,
        }
    }

    /// Where the next request goes on from.
    pub fn position(&self) -> Option<u64> {
        self.position
    }

    /// The frames after the position (moving it past them); none when the central
    /// database cannot be read now (the position stays: read again later).
    pub async fn read(&mut self, central: &PgPool) -> Vec<Value> {
        // Pushes from now on wake the next wait: see the module header.
        self.pushes = self.pushes.resubscribe();
        let Some(from) = self.position else {
            if let Ok(h) = since::horizon(central).await {
                self.position = Some(h);
            }
            return Vec::new();
        };
        let read = match since::since(central, self.user, from).await {
            Ok(read) => read,
            Err(e) => {
                tracing::debug!(error = %e, "user:me not read");
                self.held = true;
                return Vec::new();
            }
        };
        self.position = Some(read.next);
        self.held = read.held;
        match read.since {
            Since::Lagged => vec![json!({"type": "reset", "topic": "user:me", "reason": "lagged"})],
            Since::Pushes(pushes) => pushes.iter().map(super::me::frame).collect(),
        }
    }

    /// After a [`MePoll::read`] that found nothing: waits for news and reads, until there
    /// is something to answer (the caller bounds it with its deadline). The read before
    /// subscribed to pushes, so news since it wakes the first wait.
    pub async fn next(&mut self, central: &PgPool) -> Vec<Value> {
        loop {
            self.wait().await;
            let frames = self.read(central).await;
            if !frames.is_empty() {
                return frames;
            }
        }
    }

    /// Until a push of this user (or any, if pushes were missed), or a second while rows
    /// are held back or the position is unknown.
    async fn wait(&mut self) {
        let soon = self.held || self.position.is_none();
        let pushed = async {
            loop {
                match self.pushes.recv().await {
                    Ok((user, _)) if *user == *self.name => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                }
            }
        };
        if soon {
            let _ = tokio::time::timeout(HELD, pushed).await;
        } else {
            pushed.await;
        }
    }
}
