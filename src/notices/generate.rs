//! Generation: one task per region in every process reads the region's change log from
//! the position stored in `notice_positions`, and for each new alert (a critical value)
//! and each new abnormal observation stores a notification for every clinician of the
//! region, then advances the position, all in one central transaction holding the
//! position's row lock (see the module header of [`super`] for why).
//!
//! What is news: an alert still active (a patient transferred in brings theirs: the new
//! region's clinicians take them over), an abnormal (`low`/`high`), final observation
//! recorded within the last day (a transferred patient's old readings are history, not
//! news; so are those of a day with no hmis running).
//! A critical observation is notified through its alert, never twice.

use super::store::{self, Kind, New};
use crate::authz::names;
use crate::changes::{self, Event, Mark, News, Op, Position, Read, Wake};
use crate::clinical::vitals::Flag;
use crate::shards::{Conn, Shard, Shards};
use sqlx::PgPool;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Events read per transaction.
const BATCH: u32 = 500;
/// A region without news is read anyway this often (a missed wake-up costs no more).
const POLL: Duration = Duration::from_secs(1);
/// The role whose holders in a region are told of its patients' vital signs.
const CLINICIAN: &str = "clinician";

/// The alerts and observations of a batch that are news, with what the text needs.
const SOURCES: &str = "
SELECT 'critical' AS level, a.id, a.patient_id, a.observation_id, a.code, a.value, a.unit
FROM alerts a
WHERE a.id = ANY($1) AND a.acknowledged_at IS NULL AND a.resolved_at IS NULL
UNION ALL
SELECT o.flag, o.id, o.patient_id, o.id, o.code, o.value, o.unit
FROM observations o
WHERE o.id = ANY($2) AND o.flag IN ('low', 'high') AND o.status = 'final'
  AND o.recorded_at > now() - interval '1 day'";

/// Starts a generator per region; each ends with `wake` or the state holding the shards.
pub fn spawn_generators<S>(state: &Arc<S>, central: &PgPool, wake: &Wake) -> Vec<JoinHandle<()>>
where
    S: AsRef<Shards> + Send + Sync + 'static,
{
    let shards: &Shards = (**state).as_ref();
    shards
        .iter()
        .map(|shard| {
            let region: Arc<str> = shard.name().into();
            let (state, news) = (Arc::downgrade(state), wake.subscribe());
            tokio::spawn(generate_forever(state, region, central.clone(), news))
        })
        .collect()
}

async fn generate_forever<S: AsRef<Shards>>(
    state: Weak<S>,
    region: Arc<str>,
    central: PgPool,
    mut news: broadcast::Receiver<News>,
) {
    loop {
        let Some(s) = state.upgrade() else { return };
        let Some(shard) = (*s).as_ref().get(&region) else {
            return;
        };
        loop {
            match step(shard, &central).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(region = %region, error = %e, "notifications not generated yet");
                    break;
                }
            }
        }
        drop(s);
        if !changes::news_or_poll(&mut news, &region, POLL).await {
            return;
        }
    }
}

