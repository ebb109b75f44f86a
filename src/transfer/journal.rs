//! The transfer journal in the central database: one row per transfer and its state, the
//! forwarding of a moved patient, and the news to every hmis process.

use super::state::{State, UnknownState};
use crate::domain::notify;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Row};
use uuid::Uuid;

/// One transfer, as the journal holds it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub hrn: String,
    pub from_region: String,
    pub to_region: String,
    pub district: String,
    /// `started`, `copied`, `switched`, `done` or `rolled_back`.
    #[sqlx(try_from = "String")]
    pub state: State,
    pub reason: Option<String>,
    pub requested_by: String,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, patient_id, hrn, from_region, to_region, district, state, reason, requested_by, last_error";

/// Records a new transfer; `Ok(false)` when the patient is being transferred already.
pub async fn insert(central: &PgPool, t: &Transfer) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO transfers (id, patient_id, hrn, from_region, to_region, district, state,
             reason, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(t.id)
    .bind(t.patient_id)
    .bind(&t.hrn)
    .bind(&t.from_region)
    .bind(&t.to_region)
    .bind(&t.district)
    .bind(t.state.as_str())
    .bind(&t.reason)
    .bind(&t.requested_by)
    .execute(central)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn set_state(
    central: &PgPool,
    id: Uuid,
    state: State,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE transfers SET state = $2, last_error = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(error)
    .execute(central)
    .await
    .map(|_| ())
}

/// Points the patient's ID and number at the new region and marks the transfer switched,
/// in one transaction, then tells every process to reload its forwarding map.
pub async fn switch(central: &PgPool, t: &Transfer) -> Result<(), sqlx::Error> {
    let mut tx = central.begin().await?;
    sqlx::query(
        "INSERT INTO patient_forwarding (patient_id, region, hrn, transfer_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (patient_id) DO UPDATE
             SET region = EXCLUDED.region, hrn = EXCLUDED.hrn,
                 transfer_id = EXCLUDED.transfer_id, moved_at = now()",
    )
    .bind(t.patient_id)
    .bind(&t.to_region)
    .bind(&t.hrn)
    .bind(t.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE transfers SET state = $2, updated_at = now() WHERE id = $1")
        .bind(t.id)
        .bind(State::Switched.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(notify::AUTH_CHANNEL)
        .bind(notify::encode(&notify::Note::Forwarding))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A journal row whose state this hmis does not know: reported, and left as it is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("transfer {id} of patient {patient_id}: {state}")]
pub struct Unreadable {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub state: UnknownState,
}

/// Transfers that have not finished, oldest first; each one this hmis cannot read is an
/// `Err` of its own, so that one odd row does not stop the others from being finished.
pub async fn unfinished(
    central: &PgPool,
) -> Result<Vec<Result<Transfer, Unreadable>>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM transfers WHERE state NOT IN ('done', 'rolled_back')
         ORDER BY started_at"
    ))
    .fetch_all(central)
    .await?;
    rows.iter().map(read).collect()
}

fn read(row: &PgRow) -> Result<Result<Transfer, Unreadable>, sqlx::Error> {
    let state: String = row.try_get("state")?;
    if let Err(unknown) = state.parse::<State>() {
        return Ok(Err(Unreadable {
            id: row.try_get("id")?,
            patient_id: row.try_get("patient_id")?,
            state: unknown,
        }));
    }
    Transfer::from_row(row).map(Ok)
}
