//! What moves with a patient, and how: every table that holds a patient's records, read
//! from the source region in one snapshot and written to the target in one transaction,
//! generically (`json_populate_recordset`), so that a table added later moves by adding
//! one line to [`TABLES`]. A test fails when a shard table is in neither list.

use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

/// A table that holds a patient's records.
pub struct Table {
    pub name: &'static str,
    /// Which rows belong to patient `$1`.
    pub rows: &'static str,
    /// Columns to copy when not all (`audit_log` gets new IDs in its new region).
    pub columns: Option<&'static str>,
    /// Deleted from the source once the target has them (the audit trail stays: it is
    /// append-only, and the source region's own record of what happened there).
    pub delete: bool,
}

/// In copy order (parents first); deleted in reverse.
pub const TABLES: &[Table] = &[
    Table {
        name: "patients",
        rows: "id = $1",
        columns: None,
        delete: true,
    },
    Table {
        name: "observations",
        rows: "patient_id = $1",
        columns: None,
        delete: true,
    },
    Table {
        name: "observation_history",
        rows: "observation_id IN (SELECT id FROM observations WHERE patient_id = $1)",
        columns: None,
        delete: true,
    },
    Table {
        name: "alerts",
        rows: "patient_id = $1",
        columns: None,
        delete: true,
    },
    Table {
        name: "idempotency_keys",
        rows: "patient_id = $1",
        columns: None,
        delete: true,
    },
    Table {
        name: "patient_merges",
        rows: "survivor_id = $1 OR duplicate_id = $1",
        columns: None,
        delete: true,
    },
    Table {
        name: "audit_log",
        rows: "object_id = $1",
        columns: Some(
            "at, actor, roles, action, object_kind, object_id, region, outcome, request_id",
        ),
        delete: false,
    },
];

/// Shard tables that hold no patient's records.
///
/// The change log holds IDs, never a copy of the record, and each region's log tells what
/// happened in that region: the copy appears as inserts in the target's log (its triggers
/// fire), the deletion as deletes in the source's, and both age out with the retention.
pub const NOT_PATIENT_DATA: &[&str] = &[
    "shard_identity",
    "_sqlx_migrations",
    "change_log",
    "change_log_meta",
];

/// Every row of the patient, table by table, read in one snapshot.
pub async fn read_all(
    conn: &mut deadpool_postgres::Object,
    patient: Uuid,
) -> Result<Vec<Value>, tokio_postgres::Error> {
    let tx = conn
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut out = Vec::new();
    for t in TABLES {
        let sql = format!(
            "SELECT coalesce(json_agg(t), '[]'::json) FROM {} t WHERE {}",
            t.name, t.rows
        );
        out.push(tx.query_one(&sql, &[&patient]).await?.get(0));
    }
    tx.commit().await?;
    Ok(out)
}

/// Writes the rows in `tx` (the target's), the patient's district set to the new one.
pub async fn write_all(
    tx: &impl GenericClient,
    patient: Uuid,
    district: &str,
    rows: &[Value],
) -> Result<(), tokio_postgres::Error> {
    tx.execute("SET LOCAL hmis.transfer = 'on'", &[]).await?;
    for (t, json) in TABLES.iter().zip(rows) {
        let cols = t.columns.unwrap_or("*");
        let insert = match t.columns {
            Some(c) => format!("INSERT INTO {} ({c})", t.name),
            None => format!("INSERT INTO {}", t.name),
        };
        let sql = format!(
            "{insert} SELECT {cols} FROM json_populate_recordset(NULL::{}, $1::text::json)
             ON CONFLICT DO NOTHING",
            t.name
        );
        tx.execute(&sql, &[&json.to_string()]).await?;
    }
    tx.execute(
        "UPDATE patients SET district = $2, transfer_id = NULL, version = version + 1,
             updated_at = now() WHERE id = $1",
        &[&patient, &district],
    )
    .await?;
    Ok(())
}

/// Deletes the patient's rows from the source, children first, in `tx`.
pub async fn delete_all(
    tx: &impl GenericClient,
    patient: Uuid,
) -> Result<(), tokio_postgres::Error> {
    tx.execute("SET LOCAL hmis.transfer = 'on'", &[]).await?;
    for t in TABLES.iter().rev().filter(|t| t.delete) {
        let sql = format!("DELETE FROM {} WHERE {}", t.name, t.rows);
        tx.execute(&sql, &[&patient]).await?;
    }
    Ok(())
}
