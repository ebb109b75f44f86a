//! `GET /metrics` (Prometheus text) and the layer counting every request. The count is
//! by the matched route template (`/api/v1/patients/{id}`), never the raw path, so a
//! patient ID never becomes a label and the series stay few. The scrape is never open:
//! on the API port it is mounted only when `[metrics] token` is set and answers 401
//! without it; `[metrics] listen` serves it alone on an address of its own.

use crate::app::AppState;
use crate::http::ApiError;
use crate::telemetry::{REQUEST_SECONDS, REQUESTS};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

pub const PATH: &str = "/metrics";

/// Counts the request by route, method and status, and times it.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_str().to_owned();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "route" => route, "method" => method)
        .record(start.elapsed());
    response
}

/// Methods outside HTTP's own are one label, so a client cannot invent series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route on the API port: there only when a token is set (else the 404 fallback).
pub fn mount(routes: Router<AppState>, app: &AppState) -> Router<AppState> {
    if app.settings.file.metrics.token().is_none() {
        return routes;
    }
    routes.route(PATH, axum::routing::get(scrape))
}

/// The router of `[metrics] listen`: the scrape alone.
pub fn router(app: AppState) -> Router {
    Router::new()
        .route(PATH, axum::routing::get(scrape))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .with_state(app)
}

async fn scrape(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = app.settings.file.metrics.token()
        && !bearer_is(&headers, token)
    {
        return Err(ApiError::Unauthenticated);
    }
    let timeout = Duration::from_millis(app.settings.file.server.shard_timeout_ms);
    // One scrape at a time: the region gauges are the process's, and each scrape must
    // render those it just set (two scrapers, or the tests' many `App`s, would mix them).
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    app.shards.record_gauges(timeout).await;
    let body = crate::telemetry::handle().render();
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}

/// `Authorization: Bearer <token>`, compared in constant time.
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    given.as_bytes().ct_eq(token.as_bytes()).into()
}
