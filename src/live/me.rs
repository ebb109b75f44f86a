//! `user:me`: the user's own notifications, pushed as they are created or read on any
//! device (so every open screen's badge agrees). They come from the central database
//! through [`crate::notices`]' in-process broadcast, not from a shard's change log, so
//! they carry no change cursor: a client that reconnects subscribes to `user:me` FIRST and
//! then re-reads `GET /api/v1/notifications`, which is also what a `reset` with reason
//! `lagged` asks. In that order nothing is lost: a notification pushed before the
//! subscription had committed before its push was published (the push is read back from
//! the database), so before the re-read; one pushed after it arrives on the socket (and
//! may also be in the list: apply by ID). The long-poll, with no socket to push to, reads
//! by position instead ([`super::me_poll`]).

use super::ws::Outbox;
use crate::notices::{Notices, Pushed};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

/// Forwards `username`'s pushes to the socket until aborted.
pub fn follow(notices: &Notices, username: String, outbox: Outbox) -> JoinHandle<()> {
    let mut pushes = notices.subscribe();
    tokio::spawn(async move {
        loop {
            match pushes.recv().await {
                Ok((user, pushed)) if *user == *username => outbox.push(&frame(&pushed)),
                Ok(_) => {}
                // Missed pushes cannot be replayed from here: the list can be re-read.
                Err(RecvError::Lagged(_)) => outbox.push(&json!({
                    "type": "reset", "topic": "user:me", "reason": "lagged",
                })),
                Err(RecvError::Closed) => return,
            }
        }
    })
}

/// `{"type": "event", "topic": "user:me", "kind": "notification" | "notifications_read",
/// "data": ...}`.
pub(super) fn frame(pushed: &Pushed) -> serde_json::Value {
    let kind = match pushed {
        Pushed::Created { .. } => "notification",
        Pushed::Read { .. } => "notifications_read",
    };
    json!({"type": "event", "topic": "user:me", "kind": kind, "data": pushed})
}
