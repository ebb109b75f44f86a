//! The patient-record guard, shared by every resource that touches one patient's record
//! (patients, observations, transfer): find the shard an ID names (after any transfer),
//! decide whether this reader may act there without revealing where a patient moved
//! ([`access`]), what a missing, deleted, merged or moving record answers ([`guard`]),
//! `If-Match`, and the headers a patient answer carries.

pub mod access;
pub mod guard;
pub mod regions;

pub use access::{Located, choose, reach, resolve};
pub use guard::{
    Guarded, Intent, Status, check, fresh, merged, moving, readable, status, writable,
};

use crate::app::App;
use crate::authz::Action;
use crate::authz::{Relation, kinds};
use crate::http::{Actor, ApiError, record_route};
use crate::shards::{Abort, Shard};
use axum::http::{HeaderMap, HeaderValue, header};
use std::sync::Arc;
use uuid::Uuid;

pub const REGION_HEADER: &str = "x-hmis-region";

/// The shard a patient ID names. An ID that is not a UUID is a 400 naming `id`; an ID
/// whose region code no region has cannot exist: 404, and no shard is asked.
pub fn locate<'a>(app: &'a App, id: &str) -> Result<(&'a Shard, Uuid), ApiError> {
    let pid: crate::domain::PatientId = id.parse().map_err(|_| ApiError::BadRequest {
        field: Some("id".into()),
        detail: format!("\"{id}\" is not a patient ID (a UUID)"),
    })?;
    let shard = app
        .shard_of(pid)
        .ok_or_else(|| ApiError::NotFound(format!("no patient with ID {id}")))?;
    record_route(shard.name(), None);
    Ok((shard, pid.uuid()))
}

/// What a write's closure returns (see [`Shard::write`]): `?` takes both the database's
/// errors and the guard's refusals.
pub type Work<T> = Result<T, Abort<ApiError>>;

impl From<ApiError> for Abort<ApiError> {
    fn from(e: ApiError) -> Self {
        Abort::Refused(e)
    }
}

pub fn db(shard: &Shard) -> impl Fn(tokio_postgres::Error) -> ApiError + '_ {
    move |e| ApiError::Shard(shard.fail(e))
}

/// The version in `If-Match` (`"3"` or `W/"3"`); required for changes.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| ApiError::BadRequest {
            field: Some("If-Match".into()),
            detail: format!("{raw:?} is not an ETag this API gave out (e.g. \"3\")"),
        })
}

/// Checks that the actor may do `action` on patient records in `region`. A denial is
/// audited in that region after the answer, and says nothing about any record.
pub async fn authorize(
    app: &Arc<App>,
    actor: &Actor,
    region: &str,
    kind: &str,
    action: Action,
    object: Option<Uuid>,
) -> Result<(), ApiError> {
    if app
        .authz
        .allowed(actor.name(), region, kind, action, Relation::None)
        .await
    {
        return Ok(());
    }
    if let Some(shard) = app.shards.get(region) {
        let line = actor.line(&app.authz, region, &label(kind, action)).await;
        crate::audit::denied(shard, line, object);
    }
    Err(forbidden(actor, kind, action, region))
}

/// The action as a denied attempt's audit line names it.
pub fn label(kind: &str, action: Action) -> String {
    if kind == kinds::PATIENT {
        action.to_string()
    } else {
        format!("{action} {kind}")
    }
}

/// The 403 of a refused action: it names the region and the action, never a record.
pub fn forbidden(actor: &Actor, kind: &str, action: Action, region: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "{} may not {action} {kind} records in region {region}",
        actor.name()
    ))
}

/// Whether the actor may see who patients of `region` are (names, phone, national ID).
pub async fn sees_identity(app: &App, actor: &Actor, region: &str) -> bool {
    app.authz
        .allowed(
            actor.name(),
            region,
            kinds::PATIENT_IDENTITY,
            Action::Read,
            Relation::None,
        )
        .await
}

pub fn region_value(shard: &Shard) -> HeaderValue {
    HeaderValue::from_str(shard.name()).expect("region names are validated as ascii")
}

/// Idempotency keys are the caller's: two users' equal keys never collide.
pub fn idempotency_key(headers: &HeaderMap, actor: &Actor) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) => Ok(Some(format!("{}\u{1f}{k}", actor.name()))),
        _ => Err(ApiError::bad(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        )),
    }
}
