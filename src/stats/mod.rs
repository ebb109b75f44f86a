//! Statistics across regions: `GET /api/v1/stats/patients` (counts by region, district,
//! sex, age band) and `GET /api/v1/stats/observations` (count, mean, min, max of each vital
//! sign by region and month). Every region the reader may see statistics of is asked in
//! parallel under the fan-out deadline; the answers merge exactly ([`merge`]).

pub mod merge;
pub mod queries;

use crate::app::{App, AppState};
use crate::authz::Action;
use crate::authz::kinds::STATS;
use crate::fanout::{self, Consistency, Coverage};
use crate::http::Actor;
use crate::http::{ApiError, ApiQuery, openapi as doc};
use crate::records::regions::{self, Asked, Need};
use crate::shards::Shard;
use axum::Json;
use axum::extract::State;
use merge::{Group, roll_up};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(patients))
        .routes(routes!(observations))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Comma-separated dimensions. Patients: `region`, `district`, `sex`, `age_band`
    /// (default `region`); observations: `region`, `code`, `month` (default all three).
    group_by: Option<String>,
    /// Regions to ask, comma-separated; default every region you may see statistics of.
    region: Option<String>,
    /// `partial` (default) or `strict`.
    consistency: Option<String>,
    /// Observations only: LOINC codes, comma-separated (default all).
    code: Option<String>,
    /// Observations only: from this time (with offset) or date, inclusive.
    from: Option<String>,
    /// Observations only: until this time or date, exclusive.
    to: Option<String>,
}

/// Merged groups and the regions behind them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub group_by: Vec<String>,
    pub groups: Vec<Group>,
    #[serde(flatten)]
    pub coverage: Coverage,
}

/// Patient counts, grouped.
#[utoipa::path(get, path = "/api/v1/stats/patients", tag = "stats", params(StatsParams), security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Stats), doc::Signed, doc::Denied, doc::BadQuery, doc::Unavailable))]
pub async fn patients(
    State(app): State<AppState>,
    actor: Actor,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<Stats>, ApiError> {
    let dims = group_by(
        p.group_by.as_deref(),
        &["region", "district", "sex", "age_band"],
        "region",
    )?;
    if p.code.is_some() || p.from.is_some() || p.to.is_some() {
        return Err(ApiError::bad(
            "code",
            "code, from and to are for /stats/observations",
        ));
    }
    let shards = regions(&app, &actor, p.region.as_deref()).await?;
    let consistency = p.consistency.as_deref();
    grouped(&app, &shards, consistency, dims, false, queries::patients).await
}

/// Count, mean, min and max of vital signs, grouped.
#[utoipa::path(get, path = "/api/v1/stats/observations", tag = "stats", params(StatsParams), security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Stats), doc::Signed, doc::Denied, doc::BadQuery, doc::Unavailable))]
pub async fn observations(
    State(app): State<AppState>,
    actor: Actor,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<Stats>, ApiError> {
    let dims = group_by(
        p.group_by.as_deref(),
        &["region", "code", "month"],
        "region,code,month",
    )?;
    // Lesotho has one time zone; the dates of `from`/`to` are read in it.
    let range = crate::http::period::range(
        p.from.as_deref(),
        p.to.as_deref(),
        chrono_tz::Africa::Maseru,
        chrono::Utc::now(),
    )?;
    let codes: Vec<String> = p.code.as_deref().map_or(Vec::new(), |c| {
        c.split(',').map(|s| s.trim().to_owned()).collect()
    });
    if let Some(c) = codes
        .iter()
        .find(|c| crate::clinical::vitals::def(c).is_none())
    {
        return Err(ApiError::bad(
            "code",
            format!("{c} is not a vital sign hmis records"),
        ));
    }
    let shards = regions(&app, &actor, p.region.as_deref()).await?;
    let ask = |s| {
        let codes = codes.clone();
        async move { queries::observations(s, &codes, range).await }
    };
    grouped(&app, &shards, p.consistency.as_deref(), dims, true, ask).await
}

/// Asks the regions under the fan-out deadline, and rolls their rows up to `dims`.
async fn grouped<'a, F, Fut>(
    app: &App,
    shards: &[&'a Shard],
    consistency: Option<&str>,
    dims: Vec<String>,
    with_values: bool,
    ask: F,
) -> Result<Json<Stats>, ApiError>
where
    F: Fn(&'a Shard) -> Fut,
    Fut: std::future::Future<Output = Result<queries::Rows, crate::shards::ShardError>>,
{
    let deadline = Duration::from_millis(app.settings.file.server.fanout_deadline_ms);
    let consistency = Consistency::parse(consistency)?;
    let (answers, coverage) = fanout::ask_all(shards, deadline, consistency, ask).await?;
    let rows: queries::Rows = answers.into_iter().flat_map(|(_, rows)| rows).collect();
    let keep: Vec<&str> = dims.iter().map(String::as_str).collect();
    let groups = roll_up(&rows, &keep, with_values);
    Ok(Json(Stats {
        group_by: dims,
        groups,
        coverage,
    }))
}

fn group_by(raw: Option<&str>, known: &[&str], default: &str) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for d in raw
        .unwrap_or(default)
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        if !known.contains(&d) {
            return Err(ApiError::bad(
                "group_by",
                format!("\"{d}\" is not one of {}", known.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == d) {
            out.push(d.to_owned());
        }
    }
    Ok(out)
}

/// Who may see statistics of a region.
const READERS: Need = Need {
    grants: &[(STATS, Action::Read)],
    doing: "read statistics",
    refuse_none: true,
};

/// The regions named in `?region=` (unknown: 400; refused: 403, audited), or every one
/// the reader may see statistics of.
async fn regions<'a>(
    app: &'a App,
    actor: &Actor,
    named: Option<&str>,
) -> Result<Vec<&'a Shard>, ApiError> {
    let asked = named.map_or(Asked::Every, |r| Asked::Param("region", r));
    regions::for_actor(app, actor, &READERS, asked).await
}
