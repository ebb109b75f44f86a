//! `GET /api/v1/events`: the long-poll, for clients that cannot keep a WebSocket open
//! (proxies that cut upgrades, old phones). It is the socket's subscription in one HTTP
//! exchange: the same topics authorized the same way ([`super::topics`]), the same feed
//! ([`Feed`]: catch-up from the cursor's marks in the shared log, then the hub), so the
//! same guarantee (nothing lost, nothing twice when each answer's `cursor` is sent back)
//! on whichever hmis process the load balancer picks.
//!
//! The answer comes at once when events after the cursor exist, else as soon as one
//! arrives, else after `[live] long_poll_seconds` with none. A cursor that cannot resume
//! is answered 200 `{"reset", "cursor"}`, as the socket's reset frame: the client handles
//! both alike (reload, then go on from the fresh cursor).
//!
//! `user:me` is read by position from the central database ([`super::me_poll`]), its
//! position carried in the same cursor: its events (`notification`, `notifications_read`,
//! as on the socket) carry no `cursor` of their own; the answer's goes on from them. A
//! `{"type": "reset", "topic": "user:me", "reason": "lagged"}` among the events (too many
//! at once) asks for a re-read of `GET /api/v1/notifications`.

use super::feed::{Feed, Step};
use super::hub::Hub;
use super::me_poll::MePoll;
use super::subscriptions::event_frame;
use super::topics::{self, Topic};
use crate::app::{App, AppState};
use crate::changes::Reset;
use crate::http::{Actor, ApiError, ApiQuery, openapi as doc};
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Events in one answer at most; the client asks again at once with the cursor.
const MAX_EVENTS: usize = 500;
/// Topics in one request at most.
const MAX_TOPICS: usize = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// Comma-separated topics: `patient:<id>`, `region:<name>`, `user:me`.
    topics: String,
    /// The `cursor` of the previous answer (or an `X-Hmis-Cursor`, or an event's); none:
    /// from now.
    cursor: Option<String>,
}

/// `{"events": [...], "cursor"}`, or `{"reset": "<reason>", "cursor"}` when the cursor
/// sent cannot resume. Send `cursor` with the next request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsAnswer {
    /// The events after the cursor, in order per region, each as the socket's event frame
    /// (`type`, `topic`, `cursor`, `kind`, `data`); empty when none came in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    events: Option<Vec<Value>>,
    /// `tampered`, `other-epoch`, `expired` or `unknown-region`: reload what you show.
    #[serde(skip_serializing_if = "Option::is_none")]
    reset: Option<&'static str>,
    /// Where the next request goes on from.
    cursor: String,
}

/// Events of the topics after the cursor, waiting up to `[live] long_poll_seconds` for
/// the first.
#[utoipa::path(get, path = "/api/v1/events", tag = "live", security(("bearer" = []), ("hmis_session" = [])),
    params(EventsParams),
    responses((status = 200, body = EventsAnswer), doc::Signed, doc::Denied, doc::BadQuery, doc::Unavailable))]
