//! This process's ear on [`NOTICES_CHANNEL`]: every note becomes a push on the
//! in-process broadcast, with what the subscriber shows (the notification, the new unread
//! count) read from the central database at that moment, so a push is never staler than
//! the note. A push missed while the connection was down is not replayed: clients read
//! `GET /api/v1/notifications` when their socket (re)connects.

use super::{Notices, Pushed, store};
use crate::domain::notify::{self, NOTICES_CHANNEL, Note};
use sqlx::postgres::PgListener;
use std::time::Duration;

/// Listens until the task is aborted, reconnecting a second after the central database
/// went away.
pub async fn listen(central: sqlx::PgPool, notices: Notices) {
    loop {
        if let Err(e) = listen_once(&central, &notices).await {
            tracing::warn!(error = %e, "the notifications listener lost the central database; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(central: &sqlx::PgPool, notices: &Notices) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(central).await?;
    listener.listen(NOTICES_CHANNEL).await?;
    loop {
        let Some(note) = listener.try_recv().await? else {
            anyhow::bail!("connection closed");
        };
        match notify::decode(note.payload()) {
            Ok(Note::Notice { id, .. }) => {
                if let Some((user, notification, unread)) = store::for_push(central, id).await? {
                    let pushed = Pushed::Created {
                        notification,
                        unread,
                    };
                    notices.publish((user.into(), pushed));
                }
            }
            Ok(Note::NoticesRead { user_id }) => {
                if let Some((user, unread)) = store::badge(central, user_id).await? {
                    notices.publish((user.into(), Pushed::Read { unread }));
                }
            }
            Ok(other) => tracing::warn!(?other, "not a notification note; ignored"),
            Err(e) => {
                tracing::warn!(error = %e, payload = note.payload(), "unknown notification note; ignored")
            }
        }
    }
}
