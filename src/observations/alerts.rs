//! `POST /api/v1/patients/{id}/alerts/{alert_id}/acknowledge`: a clinician has seen a
//! critical value. The alert leaves the active list; who and when stay on it.

use super::model::Alert;
use super::open;
use crate::app::AppState;
use crate::audit;
use crate::authz::Action;
use crate::http::Actor;
use crate::http::{ApiError, ApiPath, openapi as doc};
use crate::records::{REGION_HEADER, Work, region_value};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// Acknowledges an alert. Acknowledging twice keeps the first acknowledgement.
#[utoipa::path(post, path = "/api/v1/patients/{id}/alerts/{alert_id}/acknowledge", tag = "observations", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), ("alert_id" = Uuid, Path)),
    responses((status = 200, body = Alert), doc::Signed, doc::Denied, doc::ByPatient, doc::Conflict, doc::Gone))]
pub async fn acknowledge(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath((id, alert)): ApiPath<(String, Uuid)>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Acknowledge).await?;
    let (shard, pid) = (at.shard, at.id);
    let line = actor
        .line(&app.authz, shard.name(), "acknowledge alert")
        .await;
    let tz = shard.settings.tz();
    let acked = shard
        .write(async |tx| -> Work<_> {
            // Share-locked: a merge, delete or transfer waits for the acknowledgement.
            at.writable(super::repo::lock_patient(tx, pid).await?)?;
            let acked = super::repo::acknowledge(tx, pid, alert, actor.name(), tz).await?;
            // Rolled back when hidden: nothing of a moved record changes.
            let acked = at
                .found(acked)
                .ok_or_else(|| ApiError::NotFound(format!("patient {pid} has no alert {alert}")))?;
            audit::write(tx, &line, Some(pid), "ok").await?;
            Ok(acked)
        })
        .await?;
    Ok(([(REGION_HEADER, region_value(shard))], Json(acked)).into_response())
}
