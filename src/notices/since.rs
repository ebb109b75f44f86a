//! A user's notifications since a position, for the long-poll's `user:me`, which has no
//! socket to push to and must still lose nothing across requests and processes.
//!
//! # Why nothing is skipped
//!
//! A UUIDv7 or a serial alone would miss a late commit: a notification whose ID was
//! drawn first but which committed after a later one was read sorts before the reader's
//! position. So positions here are what the change log's are (see [`crate::changes`]):
//! transaction IDs. Every notification carries the `created_xid` of the transaction that
//! stored it and, once read, the `read_xid` of the one that marked it
//! (`migrations/central/0007_notification_xids.sql`). A read, in one REPEATABLE READ
//! snapshot, takes its horizon `pg_snapshot_xmin` (every transaction below it has
//! finished: the rows below it are final) and returns what lies in `[from, horizon)`; the
//! next position is the horizon. A row not returned belongs to a transaction at or above
//! the horizon, or one not begun (which gets a higher ID): it lies after the new position,
//! and a later read returns it. Positions are whole horizons, so a read returns all of
//! its range; when that is more than [`MAX`] notifications it answers [`Since::Lagged`]
//! instead, and the client re-reads `GET /api/v1/notifications` (as after the socket's
//! `lagged`).
//!
//! # "Fetch, then follow"
//!
//! `GET /api/v1/notifications` takes [`horizon`] BEFORE reading the page and puts it into
//! its `X-Hmis-Cursor` ([`Horizon`] as a response extension): a notification the page does
//! not show had not committed then, so it lies at or after that horizon.

use super::{Pushed, store};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// Notifications one read hands out at most; beyond, the client re-reads its list.
pub const MAX: i64 = 100;

/// The central horizon a REST read was taken at, for its `X-Hmis-Cursor` (a response
/// extension the cursor middleware picks up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon(pub u64);

/// What a read since a position found.
#[derive(Debug)]
pub enum Since {
    /// In order: each new notification, then one `Read` with the badge if any were read.
    Pushes(Vec<Pushed>),
    /// Too many to hand out: re-read the list.
    Lagged,
}

/// One read's answer: what it found, the position to go on from, and whether rows were
/// seen that lie beyond it (committed, but held back by an older transaction that still
/// ran: no NOTIFY comes when that one ends, so read again soon).
#[derive(Debug)]
pub struct Read {
    pub since: Since,
    pub next: u64,
    pub held: bool,
}

/// The central database's horizon now.
pub async fn horizon(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let h: i64 = sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        .fetch_one(db)
        .await?;
    Ok(h as u64)
}

/// `user`'s notifications created or read in `[from, horizon)`.
pub async fn since(central: &PgPool, user: Uuid, from: u64) -> sqlx::Result<Read> {
    let mut tx = central.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let to = i64::try_from(horizon(&mut *tx).await?).unwrap_or(i64::MAX);
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let range = "user_id = $1 AND {c} >= $2::bigint::text::xid8 AND {c} < $3::bigint::text::xid8";
    let created_sql = format!(
        "SELECT {} FROM notifications WHERE {} ORDER BY id LIMIT $4",
        store::COLUMNS,
        range.replace("{c}", "created_xid")
    );
    let created: Vec<super::Notification> = sqlx::query_as(&created_sql)
        .bind(user)
        .bind(from)
        .bind(to)
        .bind(MAX + 1)
        .fetch_all(&mut *tx)
        .await?;
    // Whether any was read in the range, and whether any is held back past the horizon
    // (created or read by a transaction the horizon does not cover yet).
    let flags_sql = format!(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE {}),
                EXISTS (SELECT 1 FROM notifications WHERE user_id = $1
                  AND (created_xid >= $3::bigint::text::xid8 OR read_xid >= $3::bigint::text::xid8))",
        range.replace("{c}", "read_xid")
    );
    let (read, held): (bool, bool) = sqlx::query_as(&flags_sql)
        .bind(user)
        .bind(from)
        .bind(to)
        .fetch_one(&mut *tx)
        .await?;
    let unread = store::unread(&mut *tx, user).await?;
    tx.commit().await?;
    let since = if created.len() as i64 > MAX {
        Since::Lagged
    } else {
        let mut pushes: Vec<Pushed> = created
            .into_iter()
            .map(|notification| Pushed::Created {
                notification,
                unread,
            })
            .collect();
        if read {
            pushes.push(Pushed::Read { unread });
        }
        Since::Pushes(pushes)
    };
    Ok(Read {
        since,
        next: to as u64,
        held,
    })
}
