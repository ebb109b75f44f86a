//! `GET /api/v1/patients?region=...&q=...`: a search within one region the reader may
//! read, paged, with an audit line for every patient shown. Several regions (or none named)
//! go to [`super::across`].

use super::model::PatientPage;
use super::repo;
use crate::app::AppState;
use crate::http::Actor;
use crate::http::{ApiError, ApiQuery, openapi as doc, record_route};
use crate::records::regions;
use crate::records::{REGION_HEADER, region_value, sees_identity};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The region to search; several, comma-separated; or none for every region the
    /// reader may read.
    pub region: Option<String>,
    /// A name prefix (several words: each must start the given or family name), a phone
    /// number, a national ID or a patient ID. Refused (403) to readers who may not see who
    /// patients are (planners).
    pub q: Option<String>,
    /// 1-based page. Default 1.
    pub page: Option<u32>,
    /// Patients per page, 1 to 100. Default 20.
    pub size: Option<u32>,
    /// A health record number (`011-000-0123`, dashes optional): finds the patient in
    /// the region the number names, without `region`. A record merged into another
    /// answers with the one it was merged into. Refused (403) to readers who may not see
    /// who patients are (planners).
    pub hrn: Option<String>,
    /// Sort keys, comma-separated, `-` for descending: `family_name`, `given_name`,
    /// `birth_date`, `created_at`, `district`, `sex`, `hrn`. Default
    /// `family_name,given_name`; the patient ID breaks ties. Readers who may not see who
    /// patients are (planners) may sort by `created_at`, `district` and `sex` only, and
    /// get `created_at` by default.
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page (instead of `page`).
    pub cursor: Option<String>,
    /// `partial` (default: answer with the regions that answered, and name the others) or
    /// `strict` (503 unless every region answered).
    pub consistency: Option<String>,
    /// Only patients of this district.
    pub district: Option<String>,
    /// Only patients of this sex.
    pub sex: Option<String>,
}

impl SearchParams {
    /// A plain search of one region, answered the way it always was.
    fn one_region(&self) -> bool {
        self.region.as_deref().is_some_and(|r| !r.contains(','))
            && self.sort.is_none()
            && self.cursor.is_none()
            && self.consistency.is_none()
            && self.district.is_none()
            && self.sex.is_none()
    }
}

/// Finds patients in one region, or merged from several (every region the reader may
/// read when no `region` is given), in the requested order.
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", params(SearchParams), security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = PatientPage), doc::Signed, doc::Denied, doc::BadQuery, doc::Missing, doc::Unavailable))]
pub async fn search(
    State(app): State<AppState>,
    actor: Actor,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    if let Some(hrn) = params.hrn.as_deref() {
        return super::hrn::find(&app, &actor, hrn).await;
    }
    if !params.one_region() {
        return super::across::list(&app, &actor, &params).await;
    }
    let (page, size, q) = paging(&params)?;
    let asked = super::across::asked(&params);
    let shards = regions::for_actor(&app, &actor, &super::across::READERS, asked).await?;
    // One name without a comma, known and permitted: exactly one region.
    let [shard] = shards[..] else {
        return super::across::list(&app, &actor, &params).await;
    };
    record_route(shard.name(), None);
    if !sees_identity(&app, &actor, shard.name()).await {
        // The one-region answer sorts by name: readers who may not see names get the
        // list that refuses identifying searches and orders.
        return super::across::list(&app, &actor, &params).await;
    }
    let query = super::model::search_terms(q, size, page);
    let line = actor.line(&app.authz, shard.name(), "search").await;
    let (rows, total) = shard
        .read(|conn| {
            let (query, line) = (query.clone(), line.clone());
            Box::pin(async move { repo::search(conn, &query, &line).await })
        })
        .await?;
    let tz = shard.settings.tz();
    let items = rows
        .into_iter()
        .map(|r| r.into_api(shard.name(), tz, true))
        .collect();
    let body = PatientPage::one_region(shard.name(), items, page, size, total);
    Ok(([(REGION_HEADER, region_value(shard))], Json(body)).into_response())
}

/// Checks `page`, `size` and `q` the same way for one region and for several.
pub fn paging(params: &SearchParams) -> Result<(u32, u32, &str), ApiError> {
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
    Ok((page, size, q))
}

pub fn bad(field: &str, detail: &str) -> ApiError {
    ApiError::bad(field, detail)
}
