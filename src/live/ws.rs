//! The socket's life: the upgrade (authenticated like HTTP, with the `Origin` of a
//! cookie-authenticated upgrade checked, since browsers send cookies cross-site and a
//! WebSocket is not subject to CORS), then a send task and a receive task (axum's chat
//! example) joined by a bounded queue. The send task owns the socket's writing half:
//! queued frames, pings, and the close frame; the receive task answers frames,
//! re-checks the session on each frame and every `[live] session_check_seconds`, and
//! re-authorizes the subscriptions whenever the policy or a user's grants change.

use super::Api;
use super::frames::{self, Incoming, Origin};
use super::hub::Hub;
use super::subscriptions::{Ctx, Subscriptions};
use crate::app::AppState;
use crate::http::{Actor, ApiError};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, request::Parts};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

pub const SESSION_ENDED: u16 = 4401;
pub const DEAD_LINK: u16 = 4408;
pub const NOT_READING: u16 = 4429;
/// Requests of one socket answered at once; more wait (and the socket is not read).
const IN_FLIGHT: usize = 4;
/// How long a socket whose close frame went out waits for the client's.
const CLOSING: Duration = Duration::from_secs(5);
/// Pings unanswered before the link counts as dead.
const MISSED_PONGS: u32 = 2;

/// The socket's read and write buffer, in bytes.
const BUFFER: usize = 4096;

pub async fn upgrade(
    State(app): State<AppState>,
    axum::Extension(Api(api)): axum::Extension<Api>,
    axum::Extension(hub): axum::Extension<Hub>,
    actor: Actor,
    parts: Parts,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let (token, by_cookie) = crate::http::session_token(&parts).ok_or(ApiError::Unauthenticated)?;
    if by_cookie && !same_origin(&parts) {
        return Err(ApiError::ForbiddenField {
            field: "Origin".into(),
            detail: "a cookie-authenticated socket must come from this site's own pages".into(),
        });
    }
    let ws = ws.map_err(|e| ApiError::BadRequest {
        field: Some("Upgrade".into()),
        detail: format!("not a WebSocket upgrade: {e}"),
    })?;
    let origin = Origin {
        token,
        host: parts.headers.get(header::HOST).cloned(),
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    };
    let limit = app.settings.file.server.max_body_bytes.saturating_add(4096);
    // tungstenite's buffers default to 128 KiB each, allocated and zeroed per socket: most
    // of an idle socket's memory (145 KiB each at 10,000, `cargo bench --bench ws`).
    // Frames here are small; a large one just takes a few more reads.
    let ws = ws
        .max_message_size(limit)
        .read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER);
    Ok(ws.on_upgrade(move |socket| {
        run(
            socket,
            Peer {
                app,
                api,
                hub,
                actor,
                origin,
            },
        )
    }))
}

