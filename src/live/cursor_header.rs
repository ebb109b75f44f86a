//! `X-Hmis-Cursor` on every successful GET under `/api/v1`: the change cursor as of the
//! read, so that "fetch, then subscribe (or long-poll) from that cursor" has no window in
//! which a change is lost. Sealed from the hub's in-memory heads, with no database round
//! trip, and sealed once per move of the heads ([`Hub::sealed_heads`]), so most reads
//! get it for the price of comparing a few marks.
//!
//! # Why an older head loses nothing
//!
//! The heads are taken BEFORE the handler runs. Each is a horizon that one of the hub's
//! earlier reads saw: every transaction below it had finished then. A change the answer
//! does not show had not committed when the handler's snapshot was taken, so it had not
//! when the head was seen either: its transaction was running (its ID at or above the
//! horizon) or had no ID yet (it gets one above every ID handed out): either way it sorts
//! after the head, and a feed from the cursor delivers it. A head older than the data can
//! only make a change both shown and delivered: a duplicate, never a loss (clients apply
//! events idempotently). A region the hub has not read yet (just after start) is missing
//! from the cursor and read from when the cursor is used. `GET /api/v1/notifications`
//! adds the central horizon it took before its page (see `crate::notices::since`).

use super::hub::Hub;
use crate::app::AppState;
use crate::changes::Cursor;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

pub static CURSOR: HeaderName = HeaderName::from_static("x-hmis-cursor");

/// The middleware: `State` is the app (for the key) and the hub (for the heads).
pub async fn stamp(
    State((app, hub)): State<(AppState, Hub)>,
    req: Request,
    next: Next,
) -> Response {
    let read = req.method() == Method::GET && req.uri().path().starts_with("/api/v1/");
    // Before the handler: see the module header.
    let stamp =
        read.then(|| hub.sealed_heads(|heads| Cursor::at(heads.clone()).seal(&app.cursor_key)));
    let mut response = next.run(req).await;
    let Some(stamp) = stamp.filter(|_| response.status().is_success()) else {
        return response;
    };
    // A read of notifications took the central horizon before its page: its cursor is
    // the heads' and that horizon, sealed for it alone.
    let token = match response
        .extensions()
        .get::<crate::notices::since::Horizon>()
    {
        Some(h) => {
            let mut cursor = Cursor::at((*stamp.heads).clone());
            cursor.set_notices(h.0);
            cursor.seal(&app.cursor_key).into()
        }
        None => stamp.token,
    };
    // Sealed cursors are URL-safe base64: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert(CURSOR.clone(), value);
    }
    response
}
