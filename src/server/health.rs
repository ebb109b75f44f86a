//! `GET /healthz` (the process answers) and `GET /readyz` (every region and the central
//! database, each with its status; 503 when any is down so a load balancer can tell).

use crate::app::AppState;
use crate::shards::{ReadinessReport, status};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::time::{Duration, Instant};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// The status of every region and of the central database.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "all up", body = ReadinessReport),
    (status = 503, description = "a region or the central database is down", body = ReadinessReport)))]
async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<ReadinessReport>) {
    let timeout = Duration::from_millis(app.settings.file.server.shard_timeout_ms);
    let central = async {
        let start = Instant::now();
        let ping = tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(&app.central));
        let result = match ping.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Some(e.to_string())),
            Err(_) => Err(None),
        };
        status("central", start, result)
    };
    let unfinished = async {
        let sql = "SELECT count(*) FROM transfers WHERE state NOT IN ('done', 'rolled_back')";
        let count = sqlx::query_scalar::<_, i64>(sql).fetch_one(&app.central);
        tokio::time::timeout(timeout, count)
            .await
            .ok()
            .and_then(Result::ok)
    };
    let (central, regions, unfinished) =
        tokio::join!(central, app.shards.ping_all(timeout), unfinished);
    let all_up = central.status == "up" && regions.iter().all(|r| r.status == "up");
    let report = ReadinessReport {
        status: if all_up { "ready" } else { "degraded" },
        central,
        regions,
        transfers_unfinished: unfinished,
    };
    let code = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report))
}
