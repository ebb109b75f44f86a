//! Users' notifications: stored per user in the central database, generated from the
//! regions' change logs, pushed to this process's subscribers.
//!
//! # Why generation reads the change log
//!
//! A critical vital sign must notify each of the region's clinicians once, however many
//! hmis processes run, and also when it was written while no process ran, or in pgAdmin.
//! The shards' `alerts_notify` NOTIFY reaches every process (so each would insert) and is
//! lost while nobody listens. The change log (`crate::changes`) is durable, seen by every
//! process, and read by cursor without skipping late commits. So each process reads each
//! region's log from a position kept in the central database (`notice_positions`), and
//! inserts the notifications of what it read AND advances that position in one central
//! transaction. The position's row lock makes processes take turns per region; the unique
//! key (source, user) with `ON CONFLICT DO NOTHING` makes a repeat harmless anyway (e.g.
//! a batch read again after a commit whose answer was lost).
//!
//! # Live push
//!
//! Every insert and every "read" sends a [`Note::Notice`]/[`Note::NoticesRead`] on
//! [`NOTICES_CHANNEL`] in its transaction (delivered at commit, to every process). Each
//! process listens ([`listen`]) and republishes them on an in-process broadcast of
//! `(username, Pushed)` for its WebSocket subscribers of `user:me`; a read carries the new
//! unread count, so reading on one device clears the badge on the others.
//!
//! # The long-poll
//!
//! A push cannot reach a client between two long-polls, and the pushes of another process
//! never reach it at all; so the long-poll reads `user:me` by position instead, the
//! transaction IDs of the rows ([`since`], where the proof is): a push only wakes it.
//!
//! [`Note::Notice`]: crate::domain::notify::Note::Notice
//! [`Note::NoticesRead`]: crate::domain::notify::Note::NoticesRead
//! [`NOTICES_CHANNEL`]: crate::domain::notify::NOTICES_CHANNEL

mod generate;
mod listen;
pub mod since;
pub mod store;
mod text;

pub use generate::spawn_generators;
pub use listen::listen;
pub use store::{Kind, Notification};

use serde::Serialize;
use std::sync::Arc;
use tokio::sync::broadcast;

/// What a subscriber of `user:<name>` is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Pushed {
    /// A new notification, and the user's unread count with it.
    Created {
        notification: Notification,
        unread: i64,
    },
    /// Notifications were marked read (on any device): the new unread count.
    Read { unread: i64 },
}

/// One push: whose, and what.
pub type Push = (Arc<str>, Pushed);

/// Pushes waiting for a slow subscriber; beyond it the subscriber gets `Lagged` and should
/// read `GET /api/v1/notifications` again.
const BACKLOG: usize = 1024;

/// This process's broadcast of pushes. Cloning shares it.
#[derive(Clone)]
pub struct Notices {
    pushes: broadcast::Sender<Push>,
}

impl Default for Notices {
    fn default() -> Self {
        Notices {
            pushes: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Notices {
    /// Pushes from now on, of every user: the subscriber keeps those of its user.
    pub fn subscribe(&self) -> broadcast::Receiver<Push> {
        self.pushes.subscribe()
    }

    fn publish(&self, push: Push) {
        // Nobody subscribed is no error.
        let _ = self.pushes.send(push);
    }
}
