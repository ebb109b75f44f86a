//! The transfer as a state machine whose every step can be repeated: hmis or either
//! database may die between any two steps, and running [`drive`] again (at startup, every
//! few seconds, or by the request itself) finishes the transfer without losing or
//! duplicating a row.
//!
//! 1. `started`: the journal row exists; the source record is frozen (`transfer_id`), so
//!    no write lands in the source while it is copied.
//! 2. copy: everything the patient has is written to the target in one transaction (its
//!    presence there is the proof that the copy happened), then the journal says `copied`.
//! 3. `switched`: one central transaction forwards the patient's ID and number to the
//!    target; from here every process reads and writes there.
//! 4. the source rows are deleted in one transaction (the audit trail stays), `done`.

use super::Ctx;
use super::copy;
use super::journal::{self, Transfer};
use super::state::State;
use crate::audit::{self, Line};
use crate::domain::notify;
use crate::fanout::Reason;
use crate::shards::{Abort, Shard, ShardError};
use serde_json::Value;

/// Where a fault can be injected (tests): after each step, before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    Journaled,
    Frozen,
    Copied,
    CopyRecorded,
    Switched,
    SourceDeleted,
}

pub const POINTS: [Point; 6] = [
    Point::Journaled,
    Point::Frozen,
    Point::Copied,
    Point::CopyRecorded,
    Point::Switched,
    Point::SourceDeleted,
];

/// Called after each step; an error stops the transfer there, as a crash would.
pub type Faults<'a> = &'a (dyn Fn(Point) -> Result<(), String> + Sync);

pub fn no_faults(_: Point) -> Result<(), String> {
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Region(#[from] ShardError),
    #[error("central database: {0}")]
    Central(#[from] sqlx::Error),
    #[error("stopped at {0}")]
    Stopped(String),
    #[error("rolled back: {0}")]
    RolledBack(Refusal),
    /// Not rolled back by itself: before the copy it is (nothing moved yet); after it, the
    /// transfer waits, unfinished, for the region to be configured again.
    #[error("region {0} is no longer configured")]
    Unconfigured(String),
}

/// Why a transfer was rolled back: the region at fault and the reason, in the words of
/// [`Reason`] (all a client is told), and the whole text for the journal and the log,
/// which can carry PostgreSQL's message.
#[derive(Debug)]
pub struct Refusal {
    pub region: String,
    pub reason: Reason,
    pub detail: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Runs the transfer from its current state to `done` (or `rolled_back`).
pub async fn drive(
    ctx: &Ctx<'_>,
    t: &mut Transfer,
    faults: Faults<'_>,
) -> Result<(), TransferError> {
    let stop = |p: Point| faults(p).map_err(TransferError::Stopped);
    let _in_flight = crate::telemetry::InFlight::start(crate::telemetry::TRANSFERS);
    loop {
        match t.state {
            State::Started => {
                if let Err(e) = freeze(ctx, t).await {
                    return Err(roll_back_if_refused(ctx, t, e).await);
                }
                stop(Point::Frozen)?;
                if let Err(e) = copy_to_target(ctx, t).await {
                    return Err(roll_back_if_refused(ctx, t, e).await);
                }
                stop(Point::Copied)?;
                journal::set_state(ctx.central, t.id, State::Copied, None).await?;
                t.state = State::Copied;
                stop(Point::CopyRecorded)?;
            }
            State::Copied => {
                // Forwarding to a region this hmis cannot reach would strand the patient.
                shard(ctx, &t.to_region)?;
                journal::switch(ctx.central, t).await?;
                ctx.forwarding.set(t.patient_id, &t.hrn, &t.to_region);
                t.state = State::Switched;
                stop(Point::Switched)?;
            }
            State::Switched => {
                delete_source(ctx, t).await?;
                stop(Point::SourceDeleted)?;
                journal::set_state(ctx.central, t.id, State::Done, None).await?;
                t.state = State::Done;
                announce(ctx, t).await;
            }
            State::Done | State::RolledBack => return Ok(()),
        }
    }
}

fn shard<'a>(ctx: &Ctx<'a>, region: &str) -> Result<&'a Shard, TransferError> {
    ctx.shards
        .get(region)
        .ok_or_else(|| TransferError::Unconfigured(region.to_owned()))
}

/// What a step's write returns (see [`Shard::write`]): `?` takes the database's errors,
/// mapped once for the region written to; other errors pass as the engine's own.
type Step<T> = Result<T, Abort<TransferError>>;

/// Freezes the source record for this transfer (again, after a restart: idempotent).
async fn freeze(ctx: &Ctx<'_>, t: &Transfer) -> Result<(), TransferError> {
    let source = shard(ctx, &t.from_region)?;
    source
        .write(async |tx| -> Step<()> {
            let sql = "UPDATE patients SET transfer_id = $2 \
                       WHERE id = $1 AND (transfer_id IS NULL OR transfer_id = $2)";
            tx.execute(sql, &[&t.patient_id, &t.id]).await?;
            Ok(())
        })
        .await
}

/// Copies everything unless the target already has the patient (a copy that committed
/// before a crash).
async fn copy_to_target(ctx: &Ctx<'_>, t: &Transfer) -> Result<(), TransferError> {
    let (source, target) = (shard(ctx, &t.from_region)?, shard(ctx, &t.to_region)?);
    target
        .write(async |tx| -> Step<()> {
            // Two drivers of one transfer (a request and the resumer) copy it once.
            let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 1))";
            tx.execute(sql, &[&t.patient_id]).await?;
            let there = "SELECT 1 FROM patients WHERE id = $1";
            if tx.query_opt(there, &[&t.patient_id]).await?.is_some() {
                return Ok(());
            }
            // The source's errors are the source's, not the target's.
            let rows = read_source(source, t).await.map_err(Abort::Refused)?;
            copy::write_all(tx, t.patient_id, &t.district, &rows).await?;
            let line = system_line(t, &t.to_region, "transfer in");
            audit::write(tx, &line, Some(t.patient_id), "ok").await?;
            Ok(())
        })
        .await
}

