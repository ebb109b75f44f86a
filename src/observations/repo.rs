//! The SQL of observations and alerts: parameterized, prepared once per connection. Reads
//! of a patient include the records merged into it (`merged_into`), so a merge moves no
//! row and its undo has nothing to move back.

use super::model::{ALERT_COLUMNS, Alert, COLUMNS, Observation, VERSION_COLUMNS, Version};
use crate::clinical::status::Status;
use crate::clinical::vitals::Flag;
use crate::shards::Conn;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub type DbResult<T> = Result<T, tokio_postgres::Error>;
type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// The patient `$1` and every record merged into it.
pub const PATIENT_SET: &str =
    "patient_id IN (SELECT id FROM patients WHERE id = $1 OR merged_into = $1)";

/// What a write needs to know of the patient, read with a share lock so that a merge or
/// a delete waits for the write.
pub struct PatientState {
    pub birth_date: NaiveDate,
    pub deleted: bool,
    pub merged_into: Option<Uuid>,
    pub transferring: bool,
}

impl crate::records::Guarded for PatientState {
    fn status(&self) -> crate::records::Status {
        crate::records::Status {
            deleted: self.deleted,
            merged_into: self.merged_into,
            transferring: self.transferring,
        }
    }
}

pub async fn lock_patient(tx: &impl GenericClient, id: Uuid) -> DbResult<Option<PatientState>> {
    let stmt = tx
        .prepare_cached(
            "SELECT birth_date, deleted_at IS NOT NULL, merged_into, transfer_id IS NOT NULL
             FROM patients WHERE id = $1 FOR SHARE",
        )
        .await?;
    Ok(tx.query_opt(&stmt, &[&id]).await?.map(|r| PatientState {
        birth_date: r.get(0),
        deleted: r.get(1),
        merged_into: r.get(2),
        transferring: r.get(3),
    }))
}

/// The latest valid height at or before `at`, for BMI.
pub async fn height_at(
    tx: &impl GenericClient,
    patient: Uuid,
    at: DateTime<Utc>,
) -> DbResult<Option<f64>> {
    let sql = format!(
        "SELECT value FROM observations WHERE {PATIENT_SET} AND code = $2 AND taken_at <= $3
           AND status <> 'entered-in-error' ORDER BY taken_at DESC LIMIT 1"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let code = crate::clinical::vitals::HEIGHT;
    Ok(tx
        .query_opt(&stmt, &[&patient, &code, &at])
        .await?
        .map(|r| r.get(0)))
}

/// The weight taken in the same set as `set_id`, for recomputing its BMI.
pub async fn in_set(
    tx: &impl GenericClient,
    set_id: Uuid,
    code: &str,
) -> DbResult<Option<Observation>> {
    let sql =
        format!("SELECT {COLUMNS} FROM observations WHERE set_id = $1 AND code = $2 FOR UPDATE");
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .query_opt(&stmt, &[&set_id, &code])
        .await?
        .map(|r| Observation::from_row(&r, Tz::UTC)))
}

/// A set's observations (a replayed POST answers with what the first one stored).
pub async fn set(tx: &impl GenericClient, set_id: Uuid, tz: Tz) -> DbResult<Vec<Observation>> {
    let sql = format!("SELECT {COLUMNS} FROM observations WHERE set_id = $1 ORDER BY code");
    let stmt = tx.prepare_cached(&sql).await?;
    let rows = tx.query(&stmt, &[&set_id]).await?;
    Ok(rows.iter().map(|r| Observation::from_row(r, tz)).collect())
}

/// One row to insert.
pub struct NewObservation {
    pub id: Uuid,
    pub code: &'static str,
    pub panel: Option<&'static str>,
    pub value: f64,
    pub unit: &'static str,
    pub entered_value: f64,
    pub entered_unit: String,
    pub flag: Flag,
    pub flag_reason: Option<String>,
    pub derived: bool,
}

