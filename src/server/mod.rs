//! The top of the HTTP surface: every resource's `router()` merged under `/api/v1`, with
//! the layers each request passes through (request id, tracing span, body limit, security
//! headers) and problem+json for whatever no route matches; health, the OpenAPI document,
//! the routing explainer and the clinic UI's files. Imported by nothing but [`crate::launch`].

mod explain;
mod headers;
mod health;
mod metrics;

use crate::app::AppState;
use crate::http::{ApiError, BodyLimit, REQUEST_ID, openapi};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

/// The whole application router.
pub fn router(app: AppState, hub: crate::live::Hub) -> Router {
    let limit = app.settings.file.server.max_body_bytes;
    let hsts = app.settings.file.auth.secure_cookies;
    let (api, spec) = OpenApiRouter::with_openapi(openapi::base())
        .merge(crate::login::router())
        .merge(crate::admin::router())
        .merge(crate::patients::router())
        .merge(crate::observations::router())
        .merge(crate::stats::router())
        .merge(crate::planning::router())
        .merge(crate::notifications::router())
        .merge(crate::regions::router())
        .merge(explain::router())
        .merge(health::router())
        .merge(crate::live::api())
        .split_for_parts();
    let spec = std::sync::Arc::new(spec);
    // After routing, so that a control character in a path parameter is named.
    let api = api.route_layer(axum::middleware::from_fn(
        crate::http::plain_path_and_headers,
    ));
    let routes = api.route(
        "/api/v1/openapi.json",
        axum::routing::get(move |_: crate::http::Subject| openapi::serve(spec.clone())),
    );
    let routes = metrics::mount(routes, &app)
        .merge(crate::ui::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .with_state(app.clone())
        // `X-Hmis-Cursor` on successful GETs, over HTTP and over the socket's frames.
        .layer(axum::middleware::from_fn_with_state(
            (app.clone(), hub.clone()),
            crate::live::stamp_cursor,
        ))
        // The long-poll reads the hub, over HTTP and over the socket's frames alike.
        .layer(axum::Extension(hub.clone()));
    // The socket's frames go through the very stack HTTP requests go through.
    let served = layered(routes.clone(), limit, hsts);
    let live = crate::live::router(served)
        .layer(axum::Extension(hub))
        .with_state(app);
    layered(routes.merge(live), limit, hsts)
}

/// The layers every request passes, outermost last.
fn layered(routes: Router, limit: usize, hsts: bool) -> Router {
    routes
        .layer(axum::Extension(BodyLimit(limit)))
        .layer(DefaultBodyLimit::max(limit))
        // Clinics on slow links: JSON shrinks five- to tenfold under gzip.
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(axum::middleware::from_fn(move |req, next| {
            headers::add(hsts, req, next)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        // Outermost, so that its time is the whole request's.
        .layer(axum::middleware::from_fn(metrics::track))
}

/// The router of `[metrics] listen`: `GET /metrics` alone.
pub fn metrics_router(app: AppState) -> Router {
    metrics::router(app)
}

/// One span per request; handlers fill in `region` and `rule` once routing has decided.
fn span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        user = tracing::field::Empty,
        region = tracing::field::Empty,
        rule = tracing::field::Empty,
    )
}
