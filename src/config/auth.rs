//! `[auth]` of `hmis.toml`: sessions, cookies and login throttling (see
//! [`crate::auth::throttle`] for what the throttling bounds mean together).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// A session ends this long after login, in seconds, however active. Default 43200 (12 h).
    pub session_seconds: i64,
    /// A session ends after this long without a request, in seconds. Default 1800 (30 min).
    pub idle_seconds: i64,
    /// Failed logins of one account from one address within the window (since that
    /// account's last success there) before the account is throttled at that address,
    /// whatever the password. Default 5.
    pub max_failures_per_account_at_address: u32,
    /// Failed logins of one account from every address together within the window before
    /// the account is throttled at the addresses it has not logged in from within
    /// `known_address_days` (guessing from many addresses). Default 50.
    pub max_failures_per_account: u32,
    /// Failed logins from one address, whatever the accounts, within the window before the
    /// accounts that have not logged in from there within `known_address_days` are
    /// throttled there (spraying from one address; a clinic behind one NAT address keeps
    /// logging in). Default 100.
    pub max_failures_per_address: u32,
    /// The throttling window, in seconds: a failure counts this long. Default 900 (15 min).
    pub failure_window_seconds: u64,
    /// Deprecated spelling of the window, in minutes; when set it wins, so that files
    /// written for earlier versions keep their meaning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_window_minutes: Option<u64>,
    /// A successful login makes its address known for its account this many days.
    /// Default 30.
    pub known_address_days: u32,
    /// Mark cookies `Secure` (HTTPS only). Default false; set true behind TLS.
    pub secure_cookies: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_seconds: 12 * 3600,
            idle_seconds: 30 * 60,
            max_failures_per_account_at_address: 5,
            max_failures_per_account: 50,
            max_failures_per_address: 100,
            failure_window_seconds: 15 * 60,
            failure_window_minutes: None,
            known_address_days: 30,
            secure_cookies: false,
        }
    }
}

impl AuthSettings {
    /// The throttling window in seconds, from whichever spelling the file used.
    pub fn failure_window_secs(&self) -> u64 {
        self.failure_window_minutes
            .map_or(self.failure_window_seconds, |m| m.saturating_mul(60))
    }
}