/// Inserts a set in one statement.
pub async fn insert_set(
    tx: &impl GenericClient,
    patient: Uuid,
    set_id: Uuid,
    taken_at: DateTime<Utc>,
    by: &str,
    rows: &[NewObservation],
    tz: Tz,
) -> DbResult<Vec<Observation>> {
    let sql = format!(
        "INSERT INTO observations (id, patient_id, set_id, taken_at, recorded_by, code, panel, value,
             unit, entered_value, entered_unit, flag, flag_reason, derived)
         SELECT i, $2, $3, $4, $5, c, p, v, u, ev, eu, f, fr, d
         FROM unnest($1::uuid[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::float8[],
                     $11::text[], $12::text[], $13::text[], $14::bool[])
              AS t(i, c, p, v, u, ev, eu, f, fr, d)
         RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let col = |f: fn(&NewObservation) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let codes = col(|r| Some(r.code.to_owned()));
    let panels = col(|r| r.panel.map(str::to_owned));
    let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let units = col(|r| Some(r.unit.to_owned()));
    let entered: Vec<f64> = rows.iter().map(|r| r.entered_value).collect();
    let entered_units = col(|r| Some(r.entered_unit.clone()));
    let flags = col(|r| Some(r.flag.as_str().to_owned()));
    let reasons = col(|r| r.flag_reason.clone());
    let derived: Vec<bool> = rows.iter().map(|r| r.derived).collect();
    let out = tx
        .query(
            &stmt,
            &[
                &ids,
                &patient,
                &set_id,
                &taken_at,
                &by,
                &codes,
                &panels,
                &values,
                &units,
                &entered,
                &entered_units,
                &flags,
                &reasons,
                &derived,
            ],
        )
        .await?;
    Ok(out.iter().map(|r| Observation::from_row(r, tz)).collect())
}

/// Raises an alert for a critical observation (the table's trigger notifies).
pub async fn raise_alert(tx: &impl GenericClient, o: &Observation, tz: Tz) -> DbResult<Alert> {
    let sql = format!(
        "INSERT INTO alerts (id, patient_id, observation_id, code, value, unit, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {ALERT_COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let id = Uuid::now_v7();
    let reason = o
        .flag_reason
        .clone()
        .unwrap_or_else(|| "critical value".into());
    let row = tx
        .query_one(
            &stmt,
            &[
                &id,
                &o.patient_id,
                &o.id,
                &o.code,
                &o.value,
                &o.unit,
                &reason,
            ],
        )
        .await?;
    Ok(Alert::from_row(&row, tz))
}

/// Ends the active alerts of an observation whose value no longer stands.
pub async fn resolve_alerts(tx: &impl GenericClient, observation: Uuid, why: &str) -> DbResult<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE alerts SET resolved_at = now(), resolution = $2
             WHERE observation_id = $1 AND acknowledged_at IS NULL AND resolved_at IS NULL",
        )
        .await?;
    tx.execute(&stmt, &[&observation, &why]).await.map(|_| ())
}

/// An observation of the patient (or of a record merged into it), locked for a change.
pub async fn lock(
    tx: &impl GenericClient,
    patient: Uuid,
    id: Uuid,
    tz: Tz,
) -> DbResult<Option<Observation>> {
    let sql =
        format!("SELECT {COLUMNS} FROM observations WHERE id = $2 AND {PATIENT_SET} FOR UPDATE");
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .query_opt(&stmt, &[&patient, &id])
        .await?
        .map(|r| Observation::from_row(&r, tz)))
}

/// A new version of an observation; the trigger keeps the old one in its history.
pub struct Change {
    pub value: f64,
    pub unit: String,
    pub entered_value: f64,
    pub entered_unit: String,
    pub flag: Flag,
    pub flag_reason: Option<String>,
    pub status: Status,
    pub taken_at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

pub async fn change(
    tx: &impl GenericClient,
    id: Uuid,
    c: &Change,
    tz: Tz,
) -> DbResult<Observation> {
    let sql = format!(
        "UPDATE observations SET value = $2, unit = $3, entered_value = $4, entered_unit = $5,
             flag = $6, flag_reason = $7, status = $8, taken_at = $9, changed_by = $10,
             changed_at = now(), change_reason = $11
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &id,
                &c.value,
                &c.unit,
                &c.entered_value,
                &c.entered_unit,
                &c.flag.as_str(),
                &c.flag_reason,
                &c.status.as_str(),
                &c.taken_at,
                &c.by,
                &c.reason,
            ],
        )
        .await?;
    Ok(Observation::from_row(&row, tz))
}

/// One observation of the patient with its history, oldest version first.
pub async fn with_history(
    conn: &impl Conn,
    patient: Uuid,
    id: Uuid,
    tz: Tz,
) -> DbResult<Option<(Observation, Vec<Version>)>> {
    let one = format!("SELECT {COLUMNS} FROM observations WHERE id = $2 AND {PATIENT_SET}");
    let hist = format!(
        "SELECT {VERSION_COLUMNS} FROM observation_history WHERE observation_id = $1 ORDER BY version"
    );
    let (one, hist) = tokio::try_join!(conn.prepared(&one), conn.prepared(&hist))?;
    let c = conn.client();
    let (by_patient, by_id): (&[Param], &[Param]) = (&[&patient, &id], &[&id]);
    let (row, versions) = tokio::try_join!(c.query_opt(&one, by_patient), c.query(&hist, by_id))?;
    Ok(row.map(|r| {
        let versions = versions.iter().map(|v| Version::from_row(v, tz)).collect();
        (Observation::from_row(&r, tz), versions)
    }))
}

pub async fn acknowledge(
    tx: &impl GenericClient,
    patient: Uuid,
    alert: Uuid,
    by: &str,
    tz: Tz,
) -> DbResult<Option<Alert>> {
    let sql = format!(
        "UPDATE alerts SET acknowledged_by = coalesce(acknowledged_by, $3),
             acknowledged_at = coalesce(acknowledged_at, now())
         WHERE id = $2 AND {PATIENT_SET} RETURNING {ALERT_COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .query_opt(&stmt, &[&patient, &alert, &by])
        .await?
        .map(|r| Alert::from_row(&r, tz)))
}
