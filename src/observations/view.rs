//! The patient report: `GET /api/v1/patients/{id}/summary` and the chart query
//! `GET /api/v1/patients/{id}/observations?code=...&from=...&to=...`. Both are reads of the
//! patient's record, audited before they answer.

use super::report::{self, Point, Summary};
use super::{audit_read, open};
use crate::app::AppState;
use crate::authz::Action;
use crate::clinical::vitals::{self, BP_PANEL, DIASTOLIC, SYSTOLIC};
use crate::http::Actor;
use crate::http::{ApiError, ApiPath, ApiQuery, openapi as doc};
use crate::records::{Intent, REGION_HEADER, region_value};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The latest value of each vital sign with its flag and time, the active alerts, counts.
#[utoipa::path(get, path = "/api/v1/patients/{id}/summary", tag = "observations", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "patient ID")),
    responses((status = 200, body = Summary), doc::Signed, doc::Denied, doc::ByPatient, doc::Conflict, doc::Gone))]
pub async fn summary(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Read).await?;
    let (shard, pid) = (at.shard, at.id);
    let tz = shard.settings.tz();
    let (patient, (latest, alerts, counts)) = shard
        .read(|c| {
            Box::pin(async move {
                tokio::try_join!(crate::records::status(c, pid), report::summary(c, pid, tz))
            })
        })
        .await?;
    let outcome = if at.found(patient).is_some() {
        "ok"
    } else {
        "not_found"
    };
    audit_read(&app, &actor, shard, "read summary", pid, outcome).await?;
    at.check(patient, Intent::Belongings)?;
    let body = Summary {
        patient_id: pid,
        region: shard.name().to_owned(),
        latest,
        alerts,
        counts,
    };
    Ok(([(REGION_HEADER, region_value(shard))], Json(body)).into_response())
}

/// Chart parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChartParams {
    /// LOINC codes, comma-separated (`8867-4,2708-6`); `85354-9` means both blood pressures.
    code: Option<String>,
    /// Start (inclusive): a time with offset or a date. Default: the beginning.
    from: Option<String>,
    /// End (exclusive): a time with offset or a date (the whole day). Default: now.
    to: Option<String>,
    /// At most this many points per code, 2 to 1000. Default 200. Longer ranges are
    /// averaged into equal time buckets.
    points: Option<i32>,
}

/// One code's points.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    pub code: String,
    pub name: &'static str,
    pub unit: &'static str,
    /// Readings in the range; more than `points.len()` when downsampled.
    pub total: i64,
    pub downsampled: bool,
    pub points: Vec<Point>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Chart {
    pub patient_id: Uuid,
    pub region: String,
    pub series: Vec<Series>,
}

/// Readings of some vital signs over time, for a chart, at most `points` per code.
#[utoipa::path(get, path = "/api/v1/patients/{id}/observations", tag = "observations", security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "patient ID"), ChartParams),
    responses((status = 200, body = Chart), doc::Signed, doc::Denied, doc::ByPatient, doc::BadQuery, doc::Conflict, doc::Gone))]
pub async fn chart(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ChartParams>,
) -> Result<Response, ApiError> {
    let at = open(&app, &actor, &id, Action::Read).await?;
    let (shard, pid) = (at.shard, at.id);
    let tz = shard.settings.tz();
    let (codes, range, points) = chart_params(&params, Utc::now(), tz)?;
    let (patient, rows) = shard
        .read(|c| {
            let codes = codes.clone();
            Box::pin(async move {
                tokio::try_join!(
                    crate::records::status(c, pid),
                    report::chart(c, pid, &codes, range, points, tz)
                )
            })
        })
        .await?;
    let outcome = if at.found(patient).is_some() {
        "ok"
    } else {
        "not_found"
    };
    audit_read(&app, &actor, shard, "read observations", pid, outcome).await?;
    at.check(patient, Intent::Belongings)?;
    let mut series: Vec<Series> = codes.iter().map(|c| empty_series(c)).collect();
    for (code, total, point) in rows {
        if let Some(s) = series.iter_mut().find(|s| s.code == code) {
            s.total = total;
            s.points.push(point);
        }
    }
    for s in &mut series {
        s.downsampled = s.total > s.points.len() as i64;
    }
    let body = Chart {
        patient_id: pid,
        region: shard.name().to_owned(),
        series,
    };
    Ok(([(REGION_HEADER, region_value(shard))], Json(body)).into_response())
}

fn empty_series(code: &str) -> Series {
    let def = vitals::def(code);
    Series {
        code: code.to_owned(),
        name: def.map_or("unknown", |d| d.name),
        unit: def.map_or("", |d| d.unit),
        total: 0,
        downsampled: false,
        points: Vec::new(),
    }
}

use crate::http::period::{Range, range};

/// Parses the chart's parameters: known codes, a range that ends after it starts, a point
/// budget a phone can afford.
pub fn chart_params(
    p: &ChartParams,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<(Vec<String>, Range, i32), ApiError> {
    let raw = p.code.as_deref().unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ApiError::bad(
            "code",
            "name at least one LOINC code, e.g. code=8867-4",
        ));
    }
    let mut codes: Vec<String> = Vec::new();
    for code in raw.split(',').map(str::trim) {
        let expanded: &[&str] = if code == BP_PANEL {
            &[SYSTOLIC, DIASTOLIC]
        } else {
            &[code]
        };
        for c in expanded {
            if vitals::def(c).is_none() {
                return Err(ApiError::bad(
                    "code",
                    format!("{c} is not a vital sign hmis records"),
                ));
            }
            if !codes.iter().any(|k| k == c) {
                codes.push((*c).to_owned());
            }
        }
    }
    let (from, to) = range(p.from.as_deref(), p.to.as_deref(), tz, now)?;
    let points = p.points.unwrap_or(200);
    if !(2..=1000).contains(&points) {
        return Err(ApiError::bad("points", "must be between 2 and 1000"));
    }
    Ok((codes, (from, to), points))
}
