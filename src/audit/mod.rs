//! The audit trail of patient records, kept in the patient's own shard (`audit_log`,
//! append-only). Reads by ID write their line through the region's group-commit writer
//! ([`writer`]) before answering; searches in the same statement as the search; changes in
//! the same transaction as the change; a denied attempt is written after
//! the answer has gone out, so that a 403 neither waits for the patient's region nor
//! reveals whether it answered.

use crate::app::App;
use crate::auth::Subject;
use crate::http::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub mod writer;
pub use writer::AuditWriter;

/// Who is acting, in which request: what every audit line needs.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: Subject,
    pub request_id: String,
}

impl FromRequestParts<crate::app::AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &crate::app::AppState,
    ) -> Result<Self, ApiError> {
        let subject = Subject::from_request_parts(parts, app).await?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        Ok(Actor {
            subject,
            request_id,
        })
    }
}

impl Actor {
    pub fn name(&self) -> &str {
        self.subject.username()
    }

    /// The audit line's fixed part for an action in `region`.
    pub async fn line(&self, app: &App, region: &str, action: &str) -> Line {
        Line {
            actor: self.name().to_owned(),
            roles: app.authz.roles_in(self.name(), region).await,
            action: action.to_owned(),
            region: region.to_owned(),
            request_id: self.request_id.clone(),
        }
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

/// Records a denied attempt in the object's region, after the answer has gone out.
pub fn denied(app: &std::sync::Arc<App>, line: Line, object: Option<Uuid>) {
    let app = app.clone();
    tokio::spawn(async move {
        let Some(shard) = app.shards.get(&line.region) else {
            return;
        };
        let result = match shard.conn().await {
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
