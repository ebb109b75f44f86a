//! The SQL of notifications (`migrations/central/0006_notifications.sql`): a user's page,
//! the unread count, marking read, and the idempotent insert generation uses. Every
//! change sends its note on [`NOTICES_CHANNEL`] in its own transaction, so the push goes
//! out exactly when (and only if) the change commits.

use crate::domain::notify::{self, NOTICES_CHANNEL, Note};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// What a notification is about. Stored as its word; other features add theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A critical value raised an alert.
    CriticalVital,
    /// A value outside the normal range (flag `low` or `high`).
    AbnormalVital,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CriticalVital => "critical_vital",
            Kind::AbnormalVital => "abnormal_vital",
        }
    }
}

/// One notification, as its owner reads it. No patient name: `text` names the reading.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `critical_vital`, `abnormal_vital`; clients show kinds they do not know plainly.
    pub kind: String,
    pub region: String,
    pub patient_id: Option<Uuid>,
    /// What raised it: the alert of a critical value, the observation of an abnormal one.
    pub source_id: Uuid,
    pub observation_id: Option<Uuid>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

pub(super) const COLUMNS: &str =
    "id, kind, region, patient_id, source_id, observation_id, text, created_at, read_at";

/// A page of a user's notifications, newest first.
pub struct Page {
    pub items: Vec<Notification>,
    /// Whether there are older ones after the last item.
    pub more: bool,
    pub unread: i64,
}

/// The user's notifications older than `before` (a notification's id; none: the newest),
/// at most `size`, unread ones only if `unread_only`.
pub async fn page(
    central: &PgPool,
    user: Uuid,
    before: Option<Uuid>,
    size: i64,
    unread_only: bool,
) -> sqlx::Result<Page> {
    // Two statements, so that the unread one is planned on the partial index.
    let filter = if unread_only {
        "AND read_at IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 {filter}
         AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    let mut items: Vec<Notification> = sqlx::query_as(&sql)
        .bind(user)
        .bind(before)
        .bind(size + 1)
        .fetch_all(central)
        .await?;
    let more = items.len() as i64 > size;
    items.truncate(size as usize);
    let unread = unread(central, user).await?;
    Ok(Page {
        items,
        more,
        unread,
    })
}

/// How many of the user's notifications are unread.
pub async fn unread(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user)
        .fetch_one(db)
        .await
}

/// Marks one of the user's notifications read (again: keeps the first time). None when
/// the user has no such notification, whether or not someone else has.
pub async fn mark_read(
    central: &PgPool,
    user: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(Notification, i64)>> {
    let mut tx = central.begin().await?;
    let sql = format!(
        "UPDATE notifications SET read_at = coalesce(read_at, now()),
             read_xid = coalesce(read_xid, pg_current_xact_id())
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    let Some(read) = sqlx::query_as::<_, Notification>(&sql)
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    send(&mut *tx, &Note::NoticesRead { user_id: user }).await?;
    let left = unread(&mut *tx, user).await?;
    tx.commit().await?;
    Ok(Some((read, left)))
}

/// Marks every unread notification of the user read; answers how many were.
pub async fn mark_all_read(central: &PgPool, user: Uuid) -> sqlx::Result<u64> {
    let mut tx = central.begin().await?;
    let marked = sqlx::query(
        "UPDATE notifications SET read_at = now(), read_xid = pg_current_xact_id()
         WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked > 0 {
        send(&mut *tx, &Note::NoticesRead { user_id: user }).await?;
    }
    tx.commit().await?;
    Ok(marked)
}

/// A notification to store, for one user.
pub struct New {
    pub user_id: Uuid,
    pub kind: Kind,
    pub region: String,
    pub patient_id: Uuid,
    pub source_id: Uuid,
    pub observation_id: Uuid,
    pub text: String,
}

/// Stores those not stored yet (the key is (source, user)) and sends a note for each
/// one stored; answers how many were.
pub async fn insert(tx: &mut sqlx::PgConnection, new: &[New]) -> sqlx::Result<u64> {
    if new.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = new.iter().map(|_| Uuid::now_v7()).collect();
    let stored: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "INSERT INTO notifications
             (id, user_id, kind, region, patient_id, source_id, observation_id, text)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[],
                              $6::uuid[], $7::uuid[], $8::text[])
         ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING
         RETURNING id, user_id",
    )
    .bind(&ids)
    .bind(new.iter().map(|n| n.user_id).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.region.as_str()).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.patient_id).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.source_id).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.observation_id).collect::<Vec<_>>())
    .bind(new.iter().map(|n| n.text.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    let payloads: Vec<String> = stored
        .iter()
        .map(|&(id, user_id)| notify::encode(&Note::Notice { user_id, id }))
        .collect();
    sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) p")
        .bind(NOTICES_CHANNEL)
        .bind(&payloads)
        .execute(&mut *tx)
        .await?;
    Ok(stored.len() as u64)
}

/// One notification with its owner's name and unread count, for a push.
pub async fn for_push(
    central: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<(String, Notification, i64)>> {
    let sql = format!(
        "SELECT u.username, n.* FROM (SELECT user_id, {COLUMNS} FROM notifications
         WHERE id = $1) n JOIN users u ON u.id = n.user_id"
    );
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(central).await? else {
        return Ok(None);
    };
    use sqlx::{FromRow, Row};
    let (name, user): (String, Uuid) = (row.try_get("username")?, row.try_get("user_id")?);
    let notification = Notification::from_row(&row)?;
    Ok(Some((name, notification, unread(central, user).await?)))
}

/// A user's name and unread count, for a push.
pub async fn badge(central: &PgPool, user: Uuid) -> sqlx::Result<Option<(String, i64)>> {
    sqlx::query_as(
        "SELECT username, (SELECT count(*) FROM notifications
                           WHERE user_id = $1 AND read_at IS NULL)
         FROM users WHERE id = $1",
    )
    .bind(user)
    .fetch_optional(central)
    .await
}

async fn send(db: impl PgExecutor<'_>, note: &Note) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTICES_CHANNEL)
        .bind(notify::encode(note))
        .execute(db)
        .await?;
    Ok(())
}
