//! The patient report's queries: the summary (latest value of each vital, active alerts,
//! counts) and the chart series, downsampled in the database so that a year of readings
//! crosses a slow link as a few hundred points.

use super::model::{ALERT_COLUMNS, Alert, COLUMNS, Observation, local, typed};
use super::repo::{DbResult, PATIENT_SET};
use crate::clinical::vitals::Flag;
use crate::shards::Conn;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::LazyLock;
use uuid::Uuid;

/// `GET /api/v1/patients/{id}/summary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub patient_id: Uuid,
    pub region: String,
    /// The latest valid value of each vital sign, with its flag and time.
    pub latest: Vec<Observation>,
    /// Critical values nobody has acknowledged yet, newest first.
    pub alerts: Vec<Alert>,
    pub counts: Counts,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Valid observations (not entered in error).
    pub observations: i64,
    /// Times vitals were taken.
    pub sets: i64,
    pub amended: i64,
    pub entered_in_error: i64,
    pub first_taken_at: Option<DateTime<FixedOffset>>,
    pub last_taken_at: Option<DateTime<FixedOffset>>,
}

static LATEST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT DISTINCT ON (code) {COLUMNS} FROM observations
         WHERE {PATIENT_SET} AND status <> 'entered-in-error'
         ORDER BY code, taken_at DESC, recorded_at DESC"
    )
});
static ACTIVE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE {PATIENT_SET}
           AND acknowledged_at IS NULL AND resolved_at IS NULL ORDER BY raised_at DESC"
    )
});
static COUNTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT count(*) FILTER (WHERE status <> 'entered-in-error'), count(DISTINCT set_id),
                count(*) FILTER (WHERE status = 'amended'),
                count(*) FILTER (WHERE status = 'entered-in-error'),
                min(taken_at) FILTER (WHERE status <> 'entered-in-error'),
                max(taken_at) FILTER (WHERE status <> 'entered-in-error')
         FROM observations WHERE {PATIENT_SET}"
    )
});

/// The three queries, pipelined on one connection: one round trip's worth of waiting.
pub async fn summary(
    conn: &impl Conn,
    patient: Uuid,
    tz: Tz,
) -> DbResult<(Vec<Observation>, Vec<Alert>, Counts)> {
    let (l, a, c) = tokio::try_join!(
        conn.prepared(&LATEST),
        conn.prepared(&ACTIVE),
        conn.prepared(&COUNTS)
    )?;
    let db = conn.client();
    let params: &[&(dyn tokio_postgres::types::ToSql + Sync)] = &[&patient];
    let (latest, alerts, counts) = tokio::try_join!(
        db.query(&l, params),
        db.query(&a, params),
        db.query_one(&c, params)
    )?;
    let at = |i| counts.get::<_, Option<DateTime<Utc>>>(i).map(local(tz));
    Ok((
        latest
            .iter()
            .map(|r| Observation::from_row(r, tz))
            .collect(),
        alerts.iter().map(|r| Alert::from_row(r, tz)).collect(),
        Counts {
            observations: counts.get(0),
            sets: counts.get(1),
            amended: counts.get(2),
            entered_in_error: counts.get(3),
            first_taken_at: at(4),
            last_taken_at: at(5),
        },
    ))
}

/// One point of a chart: a reading, or a time bucket of readings (`n` > 1) with its mean,
/// range and worst flag.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub t: DateTime<FixedOffset>,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub n: i64,
    pub flag: Flag,
    /// The observation, for a single reading (to open or amend it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

/// Readings in range when there are at most `$5`; otherwise `$5` equal time buckets
/// between the first and last reading. The worst flag of a bucket is kept, so that a
/// critical reading never disappears into an average.
static CHART: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH r AS (SELECT id, code, value, flag, taken_at FROM observations
                    WHERE {PATIENT_SET} AND code = ANY($2) AND status <> 'entered-in-error'
                      AND taken_at >= $3 AND taken_at < $4),
              n AS (SELECT code, count(*) AS total, min(taken_at) AS lo, max(taken_at) AS hi
                    FROM r GROUP BY code)
         SELECT r.code, n.total, r.taken_at, r.value, r.value, r.value, 1::bigint, r.flag, r.id
         FROM r JOIN n USING (code) WHERE n.total <= $5::int
         UNION ALL
         SELECT code, total, to_timestamp(avg(extract(epoch FROM taken_at))::float8),
                avg(value), min(value), max(value), count(*),
                (array_agg(flag ORDER BY CASE flag WHEN 'critical' THEN 0 WHEN 'normal' THEN 2
                                                   ELSE 1 END))[1],
                NULL::uuid
         FROM (SELECT r.*, n.total, width_bucket(extract(epoch FROM r.taken_at),
                        extract(epoch FROM n.lo), extract(epoch FROM n.hi) + 1, $5::int) AS b
               FROM r JOIN n USING (code) WHERE n.total > $5::int) x
         GROUP BY code, total, b
         ORDER BY 1, 3"
    )
});

/// Per code: how many readings are in range, and the points to draw.
pub async fn chart(
    conn: &impl Conn,
    patient: Uuid,
    codes: &[String],
    range: (DateTime<Utc>, DateTime<Utc>),
    points: i32,
    tz: Tz,
) -> DbResult<Vec<(String, i64, Point)>> {
    let stmt = conn.prepared(&CHART).await?;
    let rows = conn
        .client()
        .query(&stmt, &[&patient, &codes, &range.0, &range.1, &points])
        .await?;
    let local = local(tz);
    Ok(rows
        .iter()
        .map(|r| {
            let point = Point {
                t: local(r.get(2)),
                value: r.get(3),
                min: r.get(4),
                max: r.get(5),
                n: r.get(6),
                flag: typed(r, 7),
                id: r.get(8),
            };
            (r.get(0), r.get(1), point)
        })
        .collect())
}
