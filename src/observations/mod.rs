//! Vital signs: `/api/v1/patients/{id}/observations`, the patient's summary and alerts.
//! Observations are placed by the routing rules' `follow` rule, in the region of their
//! patient; every read is audited as a read of the patient's record; nothing is ever
//! overwritten (amendments keep the earlier versions, see `observation_history`).

mod alerts;
mod amend;
mod correction;
pub mod input;
pub mod model;
mod record;
pub mod repo;
pub mod report;
mod view;

use crate::app::{App, AppState};
use crate::authz::Action;
use crate::authz::kinds::OBSERVATION;
use crate::http::Actor;
use crate::http::{ApiError, record_route};
use crate::records::access::{self, Located};
use crate::records::locate;
use crate::routing::Record;
use crate::shards::Shard;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record::record, view::chart))
        .routes(routes!(amend::get, amend::amend))
        .routes(routes!(view::summary))
        .routes(routes!(alerts::acknowledge))
}

/// The shard the rules place a patient's observations in, after checking that the actor
/// may `action` observations there; what it finds is hidden when the patient moved where
/// the actor may not act (see `patients::access`).
async fn open<'a>(
    app: &'a std::sync::Arc<App>,
    actor: &Actor,
    patient: &str,
    action: Action,
) -> Result<Located<'a>, ApiError> {
    let (_, id) = locate(app, patient)?;
    let record = Record::new("observation").with("patient_id", id.to_string());
    let resolve = |e: &str, id: &str| app.resolve_parent(e, id);
    let routed = app.rules.route(&record, &resolve)?;
    record_route(&routed.region, Some(&routed.rule));
    let shard = app
        .shards
        .get(&routed.region)
        .ok_or_else(|| ApiError::NotFound(format!("no patient with ID {id}")))?;
    let pid = crate::domain::PatientId::from_uuid(id);
    access::resolve(app, actor, pid, shard, OBSERVATION, action).await
}

/// Writes a read's audit line through the region's writer before the answer goes out.
async fn audit_read(
    app: &App,
    actor: &Actor,
    shard: &Shard,
    action: &str,
    id: Uuid,
    outcome: &'static str,
) -> Result<(), ApiError> {
    let line = actor.line(&app.authz, shard.name(), action).await;
    Ok(app
        .audit
        .record_read(shard, line, Some(id), outcome)
        .await?)
}
