//! `[changes]` of `hmis.toml`: how long each shard's change log keeps its events (see
//! [`crate::changes`]). A client whose cursor is older than that is told to reload
//! (`reset`, `expired`) instead of being sent a log with a hole in it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChangesSettings {
    /// Events are kept this many hours; a cursor inside that window always resumes.
    /// Default 72 (a long weekend of a clinic's tablet offline).
    pub retention_hours: u64,
    /// How often each process prunes every shard's log, in seconds. Default 600.
    pub prune_interval_seconds: u64,
}

impl Default for ChangesSettings {
    fn default() -> Self {
        Self {
            retention_hours: 72,
            prune_interval_seconds: 600,
        }
    }
}

impl ChangesSettings {
    pub fn retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.retention_hours.saturating_mul(3600))
    }

    pub fn prune_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.prune_interval_seconds.max(1))
    }
}
