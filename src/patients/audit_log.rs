//! `GET /api/v1/patients/{id}/audit`: a patient's audit trail, newest first, for the
//! regional admins of the patient's region and system admins.

use crate::app::AppState;
use crate::authz::Action;
use crate::authz::kinds::PATIENT_AUDIT;
use crate::http::Actor;
use crate::http::{ApiError, ApiPath, ApiQuery, openapi as doc};
use crate::records::access::reach;
use crate::records::{REGION_HEADER, db, region_value};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<FixedOffset>,
    pub actor: String,
    /// The actor's roles in the region at the time, comma-separated.
    pub roles: String,
    /// create, read, search, update, delete, transfer
    pub action: String,
    /// ok, not_found or denied
    pub outcome: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries to return, newest first, 1 to 500. Default 100.
    limit: Option<i64>,
    /// Only entries older than this entry id (for the next page).
    before: Option<i64>,
}

/// The audit trail of one patient.
#[utoipa::path(get, path = "/api/v1/patients/{id}/audit", tag = "patients", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), AuditParams),
    responses((status = 200, body = Vec<AuditEntry>), doc::Signed, doc::Denied, doc::ByPatient, doc::BadQuery))]
pub async fn audit_trail(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT_AUDIT, Action::Read).await?;
    let (shard, id) = (at.shard, at.id);
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(super::search::bad("limit", "must be between 1 and 500"));
    }
    // A patient who moved where the reader may not look is, for her, an ID never given
    // out: its trail here shows the attempts since it left (the last successful access
    // here is the transfer), as an invented ID's shows the attempts at it.
    let hidden = at.found(Some(())).is_none();
    let conn = shard.conn().await?;
    let rows = conn
        .query(
            "SELECT id, at, actor, roles, action, outcome, request_id FROM audit_log
             WHERE object_id = $1 AND ($2::bigint IS NULL OR id < $2) AND (NOT $4 OR id >
                 coalesce((SELECT max(id) FROM audit_log WHERE object_id = $1 AND outcome = 'ok'), 0))
             ORDER BY id DESC LIMIT $3",
            &[&id, &params.before, &limit, &hidden],
        )
        .await
        .map_err(db(shard))?;
    let tz = shard.settings.tz();
    let entries: Vec<AuditEntry> = rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r
                .get::<_, DateTime<Utc>>(1)
                .with_timezone(&tz)
                .fixed_offset(),
            actor: r.get(2),
            roles: r.get(3),
            action: r.get(4),
            outcome: r.get(5),
            request_id: r.get(6),
        })
        .collect();
    Ok(([(REGION_HEADER, region_value(shard))], Json(entries)).into_response())
}
