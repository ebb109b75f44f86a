//! `[live]` of `hmis.toml`: the WebSocket and the long-poll (see [`crate`]'s `live`
//! resource). Defaults suit clinics on slow mobile links: a ping every 20 s keeps NAT
//! mappings open and finds dead phones within a minute.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveSettings {
    /// The longest a `GET /api/v1/events` waits for an event, in seconds. Default 25
    /// (under the 30 s idle timeout of most proxies).
    pub long_poll_seconds: u64,
    /// A socket is pinged this often, in seconds, and closed after two unanswered pings.
    /// Default 20.
    pub ping_seconds: u64,
    /// A socket's session is checked again this often (and on every frame), in seconds,
    /// so that a logout elsewhere or a disabled user closes it. Default 30.
    pub session_check_seconds: u64,
    /// Frames waiting for a client that does not read; beyond it the socket is closed
    /// (code 4429) instead of holding more memory. Default 256.
    pub queue_frames: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            long_poll_seconds: 25,
            ping_seconds: 20,
            session_check_seconds: 30,
            queue_frames: 256,
        }
    }
}

impl LiveSettings {
    pub fn long_poll(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.long_poll_seconds)
    }

    pub fn ping(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.ping_seconds.max(1))
    }

    pub fn session_check(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.session_check_seconds.max(1))
    }
}
