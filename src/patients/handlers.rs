//! The patient handlers. Each one: parse, route (rules for a create, the ID for the
//! rest), authorize for that region before touching its shard, run on that one shard with
//! the audit line, answer with `X-Hmis-Region` and the record's `region`.

use super::http::patient_response;
use super::model::{PatientRow, routing_record};
use super::repo::{self, Inserted};
use crate::app::{App, AppState};
use crate::audit;
use crate::authz::Action;
use crate::authz::kinds::PATIENT;
use crate::domain::PatientId;
use crate::domain::patient::{NewPatient, ParseContext, PatientInput};
use crate::http::Actor;
use crate::http::ConflictKind;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc, record_route};
use crate::records::access::reach;
use crate::records::{
    REGION_HEADER, Work, authorize, fresh, idempotency_key, if_match, readable, region_value,
    sees_identity,
};
use crate::shards::Shard;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Registers a patient in the region the routing rules name for their district.
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", request_body = PatientInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "a retried create with the same key returns the first result")),
    responses((status = 201, body = super::Patient, headers(("ETag"), ("X-Hmis-Region"), ("Location"))),
              doc::Signed, doc::Denied, doc::BadBody, doc::Conflict, doc::Gone, doc::Unavailable))]
pub async fn create(
    State(app): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PatientInput>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, &actor)?;
    let patient = parse(&app, &input)?;
    let shard = place(&app, &patient)?;
    authorize(&app, &actor, shard.name(), PATIENT, Action::Create, None).await?;
    let confirmed = input.not_duplicate_of.as_deref().unwrap_or_default();
    let replay = key.as_deref().map(|k| (shard, k));
    let unchecked =
        super::duplicates::before_create(&app, &actor, &patient, confirmed, replay).await?;
    let id = PatientId::new(shard.settings.code).uuid();
    let hash = Sha256::digest(format!("{patient:?}")).to_vec();
    let line = actor.line(&app.authz, shard.name(), "create").await;
    let key = key.as_deref().map(|k| (k, &hash[..]));
    let inserted = shard
        .write(async |tx| -> Work<_> { Ok(repo::insert(tx, id, &patient, key, &line).await?) })
        .await?;
    let identity = sees_identity(&app, &actor, shard.name()).await;
    match inserted {
        Inserted::Created(row) => {
            let mut response = patient_response(StatusCode::CREATED, *row, shard, identity);
            if !unchecked.is_empty() {
                let note = format!("incomplete; unchecked={}", unchecked.join(","));
                let value = note.parse().expect("region names are ascii");
                response
                    .headers_mut()
                    .insert("x-hmis-duplicate-check", value);
            }
            Ok(response)
        }
        Inserted::Replayed {
            same_request: false,
            ..
        } => Err(ApiError::Conflict(
            ConflictKind::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different patient; use a new key".into(),
        )),
        Inserted::Replayed { patient_id, .. } => {
            let row = shard.read(|c| Box::pin(repo::get(c, patient_id))).await?;
            let mut response = patient_response(
                StatusCode::CREATED,
                readable(row, patient_id)?,
                shard,
                identity,
            );
            response
                .headers_mut()
                .insert("idempotent-replayed", "true".parse().expect("ascii"));
            Ok(response)
        }
    }
}

/// Reads one patient. Asks exactly one region, the one inside the ID (or the one the
/// patient moved to), and only if the reader may read the region the ID names: otherwise
/// 403, whether or not the record exists. A patient who moved to a region the reader may
/// not read is 404, as an ID that never existed (see `access`).
#[utoipa::path(get, path = "/api/v1/patients/{id}", tag = "patients", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "patient ID")),
    responses((status = 200, body = super::Patient, headers(("ETag"), ("X-Hmis-Region"))),
              doc::Signed, doc::Denied, doc::ByPatient, doc::Gone))]
pub async fn get(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT, Action::Read).await?;
    let (shard, id) = (at.shard, at.id);
    let row = at.found(shard.read(|conn| Box::pin(repo::get(conn, id))).await?);
    let line = actor.line(&app.authz, shard.name(), "read").await;
    let outcome = if row.is_some() { "ok" } else { "not_found" };
    // No answer before its audit line is written.
    app.audit
        .record_read(shard, line, Some(id), outcome)
        .await?;
    let identity = sees_identity(&app, &actor, shard.name()).await;
    Ok(patient_response(
        StatusCode::OK,
        readable(row, id)?,
        shard,
        identity,
    ))
}

