//! One observation with its history (`GET`), and its correction (`PATCH`): an amendment
//! or a mark of entered-in-error, always with a reason. The earlier version goes to
//! `observation_history` (a trigger does it), alerts follow the new value, and a BMI
//! follows the weight or height it was computed from.

use super::correction::{corrected, entered_in_error, follow_alerts, recompute_bmi};
use super::model::{Observation, ObservationWithHistory};
use super::repo;
use super::{audit_read, open};
use crate::app::AppState;
use crate::audit;
use crate::authz::Action;
use crate::clinical::status::Status;
use crate::clinical::vitals::{HEIGHT, WEIGHT};
use crate::http::Actor;
use crate::http::ConflictKind;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc};
use crate::records::{Intent, REGION_HEADER, Work, fresh, if_match, region_value};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

/// One observation and every earlier version of it.
#[utoipa::path(get, path = "/api/v1/patients/{id}/observations/{observation_id}", tag = "observations", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), ("observation_id" = Uuid, Path)),
    responses((status = 200, body = ObservationWithHistory), doc::Signed, doc::Denied, doc::ByPatient, doc::Conflict, doc::Gone))]
pub async fn get(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath((id, obs)): ApiPath<(String, Uuid)>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Read).await?;
    let (shard, pid) = (at.shard, at.id);
    let tz = shard.settings.tz();
    let (patient, found) = shard
        .read(|c| {
            Box::pin(async move {
                tokio::try_join!(
                    crate::records::status(c, pid),
                    repo::with_history(c, pid, obs, tz)
                )
            })
        })
        .await?;
    let found = at.found(found);
    let outcome = if found.is_some() { "ok" } else { "not_found" };
    audit_read(&app, &actor, shard, "read observation", pid, outcome).await?;
    at.check(patient, Intent::Belongings)?;
    let (observation, history) = found
        .ok_or_else(|| ApiError::NotFound(format!("patient {pid} has no observation {obs}")))?;
    let etag = format!("\"{}\"", observation.version);
    let body = ObservationWithHistory {
        observation,
        history,
    };
    let headers = [
        (HeaderName::from_static(REGION_HEADER), region_value(shard)),
        (header::ETAG, etag.parse().expect("digits")),
    ];
    Ok((headers, Json(body)).into_response())
}

/// A correction. Give `reason` and either new `value`/`unit`/`taken_at`, or
/// `status: "entered-in-error"`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendInput {
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub taken_at: Option<String>,
    /// Only `entered-in-error`.
    pub status: Option<String>,
    /// Why, for whoever reads the history (1 to 500 characters).
    pub reason: Option<String>,
}

/// Corrects an observation; the earlier version stays in its history. Send `If-Match`.
#[utoipa::path(patch, path = "/api/v1/patients/{id}/observations/{observation_id}", tag = "observations",
    request_body = AmendInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path), ("observation_id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Observation), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody,
              doc::Versioned, doc::MatchRequired, doc::Conflict, doc::Gone))]
pub async fn amend(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath((id, obs)): ApiPath<(String, Uuid)>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AmendInput>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Update).await?;
    let (shard, pid) = (at.shard, at.id);
    let (reason, status) = parse_amend(&input)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let (tz, line) = (
        shard.settings.tz(),
        actor
            .line(&app.authz, shard.name(), "update observation")
            .await,
    );
    let updated = shard
        .write(async |tx| -> Work<_> {
            let patient = at.writable(repo::lock_patient(tx, pid).await?)?;
            let current = repo::lock(tx, pid, obs, tz).await?.ok_or_else(|| {
                ApiError::NotFound(format!("patient {pid} has no observation {obs}"))
            })?;
            check(&current, expected)?;
            let change = if status == Some(Status::EnteredInError) {
                entered_in_error(&current, actor.name(), &reason)
            } else {
                corrected(&current, &input, patient.birth_date, actor.name(), &reason)?
            };
            let updated = repo::change(tx, obs, &change, tz).await?;
            follow_alerts(tx, &current, &updated, tz).await?;
            if updated.code == WEIGHT || updated.code == HEIGHT {
                recompute_bmi(tx, pid, &updated, patient.birth_date, actor.name()).await?;
            }
            audit::write(tx, &line, Some(pid), "ok").await?;
            Ok(updated)
        })
        .await?;
    let etag = format!("\"{}\"", updated.version);
    let headers = [
        (HeaderName::from_static(REGION_HEADER), region_value(shard)),
        (header::ETAG, etag.parse().expect("digits")),
    ];
    Ok((headers, Json(updated)).into_response())
}

/// The reason, and the status the correction sets: none (a new value, unit or time), or
/// `entered-in-error`, the only one a client may set.
fn parse_amend(input: &AmendInput) -> Result<(String, Option<Status>), ApiError> {
    let reason = input.reason.as_deref().map(str::trim).unwrap_or("");
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "say why, in 1 to 500 characters"));
    }
    let status = match input.status.as_deref() {
        None => None,
        Some(text) => match text.parse::<Status>() {
            Ok(Status::EnteredInError) => Some(Status::EnteredInError),
            Ok(_) | Err(_) => {
                return Err(ApiError::field(
                    "status",
                    format!("\"{text}\": the only status a correction sets is entered-in-error"),
                ));
            }
        },
    };
    let changes = input.value.is_some() || input.unit.is_some() || input.taken_at.is_some();
    match status {
        Some(_) if changes => Err(ApiError::field(
            "status",
            "mark it entered-in-error, or correct value/unit/taken_at: not both",
        )),
        None if !changes => Err(ApiError::field(
            "value",
            "send the corrected value, unit or taken_at (or status entered-in-error)",
        )),
        status => Ok((reason.to_owned(), status)),
    }
}

fn check(current: &Observation, expected: i32) -> Result<(), ApiError> {
    if current.status == Status::EnteredInError {
        return Err(ApiError::Conflict(
            ConflictKind::EnteredInError,
            "this observation was entered in error; record a new one".into(),
        ));
    }
    if current.derived {
        return Err(ApiError::Conflict(
            ConflictKind::Derived,
            "a BMI is computed: correct the weight or height it came from".into(),
        ));
    }
    fresh(Some(expected), current.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(status: Option<&str>, value: Option<f64>) -> AmendInput {
        AmendInput {
            status: status.map(str::to_owned),
            value,
            reason: Some(" typo ".into()),
            ..AmendInput::default()
        }
    }

    fn refused_field(input: &AmendInput) -> Option<String> {
        match parse_amend(input) {
            Err(ApiError::Validation(errors)) => Some(errors[0].field.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_correction_sets_entered_in_error_or_no_status_with_its_reason_trimmed() {
        let (reason, status) = parse_amend(&input(Some("entered-in-error"), None)).unwrap();
        assert_eq!(
            (reason.as_str(), status),
            ("typo", Some(Status::EnteredInError))
        );
        let (_, status) = parse_amend(&input(None, Some(71.0))).unwrap();
        assert_eq!(status, None);
    }

    #[test]
    fn any_other_status_known_or_not_is_refused_naming_the_status() {
        for text in ["final", "amended", "Entered-In-Error", "valid", ""] {
            assert_eq!(
                refused_field(&input(Some(text), None)).as_deref(),
                Some("status"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn entered_in_error_with_a_new_value_or_neither_is_refused() {
        let both = input(Some("entered-in-error"), Some(71.0));
        assert_eq!(refused_field(&both).as_deref(), Some("status"));
        assert_eq!(refused_field(&input(None, None)).as_deref(), Some("value"));
    }
}
