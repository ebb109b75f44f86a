//! The change log of every shard, read by cursor: the foundation of real time. Triggers
//! (`migrations/shard/0007_change_log.sql`) append one event per changed row of patients,
//! observations and alerts in the writing transaction, whoever writes (hmis or pgAdmin);
//! NOTIFY on `hmis_changes` only wakes readers ([`Wake`]), who then [`read`] the log from
//! their [`Mark`]. Events carry IDs, kinds and the region, never a copy of the record.
//!
//! # Why no event is skipped
//!
//! Every event carries its writing transaction's ID, and a read returns only events whose
//! xid is below the horizon `pg_snapshot_xmin(pg_current_snapshot())` of its own snapshot,
//! where every transaction with a lower xid has finished (committed and visible, or aborted
//! and never to be): so the events a read can return form a final set that nothing will
//! join later. The read returns them in (xid, seq) order after the cursor's (xid, seq), so
//! the cursor only ever moves across a prefix of that final order. An event not yet visible
//! to a read belongs to a transaction still running or not yet begun, whose xid is at or
//! above the horizon and so above every xid delivered: it sorts after the cursor and the
//! next read returns it. (A plain serial fails exactly here: a transaction that drew number
//! 7 and commits after 8 was read is skipped; here 8 is not delivered while 7's transaction
//! runs.) The price: one long-running writing transaction on the cluster holds every
//! reader back until it ends (`idle_in_transaction_session_timeout` bounds a forgotten
//! pgAdmin session). The test `every_committed_event_is_read_once_whatever_the_commit_order`
//! drives eight writers committing in random orders against a polling reader.
//!
//! # The head, for "fetch, then subscribe"
//!
//! [`head`] is the position `(horizon, 0)`. Taken BEFORE a REST read (or in the same
//! snapshot), it loses nothing: a change the data does not show was not committed when
//! the data was read, so not when the head was taken either; its transaction was then
//! running (xid at or above that horizon) or had no xid yet (it gets one above every xid
//! handed out, so above the horizon). Either way it sorts at or after the head. A change
//! committed between head and data may come twice (in the data and as an event): clients
//! apply events idempotently (they name records, and the record is read again).
//!
//! # Retention
//!
//! [`prune`] deletes a prefix of the log older than the retention and records the last
//! position it deleted; a mark below it is [`Reset::Expired`], never served a gap.

mod cursor;
mod log;
mod prune;
mod wake;

pub use cursor::{Cursor, LogState, Mark, Position, Reset, resume};
pub use log::{READ_SQL, head, prune, read};
pub use prune::spawn_pruner;
pub use wake::{News, Wake, news_or_poll};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// What happened to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Insert,
    Update,
    /// Deleted, or soft-deleted (a patient's `deleted_at` set).
    Delete,
}

/// One change: which record, of which patient, how. No copy of the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    #[serde(skip)]
    pub position: Position,
    pub region: String,
    /// `patient`, `observation`, `alert`; later entities add theirs.
    pub kind: String,
    pub entity_id: Uuid,
    /// The patient the record belongs to, for topics `patient:<id>`.
    pub patient_id: Option<Uuid>,
    pub op: Op,
    pub at: DateTime<Utc>,
}

/// Events in reading order, and the mark to read on from.
#[derive(Debug, Clone)]
pub struct Batch {
    pub events: Vec<Event>,
    pub next: Mark,
}

/// What a read after a mark answers.
#[derive(Debug, Clone)]
pub enum Read {
    Batch(Batch),
    /// The mark cannot resume: the client must reload.
    Reset(Reset),
}
