//! The change cursor a client holds: for each region it has read, the epoch of that
//! region's log and the position read through. Pure: no I/O, so every answer a cursor can
//! get is unit-tested here; [`super::read`] asks [`resume`] with the log's state taken in
//! the same snapshot as the events.
//!
//! Opaque and sealed with the list cursors' key ([`Key::seal_for`], XChaCha20-Poly1305)
//! under a context of its own, so a client can neither read nor forge a position, and a
//! list cursor is no change cursor. A cursor that cannot resume is never served a gap: it
//! gets a [`Reset`] with the reason, and the client reloads.

use crate::fanout::cursor::Key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Binds sealed change cursors to their use (the list cursors have their own).
const CONTEXT: &[u8] = b"hmis change cursor v1";
const VERSION: u8 = 1;

/// A place in one region's log: after the event (xid, seq), in the order readers read.
/// `(x, 0)` is "before every event of transaction x" (seq starts at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    /// The writing transaction's full ID (`xid8`).
    #[serde(rename = "x")]
    pub xid: u64,
    #[serde(rename = "s")]
    pub seq: i64,
}

/// A position in one incarnation of a region's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    #[serde(rename = "e")]
    pub epoch: Uuid,
    #[serde(flatten)]
    pub position: Position,
}

/// A region's log as a reader finds it: what a [`Mark`] is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    pub epoch: Uuid,
    /// The last event pruned: a mark below it missed events that are gone.
    pub pruned: Position,
    /// The first transaction ID not yet handed out: no genuine mark is beyond it.
    pub next_xid: u64,
}

/// Why a cursor cannot resume; the client must reload what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reset {
    /// Not a cursor hmis sealed, or altered.
    Tampered,
    /// The region's log was recreated (or restored from a backup) since.
    OtherEpoch,
    /// Older than the retention: events it did not see were pruned.
    Expired,
    /// It names a region this deployment does not have.
    UnknownRegion,
}

impl Reset {
    /// The reason's word, as clients will see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reset::Tampered => "tampered",
            Reset::OtherEpoch => "other-epoch",
            Reset::Expired => "expired",
            Reset::UnknownRegion => "unknown-region",
        }
    }
}

/// Every region's mark. A region it does not name is read from now ([`super::head`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    v: u8,
    #[serde(rename = "r")]
    regions: BTreeMap<String, Mark>,
    /// The central horizon the user's notifications were read through (`user:me` on the
    /// long-poll, `crate::notices::since`); none: from when the cursor is used.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    notices: Option<u64>,
}

impl Cursor {
    pub fn new() -> Cursor {
        Cursor {
            v: VERSION,
            regions: BTreeMap::new(),
            notices: None,
        }
    }

    /// A cursor at each region's head.
    pub fn at(heads: BTreeMap<String, Mark>) -> Cursor {
        Cursor {
            regions: heads,
            ..Cursor::new()
        }
    }

    /// Where the user's notifications were read through, if the cursor says.
    pub fn notices(&self) -> Option<u64> {
        self.notices
    }

    pub fn set_notices(&mut self, horizon: u64) {
        self.notices = Some(horizon);
    }

    /// The mark of `region`; None means "start from now".
    pub fn get(&self, region: &str) -> Option<&Mark> {
        self.regions.get(region)
    }

    pub fn set(&mut self, region: &str, mark: Mark) {
        self.regions.insert(region.to_owned(), mark);
    }

    pub fn regions(&self) -> impl Iterator<Item = (&str, &Mark)> {
        self.regions.iter().map(|(r, m)| (r.as_str(), m))
    }

    /// The cursor as a client holds it: URL-safe base64, sealed.
    pub fn seal(&self, key: &Key) -> String {
        let plain = serde_json::to_vec(self).expect("a cursor serializes");
        key.seal_for(CONTEXT, &plain)
    }

    /// Opens a cursor this deployment sealed, naming only regions it knows.
    pub fn open(raw: &str, key: &Key, known: impl Fn(&str) -> bool) -> Result<Cursor, Reset> {
        let plain = key.open_for(CONTEXT, raw).ok_or(Reset::Tampered)?;
        let cursor: Cursor = serde_json::from_slice(&plain).map_err(|_| Reset::Tampered)?;
        if cursor.v != VERSION {
            return Err(Reset::Tampered);
        }
        if cursor.regions.keys().any(|r| !known(r)) {
            return Err(Reset::UnknownRegion);
        }
        Ok(cursor)
    }
}

/// Whether reading may continue after `mark` in a log found in `state`.
pub fn resume(mark: &Mark, state: &LogState) -> Result<(), Reset> {
    // A position beyond every transaction ID handed out comes from a log this one is not
    // (a backup restored, a database copied to another server): its epoch in all but name.
    if mark.epoch != state.epoch || mark.position.xid > state.next_xid {
        return Err(Reset::OtherEpoch);
    }
    if mark.position < state.pruned {
        return Err(Reset::Expired);
    }
    Ok(())
}

#[cfg(test)]
#[path = "cursor_tests.rs"]
mod tests;
