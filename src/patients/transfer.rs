//! Moving a patient to another region: `POST /api/v1/patients/{id}/transfer`. Checks the
//! request and who asks, writes down what the transfer will do, and hands it to the engine
//! ([`crate::transfer`]), which finishes it even if hmis dies half-way.

use crate::app::{App, AppState};
use crate::authz::Action;
use crate::authz::kinds::PATIENT;
use crate::http::Actor;
use crate::http::ConflictKind;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc};
use crate::records::access::reach;
use crate::records::authorize;
use crate::shards::Conn;
use crate::transfer::{Transfer, drive, journal, no_faults};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transfer))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// The district the patient now lives in, served by another region.
    pub district: Option<String>,
    pub reason: Option<String>,
}

/// Moves a patient, and all their records, to the region that serves their new district.
/// Needs the right to transfer patients in their region and to create them in the new one.
#[utoipa::path(post, path = "/api/v1/patients/{id}/transfer", tag = "patients", request_body = TransferInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Transfer), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody, doc::Conflict, doc::Gone))]
pub async fn transfer(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TransferInput>,
) -> Result<Json<Transfer>, ApiError> {
    let mut t = plan(&app, &actor, &id, &input).await?;
    if !journal::insert(&app.central, &t)
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(crate::records::moving(t.patient_id));
    }
    if let Err(e) = drive(&app.transfers(), &mut t, &no_faults).await {
        // The whole story (PostgreSQL's message too) is for the log; the client is told
        // the region and the reason's word (see `From<TransferError> for ApiError`).
        tracing::warn!(transfer = %t.id, state = %t.state, error = %e, "transfer not finished");
        return Err(e.into());
    }
    Ok(Json(t))
}

/// Checks the request and who asks, and writes down what the transfer will do.
pub async fn plan(
    app: &Arc<App>,
    actor: &Actor,
    id: &str,
    input: &TransferInput,
) -> Result<Transfer, ApiError> {
    let at = reach(app, actor, id, PATIENT, Action::Transfer).await?;
    let (source, pid) = (at.shard, at.id);
    let (row, folded) = source
        .read(|c| {
            Box::pin(async move {
                let sql = "SELECT EXISTS (SELECT 1 FROM patients WHERE merged_into = $1)";
                let params: &[&(dyn tokio_postgres::types::ToSql + Sync)] = &[&pid];
                let folded = c.client().query_one(sql, params);
                tokio::try_join!(crate::patients::repo::get(c, pid), folded)
            })
        })
        .await?;
    let row = at.writable(row)?;
    if folded.get::<_, bool>(0) {
        return Err(ApiError::Conflict(
            ConflictKind::HasMergedRecords,
            format!("records were merged into {pid}: undo those merges, or transfer them first"),
        ));
    }
    let mut moved = row.to_input();
    moved.district = Some(
        input
            .district
            .clone()
            .ok_or_else(|| ApiError::field("district", "is required"))?,
    );
    let ctx = crate::domain::patient::ParseContext {
        districts: &app.districts,
        today: app.today(),
    };
    let patient = moved.parse(&ctx).map_err(ApiError::Validation)?;
    let target = crate::patients::place(app, &patient)?;
    if target.name() == source.name() {
        return Err(ApiError::Conflict(
            ConflictKind::SameRegion,
            format!(
                "{} is served by {} already: change the district with PATCH",
                patient.district,
                source.name()
            ),
        ));
    }
    authorize(
        app,
        actor,
        target.name(),
        PATIENT,
        Action::Create,
        Some(pid),
    )
    .await?;
    Ok(Transfer {
        id: Uuid::now_v7(),
        patient_id: pid,
        hrn: row.hrn,
        from_region: source.name().to_owned(),
        to_region: target.name().to_owned(),
        district: patient.district,
        state: crate::transfer::State::Started,
        reason: input.reason.clone(),
        requested_by: actor.name().to_owned(),
        last_error: None,
    })
}
