//! Telling every hmis process at once: a session was revoked, a user was disabled, the
//! policy changed, a patient moved region. PostgreSQL's NOTIFY on the central database carries the news; each
//! process LISTENs and drops what it cached. No broker beyond the database hmis already
//! has. If the listening connection drops, notifications may have been missed, so on
//! reconnect every cached session and decision is dropped and the policy reloaded.

use crate::app::App;
use crate::domain::notify::{self, Note};
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::time::Duration;

pub const CHANNEL: &str = notify::AUTH_CHANNEL;

/// Sends `note` to every process (this one included).
pub async fn notify(pool: &sqlx::PgPool, note: &Note) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(notify::encode(note))
        .execute(pool)
        .await?;
    Ok(())
}

/// Runs until the app is dropped. `ready` fires once the first LISTEN is in place.
pub async fn run(app: Weak<App>, ready: tokio::sync::oneshot::Sender<()>) {
    let mut ready = Some(ready);
    loop {
        let Some(pool) = app.upgrade().map(|a| a.central.clone()) else {
            return;
        };
        match listen(&app, &pool, &mut ready).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "auth listener lost the central database; retrying")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen(
    app: &Weak<App>,
    pool: &sqlx::PgPool,
    ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Whatever happened while we were not listening is unknown: start clean.
    if let Some(a) = app.upgrade() {
        a.sessions.forget_all();
        a.authz.reload().await?;
        a.forwarding.reload(&a.central).await?;
    }
    if let Some(tx) = ready.take() {
        let _ = tx.send(());
    }
    loop {
        let note = listener.try_recv().await?;
        let Some(note) = note else {
            anyhow::bail!("connection closed");
        };
        let Some(a) = app.upgrade() else {
            return Ok(());
        };
        match notify::decode(note.payload()) {
            Ok(Note::Session { hash }) => a.sessions.forget_session(&hash),
            Ok(Note::User { user_id }) => a.sessions.forget_user(user_id),
            Ok(Note::Policy) => a.authz.reload().await?,
            Ok(Note::Forwarding) => {
                a.forwarding.reload(&a.central).await?;
            }
            Ok(other) => tracing::warn!(?other, "a shard's event on the auth channel; ignored"),
            Err(e) => {
                tracing::warn!(error = %e, payload = note.payload(), "unknown auth notification; ignored")
            }
        }
    }
}