/// Browsers always send `Origin` on a WebSocket upgrade; a client that sends none is no
/// browser, so cannot be a cross-site page riding on the cookie.
fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return true;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, h)| h);
    matches!((origin, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// What both tasks share: the queue to the client and the request to close.
#[derive(Clone)]
pub struct Outbox {
    queue: mpsc::Sender<Message>,
    close: Arc<watch::Sender<Option<u16>>>,
}

impl Outbox {
    /// Queues a frame; a full queue means the client does not read: close it.
    pub fn push(&self, frame: &Value) {
        let text = frame.to_string();
        if self.queue.try_send(Message::Text(text.into())).is_err() {
            self.close(NOT_READING);
        }
    }

    pub fn close(&self, code: u16) {
        self.close
            .send_if_modified(|c| c.is_none() && c.replace(code).is_none());
    }
}

/// Everything the socket's frames are served with.
struct Peer {
    app: AppState,
    api: axum::Router,
    hub: Hub,
    actor: Actor,
    origin: Origin,
}

async fn run(socket: WebSocket, peer: Peer) {
    let _open = crate::telemetry::InFlight::start(crate::telemetry::WEBSOCKETS);
    let app = peer.app.clone();
    let live = app.settings.file.live.clone();
    let (sink, stream) = socket.split();
    let (queue, queued) = mpsc::channel(live.queue_frames.max(1));
    let (close, closing) = watch::channel(None);
    let outbox = Outbox {
        queue,
        close: Arc::new(close),
    };
    let missed = Arc::new(AtomicU32::new(0));
    let mut sending = tokio::spawn(send(sink, queued, closing, missed.clone(), live.ping()));
    let mut receiving = tokio::spawn(receive(stream, peer, outbox, missed));
    tokio::select! {
        _ = &mut sending => {
            // The close frame is out: wait a little for the client's (the closing
            // handshake), so that a late pong does not meet a closed port, whose reset
            // makes the client's kernel drop the close frame unread.
            if tokio::time::timeout(CLOSING, &mut receiving).await.is_err() {
                receiving.abort();
            }
        }
        _ = &mut receiving => {
            // Let the close frame (if any) go out; a client that reads nothing gets none.
            if tokio::time::timeout(Duration::from_secs(5), &mut sending).await.is_err() {
                sending.abort();
            }
        }
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

async fn send(
    mut sink: Sink,
    mut queued: mpsc::Receiver<Message>,
    mut closing: watch::Receiver<Option<u16>>,
    missed: Arc<AtomicU32>,
    every: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        let message = tokio::select! {
            // A close asked for wins over frames still queued.
            biased;
            _ = closing.changed() => {
                let code = closing.borrow().unwrap_or(1000);
                return close(sink, code).await;
            }
            m = queued.recv() => match m {
                Some(m) => m,
                // Everyone is gone; maybe after asking to close.
                None => {
                    let code = closing.borrow().unwrap_or(1000);
                    return close(sink, code).await;
                }
            },
            _ = ping.tick() => {
                if missed.fetch_add(1, Ordering::Relaxed) >= MISSED_PONGS {
                    return close(sink, DEAD_LINK).await;
                }
                Message::Ping(Default::default())
            }
        };
        // A client that stops reading blocks this send: give up after two pings' time.
        match tokio::time::timeout(every * 2, sink.send(message)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
}

async fn close(mut sink: Sink, code: u16) {
    let reason = match code {
        SESSION_ENDED => "session ended",
        DEAD_LINK => "no pong",
        NOT_READING => "client not reading",
        _ => "",
    };
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

type Stream = futures_util::stream::SplitStream<WebSocket>;

async fn receive(mut stream: Stream, peer: Peer, outbox: Outbox, missed: Arc<AtomicU32>) {
    let Peer {
        app,
        api,
        hub,
        actor,
        origin,
    } = peer;
    let mut subscriptions = Subscriptions::default();
    let ctx = || Ctx {
        app: &app,
        hub: &hub,
        actor: &actor,
        outbox: &outbox,
    };
    let mut policy = app.authz.changes();
    let every = app.settings.file.live.session_check();
    let mut check = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let text = tokio::select! {
            m = stream.next() => match m {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Pong(_))) => { missed.store(0, Ordering::Relaxed); continue }
                Some(Ok(Message::Binary(_))) => {
                    outbox.push(&frames::Refusal {
                        id: Value::Null, field: "frame", reason: "send JSON text frames".into(),
                    }.frame());
                    continue
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            },
            _ = check.tick() => {
                if !alive(&app, &origin.token).await { return outbox.close(SESSION_ENDED) }
                continue
            }
            Ok(()) = policy.changed() => { subscriptions.recheck(ctx()).await; continue }
        };
        if !alive(&app, &origin.token).await {
            return outbox.close(SESSION_ENDED);
        }
        match frames::parse(&text) {
            Err(refusal) => outbox.push(&refusal.frame()),
            Ok(Incoming::Ask(ask)) => {
                let permit = permits.clone().acquire_owned().await.expect("never closed");
                let (api, origin, outbox) = (api.clone(), origin.clone(), outbox.clone());
                tokio::spawn(async move {
                    match frames::answer(api, ask, &origin).await {
                        Ok(answer) => outbox.push(&answer),
                        Err(refusal) => outbox.push(&refusal.frame()),
                    }
                    drop(permit);
                });
            }
            Ok(Incoming::Subscribe { id, topics, cursor }) => {
                subscriptions.subscribe(ctx(), id, topics, cursor).await;
            }
            Ok(Incoming::Unsubscribe { id, topics }) => {
                subscriptions.unsubscribe(&outbox, id, topics)
            }
        }
    }
}

/// Whether the socket's session still holds. A central database that does not answer
/// keeps the socket open: the session is checked again on the next frame or tick.
async fn alive(app: &AppState, token: &str) -> bool {
    !matches!(app.sessions.lookup(token).await, Ok(None))
}