/// Reads one batch of the region's log and stores its notifications; answers whether
/// there may be more to read at once.
pub async fn step(shard: &Shard, central: &PgPool) -> anyhow::Result<bool> {
    let region = shard.name();
    let mut tx = central.begin().await?;
    let row: Option<(Uuid, i64, i64)> =
        sqlx::query_as("SELECT epoch, xid, seq FROM notice_positions WHERE region = $1 FOR UPDATE")
            .bind(region)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((epoch, xid, seq)) = row else {
        // The first generator ever of this region: from now on, not its whole history. A
        // second process starting at the same moment keeps the first one's start.
        let head = changes::head(shard).await?;
        sqlx::query(
            "INSERT INTO notice_positions (region, epoch, xid, seq) VALUES ($1, $2, $3, 0)
             ON CONFLICT (region) DO NOTHING",
        )
        .bind(region)
        .bind(head.epoch)
        .bind(i64::try_from(head.position.xid)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(true);
    };
    let xid = u64::try_from(xid)?;
    let from = Mark {
        epoch,
        position: Position { xid, seq },
    };
    let batch = match changes::read(shard, &from, BATCH).await? {
        Read::Batch(batch) => batch,
        Read::Reset(reset) => {
            // Pruned past us (no hmis ran for the whole retention) or recreated.
            tracing::warn!(
                region,
                reset = reset.as_str(),
                "notifications start over at the log's head; events in between are not notified"
            );
            save(&mut tx, region, &changes::head(shard).await?).await?;
            tx.commit().await?;
            return Ok(false);
        }
    };
    // Nothing new: the position stays (the next poll re-reads the same empty range, one
    // index probe), so a quiet region costs the central database no write per poll.
    if batch.events.is_empty() {
        return Ok(false);
    }
    let new = notices_of(shard, &mut tx, &batch.events).await?;
    store::insert(&mut tx, &new).await?;
    save(&mut tx, region, &batch.next).await?;
    tx.commit().await?;
    Ok(batch.events.len() as u32 >= BATCH)
}

/// The notifications of the events that are news, one per clinician of the region.
async fn notices_of(
    shard: &Shard,
    tx: &mut sqlx::PgConnection,
    events: &[Event],
) -> anyhow::Result<Vec<New>> {
    let inserted = |kind: &str| -> Vec<Uuid> {
        let of_kind = events
            .iter()
            .filter(|e| e.kind == kind && e.op == Op::Insert);
        of_kind.map(|e| e.entity_id).collect()
    };
    let (alerts, observations) = (inserted("alert"), inserted("observation"));
    if alerts.is_empty() && observations.is_empty() {
        return Ok(Vec::new());
    }
    let rows = shard
        .read_following(|c| {
            let (alerts, observations) = (alerts.clone(), observations.clone());
            Box::pin(async move {
                let stmt = c.prepared(SOURCES).await?;
                c.client().query(&stmt, &[&alerts, &observations]).await
            })
        })
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let clinicians: Vec<Uuid> = sqlx::query_scalar(
        "SELECT u.id FROM casbin_rule c JOIN users u ON c.v0 = $1 || u.username
         WHERE c.ptype = 'g' AND c.v1 = $2 AND c.v2 = $3 AND u.disabled_at IS NULL",
    )
    .bind(names::user(""))
    .bind(names::role(CLINICIAN))
    .bind(shard.name())
    .fetch_all(&mut *tx)
    .await?;
    let mut new = Vec::with_capacity(rows.len() * clinicians.len());
    for row in &rows {
        let (level, code, value, unit): (&str, &str, f64, &str) =
            (row.get(0), row.get(4), row.get(5), row.get(6));
        // The observations' CHECK admits no other flag.
        let flag: Flag = level.parse().map_err(anyhow::Error::msg)?;
        let kind = match flag {
            Flag::Critical => Kind::CriticalVital,
            Flag::Low | Flag::High => Kind::AbnormalVital,
            Flag::Normal => continue,
        };
        let text = super::text::vital(code, flag, value, unit);
        for &user_id in &clinicians {
            new.push(New {
                user_id,
                kind,
                region: shard.name().to_owned(),
                source_id: row.get(1),
                patient_id: row.get(2),
                observation_id: row.get(3),
                text: text.clone(),
            });
        }
    }
    Ok(new)
}

/// Stores where the region's log was read to.
async fn save(tx: &mut sqlx::PgConnection, region: &str, mark: &Mark) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO notice_positions (region, epoch, xid, seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (region) DO UPDATE SET epoch = $2, xid = $3, seq = $4, updated_at = now()",
    )
    .bind(region)
    .bind(mark.epoch)
    .bind(i64::try_from(mark.position.xid)?)
    .bind(mark.position.seq)
    .execute(tx)
    .await?;
    Ok(())
}
