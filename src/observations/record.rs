//! `POST /api/v1/patients/{id}/observations`: records vital signs taken at one time, in
//! one transaction with their BMI, their alerts and the audit line.

use super::input::{Measured, ObservationSetInput};
use super::model::RecordedSet;
use super::open;
use super::repo::{self, NewObservation};
use crate::app::AppState;
use crate::audit;
use crate::authz::Action;
use crate::clinical::vitals::{self, HEIGHT, WEIGHT};
use crate::http::Actor;
use crate::http::ConflictKind;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc};
use crate::records::{Work, region_value};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Transaction;
use uuid::Uuid;

/// Records vital signs. Values are converted to the code's canonical unit, impossible
/// ones refused (422 naming the field), abnormal ones flagged with the reason; a weight
/// adds a BMI; a critical value raises an alert. Send an `Idempotency-Key` from a phone
/// on a slow link: a retry then returns the first set instead of recording it twice.
#[utoipa::path(post, path = "/api/v1/patients/{id}/observations", tag = "observations",
    request_body = ObservationSetInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "patient ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key records nothing new")),
    responses((status = 201, body = RecordedSet), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody, doc::Conflict, doc::Gone))]
pub async fn record(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ObservationSetInput>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Create).await?;
    let (shard, pid) = (at.shard, at.id);
    let set = input.parse(Utc::now()).map_err(ApiError::Validation)?;
    let set_id = set_id(&headers, &actor)?;
    let (tz, line) = (
        shard.settings.tz(),
        actor
            .line(&app.authz, shard.name(), "create observation")
            .await,
    );
    let (status, observations, alerts) = shard
        .write(async |tx| -> Work<_> {
            let patient = at.writable(repo::lock_patient(tx, pid).await?)?;
            let lock = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))";
            tx.execute(lock, &[&set_id]).await?;
            let earlier = repo::set(tx, set_id, tz).await?;
            if let Some(first) = earlier.first() {
                if first.patient_id != pid {
                    return Err(ApiError::Conflict(
                        ConflictKind::IdempotencyKeyReused,
                        "this Idempotency-Key was used for another patient; use a new key".into(),
                    )
                    .into());
                }
                return Ok((StatusCode::OK, earlier, Vec::new()));
            }
            let measured = set
                .measure(patient.birth_date)
                .map_err(ApiError::Validation)?;
            let rows = with_bmi(tx, pid, set.taken_at, patient.birth_date, &measured).await?;
            let stored =
                repo::insert_set(tx, pid, set_id, set.taken_at, actor.name(), &rows, tz).await?;
            let mut alerts = Vec::new();
            for o in stored
                .iter()
                .filter(|o| o.flag == crate::clinical::vitals::Flag::Critical)
            {
                alerts.push(repo::raise_alert(tx, o, tz).await?);
            }
            audit::write(tx, &line, Some(pid), "ok").await?;
            Ok((StatusCode::CREATED, stored, alerts))
        })
        .await?;
    Ok(answer(status, shard, pid, set_id, observations, alerts))
}

fn answer(
    status: StatusCode,
    shard: &crate::shards::Shard,
    patient_id: Uuid,
    set_id: Uuid,
    observations: Vec<super::model::Observation>,
    alerts: Vec<super::model::Alert>,
) -> Response {
    let taken_at = observations[0].taken_at;
    let body = RecordedSet {
        set_id,
        patient_id,
        region: shard.name().to_owned(),
        taken_at,
        observations,
        alerts,
    };
    let location = format!("/api/v1/patients/{patient_id}/summary");
    let headers = [
        (
            HeaderName::from_static(crate::records::REGION_HEADER),
            region_value(shard),
        ),
        (header::LOCATION, location.parse().expect("uuid path")),
    ];
    (status, headers, Json(body)).into_response()
}

/// The set's ID: from the caller's `Idempotency-Key` (so that a retry finds the first
/// set), or a new one.
fn set_id(headers: &HeaderMap, actor: &Actor) -> Result<Uuid, ApiError> {
    Ok(match crate::records::idempotency_key(headers, actor)? {
        Some(key) => Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes()),
        None => Uuid::now_v7(),
    })
}

/// The rows to store: the measured values and, with a weight, the BMI from the latest
/// height (of this set, or earlier).
async fn with_bmi(
    tx: &Transaction<'_>,
    patient: Uuid,
    taken_at: DateTime<Utc>,
    birth: NaiveDate,
    measured: &[Measured],
) -> Result<Vec<NewObservation>, tokio_postgres::Error> {
    let mut rows: Vec<NewObservation> = measured.iter().map(row).collect();
    let value = |code: &str| {
        measured
            .iter()
            .find(|m| m.m.code == code)
            .map(|m| m.m.value)
    };
    if let Some(weight) = value(WEIGHT) {
        let height = match value(HEIGHT) {
            Some(h) => Some(h),
            None => repo::height_at(tx, patient, taken_at).await?,
        };
        if let Some(height) = height {
            let age = vitals::age_days(birth, taken_at.date_naive());
            let bmi = vitals::bmi(weight, height, age);
            rows.push(NewObservation {
                id: Uuid::now_v7(),
                code: bmi.code,
                panel: None,
                value: bmi.value,
                unit: bmi.unit,
                entered_value: bmi.value,
                entered_unit: bmi.unit.to_owned(),
                flag: bmi.flag,
                flag_reason: bmi.reason,
                derived: true,
            });
        }
    }
    Ok(rows)
}

fn row(m: &Measured) -> NewObservation {
    NewObservation {
        id: Uuid::now_v7(),
        code: m.m.code,
        panel: m.entry.panel,
        value: m.m.value,
        unit: m.m.unit,
        entered_value: m.entry.value,
        entered_unit: m.entry.unit.clone(),
        flag: m.m.flag,
        flag_reason: m.m.reason.clone(),
        derived: false,
    }
}