pub async fn events(
    State(app): State<AppState>,
    Extension(hub): Extension<Hub>,
    actor: Actor,
    ApiQuery(params): ApiQuery<EventsParams>,
) -> Result<Json<EventsAnswer>, ApiError> {
    let topics = authorize(&app, &actor, &params.topics).await?;
    let mut feed = match params
        .cursor
        .as_deref()
        .map(|c| Feed::resume(&hub, &app, c))
    {
        None => Feed::from_now(&hub),
        Some(Ok(feed)) => feed,
        Some(Err(reset)) => return Ok(reset_answer(reset, &Feed::from_now(&hub), &app)),
    };
    let mut out = Vec::new();
    let wait = app.settings.file.live.long_poll();
    let mut me = topics.contains(&Topic::Me).then(|| {
        let user = actor.subject.session.user_id;
        MePoll::new(&app.notices, user, actor.name(), feed.notices())
    });
    let mut mine = match &mut me {
        Some(me) => me.read(&app.central).await,
        None => Vec::new(),
    };
    // Cancelling `collect` at the deadline (or when `user:me` has news) is safe: the
    // feed's cursor moves only with an event handed out, and each one handed out is in
    // `out` before the next await; `MePoll` moves its position only with frames returned.
    let outcome = if mine.is_empty() {
        let changes = collect(&mut feed, &app, &topics, &mut out);
        let notices = async {
            match &mut me {
                Some(me) => mine = me.next(&app.central).await,
                None => std::future::pending().await,
            }
        };
        tokio::time::timeout(wait, async {
            tokio::select! {
                r = changes => r,
                () = notices => Ok(()),
            }
        })
        .await
    } else {
        Ok(Ok(()))
    };
    if let Some(position) = me.as_ref().and_then(MePoll::position) {
        feed.set_notices(position);
    }
    if let Ok(Err(reset)) = outcome {
        return Ok(reset_answer(reset, &feed, &app));
    }
    out.extend(mine);
    Ok(Json(EventsAnswer {
        events: Some(out),
        reset: None,
        cursor: feed.cursor(&app),
    }))
}

fn reset_answer(reset: Reset, feed: &Feed, app: &App) -> Json<EventsAnswer> {
    Json(EventsAnswer {
        events: None,
        reset: Some(reset.as_str()),
        cursor: feed.cursor(app),
    })
}

/// Waits for the first event of `topics`, then takes every one ready without waiting.
async fn collect(
    feed: &mut Feed,
    app: &App,
    topics: &[Topic],
    out: &mut Vec<Value>,
) -> Result<(), Reset> {
    while out.is_empty() {
        match feed.next(app).await {
            Step::Reset(reset) => return Err(reset),
            Step::Event(d) => add(feed, app, topics, &d.event, out),
        }
    }
    while out.len() < MAX_EVENTS {
        match feed.ready(app).await {
            None => break,
            Some(Step::Reset(reset)) => return Err(reset),
            Some(Step::Event(d)) => add(feed, app, topics, &d.event, out),
        }
    }
    Ok(())
}

/// The event once per topic it matches, with the cursor after it.
fn add(
    feed: &Feed,
    app: &App,
    topics: &[Topic],
    event: &crate::changes::Event,
    out: &mut Vec<Value>,
) {
    let matching: Vec<String> = topics
        .iter()
        .filter(|t| t.matches(event))
        .map(Topic::name)
        .collect();
    if matching.is_empty() {
        return;
    }
    let cursor = feed.cursor(app);
    out.extend(matching.iter().map(|t| event_frame(t, &cursor, event)));
}

/// Every topic named, each authorized like the read it stands for (a refusal is audited
/// there); the first refused one is the answer, naming `topics` and the topic.
async fn authorize(app: &AppState, actor: &Actor, raw: &str) -> Result<Vec<Topic>, ApiError> {
    let mut names: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    names.dedup();
    if names.is_empty() {
        return Err(ApiError::bad("topics", "name at least one topic"));
    }
    if names.len() > MAX_TOPICS {
        return Err(ApiError::bad(
            "topics",
            format!("at most {MAX_TOPICS} topics"),
        ));
    }
    let mut topics = Vec::with_capacity(names.len());
    for name in names {
        let refused = |detail: String| format!("{name}: {detail}");
        let topic = topics::resolve(app, actor, name)
            .await
            .map_err(|e| match e {
                ApiError::BadRequest { detail, .. } => ApiError::bad("topics", refused(detail)),
                ApiError::Forbidden(detail)
                | ApiError::ForbiddenField { detail, .. }
                | ApiError::NotFound(detail) => {
                    ApiError::forbidden_field("topics", refused(detail))
                }
                other => other,
            })?;
        topics.push(topic);
    }
    Ok(topics)
}
