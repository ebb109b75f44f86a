//! `[metrics]` of `hmis.toml`: who may scrape `GET /metrics`. Metrics name regions, routes
//! and error rates, so they are never open: without a token or a listen address, the
//! route answers 404 and nothing listens.

use super::{ConfigError, Secret};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// A bearer token: `GET /metrics` on the API port answers a scraper sending
    /// `Authorization: Bearer <token>` (compared in constant time), and 401 to others.
    /// At least 16 characters. Default empty: not served on the API port
    /// (`HMIS_METRICS_TOKEN`).
    pub token: Secret,
    /// A separate address serving only `GET /metrics`, for a scraper on a private network
    /// (e.g. `10.0.0.5:9464`); the token, if set, is asked there too. Default empty:
    /// no such listener.
    pub listen: String,
}

/// Shortest token accepted: a guessable one would open the metrics to anyone.
const MIN_TOKEN: usize = 16;

impl MetricsSettings {
    /// The token when one is set.
    pub fn token(&self) -> Option<&str> {
        Some(self.token.expose()).filter(|t| !t.is_empty())
    }

    /// The separate listen address when one is set.
    pub fn listen(&self) -> Option<std::net::SocketAddr> {
        self.listen.parse().ok()
    }

    pub(super) fn check(&self, file: &Path) -> Result<(), ConfigError> {
        if self.token().is_some_and(|t| t.chars().count() < MIN_TOKEN) {
            return Err(ConfigError::new(
                file,
                format!("metrics.token: must be at least {MIN_TOKEN} characters"),
            ));
        }
        if !self.listen.is_empty() && self.listen().is_none() {
            return Err(ConfigError::new(
                file,
                format!(
                    "metrics.listen: \"{}\" is not an address and port (e.g. 127.0.0.1:9464)",
                    self.listen
                ),
            ));
        }
        Ok(())
    }
}
