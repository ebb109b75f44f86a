//! The SQL of the change log: reading after a mark, the head, pruning. Each read is one
//! statement, so the log's state (epoch, pruned position, horizon) and the events come
//! from one snapshot: a prune that commits meanwhile is seen entirely or not at all.

use super::cursor::{LogState, Mark, Position, resume};
use super::{Batch, Event, Op, Read};
use crate::shards::{Abort, Conn, Shard, ShardError};
use bytes::BytesMut;
use chrono::{DateTime, Utc};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A full transaction ID (`xid8`) as tokio-postgres sends and receives it: its binary
/// form is the 64-bit integer.
#[derive(Debug, Clone, Copy)]
struct Xid(u64);

impl<'a> FromSql<'a> for Xid {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into()?;
        Ok(Xid(u64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }
}

impl ToSql for Xid {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }

    to_sql_checked!();
}

/// The read after a mark (public for EXPLAIN). The horizon and the log's state, then at most `$3` events after ($1, $2) and below the
/// horizon, in reading order: one range scan of the primary key (see the plan in the
/// report of `migrations/shard/0007_change_log.sql`).
pub const READ_SQL: &str = "
SELECT m.epoch, m.pruned_xid, m.pruned_seq, h.horizon, h.next_xid,
       e.xid, e.seq, e.kind, e.entity_id, e.patient_id, e.op, e.at, e.region
FROM change_log_meta m
CROSS JOIN (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon,
                   pg_snapshot_xmax(pg_current_snapshot()) AS next_xid) h
LEFT JOIN LATERAL (
    SELECT c.* FROM change_log c
    WHERE (c.xid, c.seq) > ($1, $2) AND c.xid < h.horizon
    ORDER BY c.xid, c.seq
    LIMIT $3
) e ON true
ORDER BY e.xid, e.seq";

/// Events after `from`, at most `limit`, in the order no late commit can be skipped in;
/// or why `from` cannot resume.
pub async fn read(shard: &Shard, from: &Mark, limit: u32) -> Result<Read, ShardError> {
    let (xid, seq, limit) = (Xid(from.position.xid), from.position.seq, i64::from(limit));
    let rows = shard
        .read_following(|c| {
            Box::pin(async move {
                let stmt = c.prepared(READ_SQL).await?;
                c.client().query(&stmt, &[&xid, &seq, &limit]).await
            })
        })
        .await?;
    let Some(first) = rows.first() else {
        return Err(missing_meta(shard));
    };
    let state = LogState {
        epoch: first.get(0),
        pruned: Position {
            xid: first.get::<_, Xid>(1).0,
            seq: first.get(2),
        },
        next_xid: first.get::<_, Xid>(4).0,
    };
    let horizon = first.get::<_, Xid>(3).0;
    if let Err(reset) = resume(from, &state) {
        return Ok(Read::Reset(reset));
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(xid) = row.get::<_, Option<Xid>>(5) else {
            continue;
        };
        events.push(Event {
            position: Position {
                xid: xid.0,
                seq: row.get(6),
            },
            kind: row.get(7),
            entity_id: row.get(8),
            patient_id: row.get(9),
            op: Op::parse(row.get(10)),
            at: row.get::<_, DateTime<Utc>>(11),
            region: row.get(12),
        });
    }
    Ok(Read::Batch(Batch {
        next: next_mark(from, &events, limit, horizon),
        events,
    }))
}

/// After the last event returned; or, when the batch came short (everything below the
/// horizon was read), at the horizon, so that a quiet region's cursors stay current.
fn next_mark(from: &Mark, events: &[Event], limit: i64, horizon: u64) -> Mark {
    let last = events.last().map_or(from.position, |e| e.position);
    let caught_up = Position {
        xid: horizon,
        seq: 0,
    };
    let position = if (events.len() as i64) < limit && caught_up > last {
        caught_up
    } else {
        last
    };
    Mark {
        epoch: from.epoch,
        position,
    }
}

/// The position "now": everything before it is finished, everything not yet visible is
/// after it. Take it BEFORE reading the data it goes with (see the module header).
pub async fn head(shard: &Shard) -> Result<Mark, ShardError> {
    const HEAD: &str = "SELECT epoch, pg_snapshot_xmin(pg_current_snapshot()) FROM change_log_meta";
    let rows = shard
        .read_following(|c| {
            Box::pin(async move {
                let stmt = c.prepared(HEAD).await?;
                c.client().query(&stmt, &[]).await
            })
        })
        .await?;
    let row = rows.first().ok_or_else(|| missing_meta(shard))?;
    Ok(Mark {
        epoch: row.get(0),
        position: Position {
            xid: row.get::<_, Xid>(1).0,
            seq: 0,
        },
    })
}

/// Deletes the events older than `before`, a prefix of the reading order only, and
/// records where it ended, in one transaction. Answers how many events went. A retained
/// event is never deleted, so a mark at any retained event (or after) still resumes.
pub async fn prune(shard: &Shard, before: DateTime<Utc>) -> Result<u64, ShardError> {
    shard
        .write(async |tx| -> Result<u64, Abort<ShardError>> {
            // Several processes prune: one at a time, each from where the last stopped.
            tx.execute("SELECT 1 FROM change_log_meta FOR UPDATE", &[])
                .await?;
            let horizon: Xid = tx
                .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())", &[])
                .await?
                .get(0);
            // The first event to keep: young enough, or of a transaction not finished.
            let kept = tx
                .query_opt(
                    "SELECT xid, seq FROM change_log WHERE at >= $1 OR xid >= $2 \
                     ORDER BY xid, seq LIMIT 1",
                    &[&before, &horizon],
                )
                .await?;
            let (until_xid, until_seq) =
                kept.map_or((horizon, 0_i64), |r| (r.get::<_, Xid>(0), r.get(1)));
            let last = tx
                .query_opt(
                    "SELECT xid, seq FROM change_log WHERE (xid, seq) < ($1, $2) \
                     ORDER BY xid DESC, seq DESC LIMIT 1",
                    &[&until_xid, &until_seq],
                )
                .await?;
            let Some(last) = last else {
                return Ok(0);
            };
            let (xid, seq): (Xid, i64) = (last.get(0), last.get(1));
            let deleted = tx
                .execute(
                    "DELETE FROM change_log WHERE (xid, seq) <= ($1, $2)",
                    &[&xid, &seq],
                )
                .await?;
            tx.execute(
                "UPDATE change_log_meta SET pruned_xid = $1, pruned_seq = $2, pruned_at = now()",
                &[&xid, &seq],
            )
            .await?;
            Ok(deleted)
        })
        .await
}

/// A shard without its log's row was not migrated (`hmis migrate`), or was edited by hand.
fn missing_meta(shard: &Shard) -> ShardError {
    ShardError::Unavailable {
        region: shard.name().to_owned(),
        reason: "change_log_meta has no row: run `hmis migrate`".into(),
    }
}

impl Op {
    fn parse(text: &str) -> Op {
        match text {
            "insert" => Op::Insert,
            "delete" => Op::Delete,
            // The table's CHECK allows nothing else.
            _ => Op::Update,
        }
    }
}
