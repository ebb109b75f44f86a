//! Readiness: each region (and the central database) is asked `SELECT 1` in parallel,
//! each under the shard timeout, so one dead region cannot hold up the report. `/readyz`
//! answers anyone, so a failure is one word (`unreachable`, `timeout`); the driver's own
//! message (host names, roles) goes to the log for the operator.

use super::Shards;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionStatus {
    pub name: String,
    /// `up` or `down`.
    pub status: &'static str,
    pub latency_ms: Option<f64>,
    /// Why it is down: `unreachable` or `timeout` (the detail is in hmis's log).
    pub error: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadinessReport {
    /// `ready` when every region and the central database answered, else `degraded`.
    pub status: &'static str,
    pub central: RegionStatus,
    pub regions: Vec<RegionStatus>,
    /// Patient transfers not finished yet (they resume on their own; `hmis transfers`
    /// lists them). Absent when the central database did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfers_unfinished: Option<i64>,
}

impl Shards {
    /// Pings every region.
    pub async fn ping_all(&self, timeout: Duration) -> Vec<RegionStatus> {
        let pings = self.iter().map(|shard| async move {
            let start = Instant::now();
            let result = tokio::time::timeout(timeout, async {
                let conn = shard.conn().await.map_err(|e| e.to_string())?;
                conn.simple_query("SELECT 1")
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|_| None)
            .and_then(|r| r.map_err(Some));
            status(shard.name(), start, result.map(|_| ()))
        });
        futures_util::future::join_all(pings).await
    }

    /// Sets the gauges a scrape reports for every region: its exclusive pool's
    /// connections (open, in use, waiting for one) and whether it answers now.
    pub async fn record_gauges(&self, timeout: Duration) {
        use crate::telemetry::{POOL_IN_USE, POOL_SIZE, POOL_WAITING, REGION_UP};
        for shard in self.iter() {
            let s = shard.pool.status();
            let region = shard.name().to_owned();
            metrics::gauge!(POOL_SIZE, "region" => region.clone()).set(s.size as f64);
            let in_use = s.size.saturating_sub(s.available);
            metrics::gauge!(POOL_IN_USE, "region" => region.clone()).set(in_use as f64);
            metrics::gauge!(POOL_WAITING, "region" => region).set(s.waiting as f64);
        }
        for status in self.ping_all(timeout).await {
            let up = if status.status == "up" { 1.0 } else { 0.0 };
            metrics::gauge!(REGION_UP, "region" => status.name).set(up);
        }
    }
}

/// Builds a status line from the outcome of a ping: `Err(Some(detail))` when the
/// database could not be reached or failed, `Err(None)` when it did not answer in time.
pub fn status(name: &str, start: Instant, result: Result<(), Option<String>>) -> RegionStatus {
    match result {
        Ok(()) => RegionStatus {
            name: name.to_owned(),
            status: "up",
            latency_ms: Some(start.elapsed().as_secs_f64() * 1000.0),
            error: None,
        },
        Err(detail) => {
            let error = match &detail {
                Some(detail) => {
                    tracing::warn!(database = name, %detail, "readiness: unreachable");
                    "unreachable"
                }
                None => {
                    tracing::warn!(database = name, "readiness: no answer in time");
                    "timeout"
                }
            };
            RegionStatus {
                name: name.to_owned(),
                status: "down",
                latency_ms: None,
                error: Some(error),
            }
        }
    }
}
