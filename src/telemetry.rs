//! Metrics for whoever is on call: one process-wide Prometheus recorder, and the names of
//! every metric hmis records, in one place so that the README, the tests and the code say
//! the same. Modules record through the `metrics` macros, which need no handle; only the
//! scrape (`crate::server`) renders. Lowest of the infrastructure: it uses nothing of hmis.
//!
//! The recorder is installed once per process ([`handle`], a `OnceLock`): the tests run
//! many `App`s in one process, and they all record into it, like the requests of one
//! `hmis serve`. Gauges read at scrape time (pools, region up) are set by the scraping
//! `App` just before it renders, so each scrape reports its own regions.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// HTTP requests (and the WebSocket's request frames), by `route` (the matched route
/// template, `unmatched` when none), `method` and `status`.
pub const REQUESTS: &str = "hmis_http_requests_total";
/// Their latency in seconds, by `route` and `method`.
pub const REQUEST_SECONDS: &str = "hmis_http_request_duration_seconds";
/// A region's exclusive pool: connections open, in use, and requests waiting for one.
pub const POOL_SIZE: &str = "hmis_region_pool_connections";
pub const POOL_IN_USE: &str = "hmis_region_pool_in_use";
pub const POOL_WAITING: &str = "hmis_region_pool_waiting";
/// 1 when the region answered `SELECT 1` at the last scrape, else 0.
pub const REGION_UP: &str = "hmis_region_up";
/// A region's failed database calls, by `region` and `kind` (`unavailable`, `query`).
pub const REGION_ERRORS: &str = "hmis_region_errors_total";
/// Regions missing from a cross-region answer, by `region` and `reason` (the words of
/// `regions_failed`).
pub const FANOUT_FAILED: &str = "hmis_fanout_region_failures_total";
/// Cross-region answers that lacked at least one region.
pub const FANOUT_PARTIAL: &str = "hmis_fanout_partial_answers_total";
/// Audit lines per group commit, and the commit's duration in seconds, by `region`.
pub const AUDIT_BATCH_LINES: &str = "hmis_audit_batch_lines";
pub const AUDIT_BATCH_SECONDS: &str = "hmis_audit_batch_duration_seconds";
/// Audit batches that could not be written, by `region`.
pub const AUDIT_FAILURES: &str = "hmis_audit_batch_failures_total";
/// Age in seconds of the oldest change event the real-time hub had not read yet when it
/// last read the region (0: it was caught up), by `region`.
pub const CHANGE_LAG: &str = "hmis_change_log_lag_seconds";
/// WebSocket connections open.
pub const WEBSOCKETS: &str = "hmis_websocket_connections";
/// Patient transfers being driven by this process.
pub const TRANSFERS: &str = "hmis_transfers_in_flight";

/// Latency buckets, in seconds: a read by ID takes about a millisecond, a fan-out is
/// bounded by its 3 s deadline, a planner's query by its 10 s timeout.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Audit batch sizes (at most `MAX_BATCH` lines of the writer).
const LINES_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use; later calls return the same handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(AUDIT_BATCH_LINES.into()), LINES_BUCKETS)
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a program embedding hmis): scrapes then
        // show nothing rather than failing.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before hmis's; /metrics is empty");
        }
        describe();
        spawn_upkeep(handle.clone());
        handle
    })
}

/// Histograms keep their samples until upkeep folds them into buckets: without a scrape
/// for hours, memory would grow. A plain thread, since a runtime may come and go.
fn spawn_upkeep(handle: PrometheusHandle) {
    let _ = std::thread::Builder::new()
        .name("hmis metrics upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                handle.run_upkeep();
            }
        });
}

/// `# HELP` lines of the scrape.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        REQUESTS,
        "HTTP requests and socket request frames, by route template and status"
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Request latency by route template"
    );
    describe_gauge!(POOL_SIZE, "Connections open in the region's exclusive pool");
    describe_gauge!(POOL_IN_USE, "Pooled connections checked out");
    describe_gauge!(POOL_WAITING, "Requests waiting for a pooled connection");
    describe_gauge!(REGION_UP, "1 if the region answered at the last scrape");
    describe_counter!(REGION_ERRORS, "Failed database calls by region and kind");
    describe_counter!(
        FANOUT_FAILED,
        "Regions missing from cross-region answers, by reason"
    );
    describe_counter!(
        FANOUT_PARTIAL,
        "Cross-region answers missing at least one region"
    );
    describe_histogram!(AUDIT_BATCH_LINES, "Audit lines per group commit");
    describe_histogram!(
        AUDIT_BATCH_SECONDS,
        Unit::Seconds,
        "Audit group commit duration"
    );
    describe_counter!(AUDIT_FAILURES, "Audit batches not written");
    describe_gauge!(
        CHANGE_LAG,
        Unit::Seconds,
        "Age of the oldest change event not yet read by the hub"
    );
    describe_gauge!(WEBSOCKETS, "WebSocket connections open");
    describe_gauge!(TRANSFERS, "Patient transfers being driven by this process");
}

/// Counts one up while alive (a socket, a transfer): dropped, it counts down, whichever
/// way its task ends.
pub struct InFlight(&'static str);

impl InFlight {
    pub fn start(name: &'static str) -> InFlight {
        metrics::gauge!(name).increment(1.0);
        InFlight(name)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, name: &str) -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} ")))?;
        line.rsplit(' ').next()?.parse().ok()
    }

    #[test]
    fn an_in_flight_gauge_counts_what_is_alive_and_counts_down_when_it_is_dropped() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let seen = metrics::with_local_recorder(&recorder, || {
            let (a, b) = (InFlight::start(WEBSOCKETS), InFlight::start(WEBSOCKETS));
            let transfer = InFlight::start(TRANSFERS);
            let both = value(&handle.render(), WEBSOCKETS);
            drop((a, b, transfer));
            (both, value(&handle.render(), WEBSOCKETS))
        });
        assert_eq!(seen, (Some(2.0), Some(0.0)));
        assert_eq!(value(&handle.render(), TRANSFERS), Some(0.0));
    }
}