/// Changes some fields. Send `If-Match` with the ETag you read; an empty string clears
/// an optional field. A district in another region is refused: that is a transfer.
#[utoipa::path(patch, path = "/api/v1/patients/{id}", tag = "patients", request_body = PatientInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "the ETag you read")),
    responses((status = 200, body = super::Patient), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody,
              doc::Versioned, doc::MatchRequired, doc::Conflict, doc::Gone))]
pub async fn update(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<PatientInput>,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT, Action::Update).await?;
    let (shard, id) = (at.shard, at.id);
    if patch.not_duplicate_of.is_some() {
        return Err(ApiError::field(
            "not_duplicate_of",
            "is for registration only",
        ));
    }
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let line = actor.line(&app.authz, shard.name(), "update").await;
    let row = shard
        .write(async |tx| -> Work<_> {
            let current = at.writable(repo::lock(tx, id).await?)?;
            fresh(Some(expected), current.version)?;
            let merged = merge(&app, &current, &patch)?;
            if place(&app, &merged)?.name() != shard.name() {
                return Err(region_change(&merged.district, id).into());
            }
            let row = repo::update(tx, id, &merged).await?;
            audit::write(tx, &line, Some(id), "ok").await?;
            Ok(row)
        })
        .await?;
    let identity = sees_identity(&app, &actor, shard.name()).await;
    Ok(patient_response(StatusCode::OK, row, shard, identity))
}

/// Deletes a patient (softly: the row stays, reads answer 410). `If-Match` is optional.
#[utoipa::path(delete, path = "/api/v1/patients/{id}", tag = "patients", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), doc::Signed, doc::Denied, doc::ByPatient, doc::Versioned, doc::Conflict, doc::Gone))]
pub async fn delete(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT, Action::Delete).await?;
    let (shard, id) = (at.shard, at.id);
    let expected = if_match(&headers)?;
    let line = actor.line(&app.authz, shard.name(), "delete").await;
    shard
        .write(async |tx| -> Work<_> {
            let current = at.writable(repo::lock(tx, id).await?)?;
            fresh(expected, current.version)?;
            repo::soft_delete(tx, id).await?;
            audit::write(tx, &line, Some(id), "ok").await?;
            Ok(())
        })
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(REGION_HEADER, region_value(shard))],
    )
        .into_response())
}

fn region_change(district: &str, id: uuid::Uuid) -> ApiError {
    ApiError::Conflict(
        ConflictKind::RegionChange,
        format!(
            "district {district} is served by another region; moving a patient between regions \
             is a transfer: POST /api/v1/patients/{id}/transfer"
        ),
    )
}

fn parse(app: &App, input: &PatientInput) -> Result<NewPatient, ApiError> {
    let ctx = ParseContext {
        districts: &app.districts,
        today: app.today(),
    };
    input.parse(&ctx).map_err(ApiError::Validation)
}

/// The region the rules name for this patient.
pub fn place<'a>(app: &'a App, patient: &NewPatient) -> Result<&'a Shard, ApiError> {
    let resolve = |e: &str, id: &str| app.resolve_parent(e, id);
    let routed = app.rules.route(&routing_record(patient), &resolve)?;
    record_route(&routed.region, Some(&routed.rule));
    app.shards.get(&routed.region).ok_or_else(|| {
        anyhow::anyhow!(
            "rule {} names region {} without a pool",
            routed.rule,
            routed.region
        )
        .into()
    })
}

/// The current record with the patch's fields laid over it, parsed like a create.
fn merge(app: &App, current: &PatientRow, patch: &PatientInput) -> Result<NewPatient, ApiError> {
    let mut input = current.to_input();
    let birth_changed = patch.birth_date.is_some() || patch.estimated_age_years.is_some();
    macro_rules! overlay { ($($f:ident),*) => { $(if patch.$f.is_some() { input.$f = patch.$f.clone(); })* } }
    overlay!(
        given_name,
        family_name,
        sex,
        district,
        village,
        facility,
        phone,
        national_id
    );
    if birth_changed {
        input.birth_date = patch.birth_date.clone();
        input.estimated_age_years = patch.estimated_age_years;
    }
    let mut merged = parse(app, &input)?;
    if !birth_changed {
        merged.birth_date_estimated = current.birth_date_estimated;
    }
    Ok(merged)
}
