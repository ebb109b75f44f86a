//! The per-region SQL of the statistics: every dimension grouped in the region (a few
//! hundred rows at most), rolled up to what was asked for after the merge.

use super::merge::Acc;
use crate::shards::{Conn, Shard, ShardError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub type Rows = Vec<(BTreeMap<String, String>, Acc)>;

/// Counted per district, sex and birth date from `patients_stats_idx` (an index-only scan,
/// tens of thousands of groups at a million patients), then banded with the planners'
/// view's own function, so that its five-year age bands (`00-04` ... `80+`) are the ones
/// planners also get from SQL and pgAdmin (`migrations/shard/0009_stats.sql`).
pub const PATIENTS: &str = "
    SELECT district, sex, planning.age_band(birth_date), sum(n)::bigint
    FROM (SELECT district, sex, birth_date, count(*) AS n FROM patients
          WHERE deleted_at IS NULL AND merged_into IS NULL GROUP BY 1, 2, 3) AS by_day
    GROUP BY 1, 2, 3";

pub async fn patients(shard: &Shard) -> Result<Rows, ShardError> {
    let rows = shard
        .read(|c| {
            Box::pin(async move {
                let stmt = c.prepared(PATIENTS).await?;
                c.client().query(&stmt, &[]).await
            })
        })
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let dims = [
                ("region", shard.name().to_owned()),
                ("district", r.get(0)),
                ("sex", r.get(1)),
                ("age_band", r.get(2)),
            ];
            let count: i64 = r.get(3);
            (
                dims.map(|(k, v)| (k.to_owned(), v)).into_iter().collect(),
                Acc {
                    count,
                    ..Acc::default()
                },
            )
        })
        .collect())
}

/// Valid readings of live patients, by code and month (in the region's time zone).
const OBSERVATIONS: &str = "
    SELECT o.code, to_char(date_trunc('month', o.taken_at AT TIME ZONE $4), 'YYYY-MM'),
           count(*), sum(o.value), min(o.value), max(o.value)
    FROM observations o JOIN patients p ON p.id = o.patient_id
    WHERE o.status <> 'entered-in-error' AND p.deleted_at IS NULL
      AND (cardinality($1::text[]) = 0 OR o.code = ANY($1)) AND o.taken_at >= $2 AND o.taken_at < $3
    GROUP BY 1, 2";

pub async fn observations(
    shard: &Shard,
    codes: &[String],
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Rows, ShardError> {
    let tz = shard.settings.tz().name().to_owned();
    let rows = shard
        .read(|c| {
            let (codes, tz) = (codes.to_vec(), tz.clone());
            Box::pin(async move {
                let stmt = c.prepared(OBSERVATIONS).await?;
                c.client()
                    .query(&stmt, &[&codes, &range.0, &range.1, &tz])
                    .await
            })
        })
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let dims = [
                ("region", shard.name().to_owned()),
                ("code", r.get(0)),
                ("month", r.get(1)),
            ];
            let acc = Acc {
                count: r.get(2),
                sum: r.get(3),
                min: r.get(4),
                max: r.get(5),
            };
            (
                dims.map(|(k, v)| (k.to_owned(), v)).into_iter().collect(),
                acc,
            )
        })
        .collect())
}
