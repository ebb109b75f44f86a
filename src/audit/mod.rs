//! The audit trail of patient records, kept in the patient's own shard (`audit_log`,
//! append-only). Reads by ID write their line through the region's group-commit writer
//! ([`writer`]) before answering; searches in the same statement as the search; changes in
//! the same transaction as the change; a denied attempt is written after
//! the answer has gone out, so that a 403 neither waits for the patient's region nor
//! reveals whether it answered.

use crate::shards::{Shard, ShardError, Shards};
use deadpool_postgres::GenericClient;
use std::collections::HashMap;
use uuid::Uuid;

pub mod writer;
pub use writer::AuditWriter;

/// Every region's audit writer, by region name.
pub struct Trail {
    writers: HashMap<String, AuditWriter>,
}

impl Trail {
    /// Starts a writer per region, each on a connection of its own, so that reads never
    /// queue behind audit batches. Nothing connects yet.
    pub fn new(shards: &Shards) -> Trail {
        let writers = shards
            .iter()
            .map(|s| {
                (
                    s.name().to_owned(),
                    AuditWriter::spawn(s.name().to_owned(), s.own_readers(1)),
                )
            })
            .collect();
        Trail { writers }
    }

    /// Writes one line through its region's writer; returns once it is in the database.
    pub async fn record(
        &self,
        line: Line,
        object: Option<Uuid>,
        outcome: &'static str,
    ) -> Result<(), String> {
        match self.writers.get(&line.region) {
            Some(w) => w.record(line, object, outcome).await,
            None => Err(format!("no audit writer for region {}", line.region)),
        }
    }

    /// Writes a read's audit line in `shard`. The read is answered only once this returns;
    /// a line that cannot be written makes the region unavailable.
    pub async fn record_read(
        &self,
        shard: &Shard,
        line: Line,
        object: Option<Uuid>,
        outcome: &'static str,
    ) -> Result<(), ShardError> {
        self.record(line, object, outcome)
            .await
            .map_err(|reason| ShardError::Unavailable {
                region: shard.name().to_owned(),
                reason,
            })
    }
}

/// One audit line, but for its object and outcome.
#[derive(Debug, Clone)]
pub struct Line {
    pub actor: String,
    pub roles: String,
    /// `create`, `read`, `search`, `update`, `delete`, `transfer`; for other object kinds
    /// the kind follows (`read patient_audit`).
    pub action: String,
    pub region: String,
    pub request_id: String,
}

pub const INSERT: &str = "INSERT INTO audit_log (actor, roles, action, object_kind, object_id, region, outcome, request_id)
     VALUES ($1, $2, $3, 'patient', $4, $5, $6, $7)";

/// Writes a line in `tx` (a change's own transaction).
pub async fn write(
    tx: &impl GenericClient,
    line: &Line,
    object: Option<Uuid>,
    outcome: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = tx.prepare_cached(INSERT).await?;
    tx.execute(
        &stmt,
        &[
            &line.actor,
            &line.roles,
            &line.action,
            &object,
            &line.region,
            &outcome,
            &line.request_id,
        ],
    )
    .await
    .map(|_| ())
}

/// A planner's query in one region: no object, and the SQL asked (`query_text`).
pub async fn write_query(
    conn: &impl GenericClient,
    line: &Line,
    query_text: &str,
) -> Result<(), tokio_postgres::Error> {
    conn.execute(
        "INSERT INTO audit_log (actor, roles, action, object_kind, object_id, region, outcome, request_id, query_text)
         VALUES ($1, $2, $3, 'query', NULL, $4, 'ok', $5, $6)",
        &[
            &line.actor,
            &line.roles,
            &line.action,
            &line.region,
            &line.request_id,
            &query_text,
        ],
    )
    .await
    .map(|_| ())
}

/// Records a denied attempt in `shard` (the object's region), after the answer has gone
/// out.
pub fn denied(shard: &Shard, line: Line, object: Option<Uuid>) {
    let pool = shard.pool();
    tokio::spawn(async move {
        let result = match pool.get().await {
            Ok(conn) => write(&conn, &line, object, "denied")
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, actor = %line.actor, region = %line.region, "could not write the audit line of a denied attempt");
        }
    });
}