/// Everything the patient has in the source, read in one snapshot.
async fn read_source(source: &Shard, t: &Transfer) -> Result<Vec<Value>, TransferError> {
    let mut input = source.conn().await?;
    let rows = copy::read_all(&mut input, t.patient_id)
        .await
        .map_err(|e| source.fail(e))?;
    Ok(rows)
}

/// A copy the target refused (not a lost connection), or to or from a region that is no
/// longer configured, will not succeed on a retry: the source is unfrozen and the transfer
/// rolled back, with the reason in the journal.
async fn roll_back_if_refused(ctx: &Ctx<'_>, t: &mut Transfer, e: TransferError) -> TransferError {
    let (region, reason) = match &e {
        TransferError::Region(refused @ ShardError::Query { .. }) => {
            (refused.region().to_owned(), Reason::of(refused))
        }
        TransferError::Unconfigured(region) => (region.clone(), Reason::Error),
        _ => return e,
    };
    let detail = e.to_string();
    if let Ok(source) = shard(ctx, &t.from_region)
        && let Ok(conn) = source.conn().await
    {
        let sql = "UPDATE patients SET transfer_id = NULL WHERE id = $1 AND transfer_id = $2";
        let _ = conn.execute(sql, &[&t.patient_id, &t.id]).await;
    }
    let _ = journal::set_state(ctx.central, t.id, State::RolledBack, Some(&detail)).await;
    t.state = State::RolledBack;
    TransferError::RolledBack(Refusal {
        region,
        reason,
        detail,
    })
}

/// Deletes the source copy, if it is still there.
async fn delete_source(ctx: &Ctx<'_>, t: &Transfer) -> Result<(), TransferError> {
    let source = shard(ctx, &t.from_region)?;
    source
        .write(async |tx| -> Step<()> {
            let there = "SELECT 1 FROM patients WHERE id = $1 FOR UPDATE";
            if tx.query_opt(there, &[&t.patient_id]).await?.is_some() {
                copy::delete_all(tx, t.patient_id).await?;
                let line = system_line(t, &t.from_region, "transfer out");
                audit::write(tx, &line, Some(t.patient_id), "ok").await?;
            }
            Ok(())
        })
        .await
}

fn system_line(t: &Transfer, region: &str, action: &str) -> Line {
    Line {
        actor: t.requested_by.clone(),
        roles: "transfer".into(),
        action: format!("{action} ({} to {})", t.from_region, t.to_region),
        region: region.to_owned(),
        request_id: t.id.to_string(),
    }
}

/// Tells whoever watches the patient (the real-time layer listens on `hmis_events`).
async fn announce(ctx: &Ctx<'_>, t: &Transfer) {
    let payload = notify::encode(&notify::Note::Transfer {
        patient_id: t.patient_id,
        transfer_id: t.id,
        from_region: t.from_region.clone(),
        to_region: t.to_region.clone(),
    });
    for region in [&t.from_region, &t.to_region] {
        if let Some(s) = ctx.shards.get(region)
            && let Ok(conn) = s.conn().await
        {
            let _ = conn
                .execute(
                    "SELECT pg_notify($1, $2)",
                    &[&notify::EVENTS_CHANNEL, &payload],
                )
                .await;
        }
    }
}

/// Finishes every unfinished transfer; returns how many are still unfinished. A journal
/// row in a state this hmis does not know is one of them: it is logged and left as it is
/// (no step runs on it, its row is not rewritten), for an operator or a newer hmis.
pub async fn resume_all(ctx: &Ctx<'_>) -> usize {
    let Ok(pending) = journal::unfinished(ctx.central).await else {
        return usize::MAX;
    };
    let mut left = 0;
    for pending in pending {
        let mut t = match pending {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(transfer = %e.id, error = %e, "transfer left alone: its state is unknown to this hmis");
                left += 1;
                continue;
            }
        };
        if let Err(e) = drive(ctx, &mut t, &no_faults).await {
            tracing::warn!(transfer = %t.id, state = %t.state, error = %e, "transfer not finished yet");
            let _ = journal::set_state(ctx.central, t.id, t.state, Some(&e.to_string())).await;
            left += usize::from(!matches!(e, TransferError::RolledBack(_)));
        }
    }
    left
}
