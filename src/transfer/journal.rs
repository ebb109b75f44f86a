//! The transfer journal in the central database: one row per transfer and its state, the
//! forwarding of a moved patient, and the news to every hmis process.

use crate::domain::notify;
use sqlx::PgPool;
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
    pub state: String,
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
    .bind(&t.state)
    .bind(&t.reason)
    .bind(&t.requested_by)
    .execute(central)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn set_state(
    central: &PgPool,
    id: Uuid,
    state: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE transfers SET state = $2, last_error = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(state)
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
    sqlx::query("UPDATE transfers SET state = 'switched', updated_at = now() WHERE id = $1")
        .bind(t.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(notify::AUTH_CHANNEL)
        .bind(notify::encode(&notify::Note::Forwarding))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Transfers that have not finished, oldest first.
pub async fn unfinished(central: &PgPool) -> Result<Vec<Transfer>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transfers WHERE state NOT IN ('done', 'rolled_back')
         ORDER BY started_at"
    ))
    .fetch_all(central)
    .await
}
