//! The central database as the one message bus between hmis processes: a session was
//! revoked, a user was disabled, the policy changed, a patient moved region. `NOTIFY` on
//! [`AUTH_CHANNEL`] carries a [`Note`]; every process `LISTEN`s and drops what it cached.
//! No broker beyond the database hmis already has.
//!
//! This module knows nothing of the caches themselves: [`listen`] hands each note to the
//! caller's `refresh`, and `refresh(None)` when notes may have been missed (the listening
//! connection dropped), so the caller starts clean. That keeps it below everything it
//! refreshes (sessions, authz, forwarding), which all send through [`send`].

use crate::domain::notify::{self, Note};
use futures_util::future::BoxFuture;
use sqlx::postgres::PgListener;
use std::time::Duration;

pub use notify::AUTH_CHANNEL;

/// Sends `note` to every process (this one included).
pub async fn send(pool: &sqlx::PgPool, note: &Note) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(AUTH_CHANNEL)
        .bind(notify::encode(note))
        .execute(pool)
        .await?;
    Ok(())
}

/// What a listener does with a note: `Some(note)` to apply it, `None` to drop everything
/// cached (notes may have been missed). An error makes the listener reconnect.
pub type Refresh =
    Box<dyn Fn(Option<Note>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Listens until the task is aborted, reconnecting after a second when the central
/// database goes away. `ready` fires once the first `LISTEN` is in place and the caches
/// have been cleared.
pub async fn listen(
    central: sqlx::PgPool,
    refresh: Refresh,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        if let Err(e) = listen_once(&central, &refresh, &mut ready).await {
            tracing::warn!(error = %e, "the auth listener lost the central database; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(
    central: &sqlx::PgPool,
    refresh: &Refresh,
    ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(central).await?;
    listener.listen(AUTH_CHANNEL).await?;
    // Whatever happened while we were not listening is unknown: start clean.
    refresh(None).await?;
    if let Some(tx) = ready.take() {
        let _ = tx.send(());
    }
    loop {
        let Some(note) = listener.try_recv().await? else {
            anyhow::bail!("connection closed");
        };
        match notify::decode(note.payload()) {
            Ok(note) => refresh(Some(note)).await?,
            Err(e) => {
                tracing::warn!(error = %e, payload = note.payload(), "unknown auth notification; ignored")
            }
        }
    }
}
