//! Real time for the web UI: the WebSocket at `/api/v1/ws`, which speaks the REST API
//! (a frame carries a method, a path and a body and is answered by the very router that
//! serves HTTP, so authorization, audit and errors have one code path).
//!
//! # Frames (JSON text messages)
//!
//! - request `{"id", "method", "path", "body"?, "headers"?}` is answered
//!   `{"id", "status", "headers", "body"}`; `id` is any JSON value and is echoed.
//! - `{"type": "subscribe", "id"?, "topics": [...], "cursor"?}` is acknowledged
//!   `{"type": "subscribed", "id", "topics"}` (the topics accepted); each refused topic
//!   gets `{"type": "error", "id", "field": "topics", "topic", "reason"}` first. Topics:
//!   `patient:<id>`, `region:<name>`, `user:me`. `unsubscribe` likewise. A topic the
//!   user may no longer follow once the policy or their grants change is dropped with
//!   the same error frame (`"id": null`), audited like a refused subscribe.
//! - events: `{"type": "event", "topic", "cursor", "kind", "data": {"id", "patient_id",
//!   "op", "region", "at"}}`; a cursor that cannot resume: `{"type": "reset", "reason",
//!   "cursor"}` (reload, then go on from that fresh cursor).
//! - a frame that cannot be understood is answered
//!   `{"type": "error", "id", "field", "reason"}`, naming the offending field.
//!
//! # Long-poll
//!
//! `GET /api/v1/events?topics=a,b&cursor=...` ([`longpoll`]): the same topics and feed in
//! one HTTP exchange, for clients without WebSockets.
//!
//! # Close codes
//!
//! - `4401`: the session ended (logged out elsewhere, expired, user disabled).
//! - `4408`: two pings went unanswered (a dead link).
//! - `4429`: the client does not read what it is sent; its queue
//!   (`[live] queue_frames`) is full.

mod cursor_header;
mod feed;
mod frames;
mod hub;
mod longpoll;
mod me;
mod me_poll;
mod subscriptions;
mod topics;
mod ws;

pub use cursor_header::{CURSOR, stamp as stamp_cursor};
pub use hub::Hub;

use crate::app::AppState;
use axum::Router;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The API router a socket's frames go through: the one HTTP requests go through.
#[derive(Clone)]
pub(crate) struct Api(pub Router);

/// The routes in the OpenAPI document: the long-poll `GET /api/v1/events` (it needs the
/// [`Hub`] as an `Extension`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(longpoll::events))
}

/// The real-time routes; `api` is the full HTTP router (with its layers) that frames
/// are sent through.
pub fn router(api: Router) -> Router<AppState> {
    Router::new()
        .route("/api/v1/ws", axum::routing::get(ws::upgrade))
        .layer(axum::Extension(Api(api)))
}
