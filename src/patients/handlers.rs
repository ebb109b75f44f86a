//! The patient handlers. Each one: parse, route (rules for a create, the ID for the
//! rest), run on one shard, answer with `X-Hmis-Region` and the record's `region`.

use super::http::{REGION_HEADER, db, if_match, live, locate, patient_response, region_value};
use super::model::{PatientPage, PatientRow, routing_record};
use super::repo::{self, Inserted};
use crate::app::{App, AppState};
use crate::domain::PatientId;
use crate::domain::patient::{NewPatient, ParseContext, PatientInput};
use crate::http::{ApiError, ApiJson, ApiQuery, Problem, record_route};
use crate::shards::Shard;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Registers a patient in the region the routing rules name for their district.
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", request_body = PatientInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retried create with the same key returns the first result")),
    responses((status = 201, body = super::Patient, headers(("ETag"), ("X-Hmis-Region"), ("Location"))),
              (status = 400, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PatientInput>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let patient = parse(&app, &input)?;
    let shard = place(&app, &patient)?;
    let id = PatientId::new(shard.settings.code).uuid();
    let hash = Sha256::digest(format!("{patient:?}")).to_vec();
    let mut conn = shard.conn().await?;
    let inserted = repo::insert(
        &mut conn,
        id,
        &patient,
        key.as_deref().map(|k| (k, &hash[..])),
    )
    .await
    .map_err(db(shard))?;
    match inserted {
        Inserted::Created(row) => Ok(patient_response(StatusCode::CREATED, *row, shard)),
        Inserted::Replayed {
            same_request: false,
            ..
        } => Err(ApiError::Conflict(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different patient; use a new key".into(),
        )),
        Inserted::Replayed { patient_id, .. } => {
            let row = repo::get(&conn, patient_id).await.map_err(db(shard))?;
            let mut response = patient_response(StatusCode::CREATED, live(row, patient_id)?, shard);
            response
                .headers_mut()
                .insert("idempotent-replayed", "true".parse().expect("ascii"));
            Ok(response)
        }
    }
}

/// Reads one patient. Asks exactly one region: the one inside the ID.
#[utoipa::path(get, path = "/api/v1/patients/{id}", tag = "patients",
    params(("id" = String, Path, description = "patient ID")),
    responses((status = 200, body = super::Patient, headers(("ETag"), ("X-Hmis-Region"))),
              (status = 404, body = Problem), (status = 410, body = Problem), (status = 503, body = Problem)))]
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (shard, id) = locate(&app, &id)?;
    let row = shard.read(|conn| Box::pin(repo::get(conn, id))).await?;
    Ok(patient_response(StatusCode::OK, live(row, id)?, shard))
}

/// Changes some fields. Send `If-Match` with the ETag you read; an empty string clears
/// an optional field. A district in another region is refused: that is a transfer.
#[utoipa::path(patch, path = "/api/v1/patients/{id}", tag = "patients", request_body = PatientInput,
    params(("id" = String, Path), ("If-Match" = String, Header, description = "the ETag you read")),
    responses((status = 200, body = super::Patient), (status = 409, body = Problem),
              (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<PatientInput>,
) -> Result<Response, ApiError> {
    let (shard, id) = locate(&app, &id)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let mut conn = shard.conn().await?;
    let tx = conn.transaction().await.map_err(db(shard))?;
    let current = live(repo::lock(&tx, id).await.map_err(db(shard))?, id)?;
    if current.version != expected {
        return Err(ApiError::PreconditionFailed {
            current: current.version,
        });
    }
    let merged = merge(&app, &current, &patch)?;
    if place(&app, &merged)?.name() != shard.name() {
        return Err(ApiError::Conflict(
            "region-change",
            format!(
                "district {} is served by another region; moving a patient between regions is a \
             transfer: POST /api/v1/patients/{id}/transfer",
                merged.district
            ),
        ));
    }
    let row = repo::update(&tx, id, &merged).await.map_err(db(shard))?;
    tx.commit().await.map_err(db(shard))?;
    Ok(patient_response(StatusCode::OK, row, shard))
}

/// Deletes a patient (softly: the row stays, reads answer 410). `If-Match` is optional.
#[utoipa::path(delete, path = "/api/v1/patients/{id}", tag = "patients",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 410, body = Problem),
              (status = 412, body = Problem)))]
pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (shard, id) = locate(&app, &id)?;
    let expected = if_match(&headers)?;
    let mut conn = shard.conn().await?;
    let tx = conn.transaction().await.map_err(db(shard))?;
    let current = live(repo::lock(&tx, id).await.map_err(db(shard))?, id)?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed {
            current: current.version,
        });
    }
    repo::soft_delete(&tx, id).await.map_err(db(shard))?;
    tx.commit().await.map_err(db(shard))?;
    Ok((
        StatusCode::NO_CONTENT,
        [(REGION_HEADER, region_value(shard))],
    )
        .into_response())
}

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The region to search (required for now).
    region: Option<String>,
    /// A name prefix (several words: each must start the given or family name), a phone
    /// number, a national ID or a patient ID.
    q: Option<String>,
    /// 1-based page. Default 1.
    page: Option<u32>,
    /// Patients per page, 1 to 100. Default 20.
    size: Option<u32>,
}

/// Finds patients in one region, sorted by family name.
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", params(SearchParams),
    responses((status = 200, body = PatientPage), (status = 400, body = Problem), (status = 503, body = Problem)))]
pub async fn search(
    State(app): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    let shard = search_region(&app, params.region.as_deref())?;
    let (page, size) = (params.page.unwrap_or(1), params.size.unwrap_or(20));
    if page == 0 || page > 100_000 {
        return Err(bad("page", "must be between 1 and 100000"));
    }
    if !(1..=100).contains(&size) {
        return Err(bad("size", "must be between 1 and 100"));
    }
    let q = params.q.as_deref().unwrap_or("");
    if q.chars().count() > 200 || q.chars().any(char::is_control) {
        return Err(bad(
            "q",
            "must be at most 200 characters, without control characters",
        ));
    }
    let query = super::model::search_terms(q, size, page);
    let (rows, total) = shard
        .read(|conn| {
            let query = query.clone();
            Box::pin(async move { repo::search(conn, &query).await })
        })
        .await?;
    let tz = shard.settings.tz();
    let items = rows
        .into_iter()
        .map(|r| r.into_api(shard.name(), tz))
        .collect();
    let body = PatientPage {
        region: shard.name().to_owned(),
        items,
        page,
        size,
        total,
    };
    Ok(([(REGION_HEADER, region_value(shard))], Json(body)).into_response())
}

fn bad(field: &str, detail: &str) -> ApiError {
    ApiError::BadRequest {
        field: Some(field.into()),
        detail: detail.into(),
    }
}

fn search_region<'a>(app: &'a App, region: Option<&str>) -> Result<&'a Shard, ApiError> {
    let known = || {
        app.shards
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = region.ok_or_else(|| bad("region", &format!("required: one of {}", known())))?;
    let shard = app.shards.get(name).ok_or_else(|| {
        bad(
            "region",
            &format!("unknown region \"{name}\"; known: {}", known()),
        )
    })?;
    record_route(shard.name(), None);
    Ok(shard)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) => Ok(Some(k.to_owned())),
        _ => Err(bad(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        )),
    }
}

fn parse(app: &App, input: &PatientInput) -> Result<NewPatient, ApiError> {
    let ctx = ParseContext {
        districts: &app.districts,
        today: app.today(),
    };
    input.parse(&ctx).map_err(ApiError::Validation)
}

/// The region the rules name for this patient.
fn place<'a>(app: &'a App, patient: &NewPatient) -> Result<&'a Shard, ApiError> {
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
