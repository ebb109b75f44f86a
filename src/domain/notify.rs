//! Every NOTIFY payload hmis sends or reads, as one typed vocabulary, encoded and decoded
//! here and nowhere else. Payloads are JSON objects tagged by `kind`, the same shape the
//! shards' triggers build with `json_build_object` (alerts), so that what a trigger sends
//! and what hmis sends decode the same way, and the real-time layer builds on one type.
//!
//! Four channels carry them: [`AUTH_CHANNEL`] on the central database (caches every
//! process must drop: sessions, users, policy, forwarding), [`NOTICES_CHANNEL`] on the
//! central database (a user's notifications changed), [`EVENTS_CHANNEL`] on each shard
//! (what clinicians watch: alerts, transfers) and [`CHANGES_CHANNEL`] on each shard (its
//! change log has news). A payload of a kind hmis does not know is a
//! [`DecodeError`] for the listener to log, never a panic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The central database's channel: every process drops what it cached.
pub const AUTH_CHANNEL: &str = "hmis_auth";
/// The central database's channel for users' notifications (`src/notices/`): kept apart
/// from [`AUTH_CHANNEL`] so that a busy ward does not queue behind cache invalidations.
pub const NOTICES_CHANNEL: &str = "hmis_notices";
/// Each shard's channel: events of that region's patients.
pub const EVENTS_CHANNEL: &str = "hmis_events";
/// Each shard's change-log channel (`migrations/shard/0007_change_log.sql`): a wake-up
/// only; readers read the log by cursor and never trust the payload.
pub const CHANGES_CHANNEL: &str = "hmis_changes";

/// One notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A session was revoked: `hash` is its token's SHA-256, in hex.
    Session { hash: String },
    /// Every session of a user ended (logout everywhere, user disabled).
    User { user_id: Uuid },
    /// The casbin policy changed: reload it.
    Policy,
    /// A patient moved region: reload the forwarding map.
    Forwarding,
    /// A critical value raised an alert (sent by the shard's `alerts_notify` trigger).
    Alert(Alert),
    /// A patient's transfer between regions finished (sent to both regions).
    Transfer {
        patient_id: Uuid,
        transfer_id: Uuid,
        from_region: String,
        to_region: String,
    },
    /// The region's change log has news (sent by the shard's `hmis_change_log` trigger,
    /// once per writing transaction, at commit).
    Changes { region: String },
    /// A notification `id` was stored for the user (on [`NOTICES_CHANNEL`], at commit).
    Notice { user_id: Uuid, id: Uuid },
    /// Some of the user's notifications were marked read: their unread count changed.
    NoticesRead { user_id: Uuid },
}

/// What the `alerts_notify` trigger sends: IDs and the reading, no name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub region: String,
    pub alert_id: Uuid,
    pub patient_id: Uuid,
    pub observation_id: Uuid,
    pub code: String,
    pub value: f64,
    pub unit: String,
    pub reason: String,
    pub raised_at: DateTime<Utc>,
}

/// A payload that is not one of [`Note`]'s: not JSON, an unknown `kind`, a missing field.
#[derive(Debug, thiserror::Error)]
#[error("not a notification hmis knows: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

/// The payload to send with `pg_notify`.
pub fn encode(note: &Note) -> String {
    // A tagged enum of strings, numbers and UUIDs always serializes.
    serde_json::to_string(note).unwrap_or_default()
}

/// The note a payload carries.
pub fn decode(payload: &str) -> Result<Note, DecodeError> {
    Ok(serde_json::from_str(payload)?)
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
