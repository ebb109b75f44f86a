//! Helpers the patient handlers share: locating a patient's shard from its ID, the
//! response headers (`ETag`, `X-Hmis-Region`, `Location`), and `If-Match`.

use super::model::PatientRow;
use crate::app::App;
use crate::audit::{self, Actor};
use crate::authz::{Relation, kinds};
use crate::http::{ApiError, record_route};
use crate::shards::Shard;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

/// A live row, or 404 / 410.
pub fn live(row: Option<PatientRow>, id: Uuid) -> Result<PatientRow, ApiError> {
    match row {
        None => Err(ApiError::NotFound(format!("no patient with ID {id}"))),
        Some(r) if r.deleted_at.is_some() => {
            Err(ApiError::Gone(format!("patient {id} was deleted")))
        }
        Some(r) => Ok(r),
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
    action: &'static str,
    object: Option<Uuid>,
) -> Result<(), ApiError> {
    if app
        .authz
        .allowed(actor.name(), region, kind, action, Relation::None)
        .await
    {
        return Ok(());
    }
    audit::denied(
        app,
        actor.line(app, region, &label(kind, action)).await,
        object,
    );
    Err(forbidden(actor, kind, action, region))
}

/// The action as a denied attempt's audit line names it.
pub fn label(kind: &str, action: &str) -> String {
    if kind == kinds::PATIENT {
        action.to_owned()
    } else {
        format!("{action} {kind}")
    }
}

/// The 403 of a refused action: it names the region and the action, never a record.
pub fn forbidden(actor: &Actor, kind: &str, action: &str, region: &str) -> ApiError {
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
            "read",
            Relation::None,
        )
        .await
}

/// A patient answer with its ETag and region.
pub fn patient_response(
    status: StatusCode,
    row: PatientRow,
    shard: &Shard,
    identity: bool,
) -> Response {
    let etag = format!("\"{}\"", row.version);
    let id = row.id;
    let body = row.into_api(shard.name(), shard.settings.tz(), identity);
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("digits are a valid header"),
    );
    headers.insert(REGION_HEADER, region_value(shard));
    if status == StatusCode::CREATED {
        let location = format!("/api/v1/patients/{id}");
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("uuid path"),
        );
    }
    response
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
