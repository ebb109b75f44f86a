//! `GET /api/v1/routing/explain?entity=patient&district=Quthing`: which region a record
//! would go to, by which rule, and why each earlier rule did not match. Every query
//! parameter but `entity` is a field of the record.

use crate::app::AppState;
use crate::http::{ApiError, ApiQuery};
use crate::routing::Record;
use axum::Json;
use axum::extract::State;
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(explain))
}

/// Explains where a record would be placed.
#[utoipa::path(get, path = "/api/v1/routing/explain", tag = "routing", security(("bearer" = []), ("hmis_session" = [])),
    params(("entity" = String, Query, description = "entity kind, e.g. patient"),
           ("district" = Option<String>, Query, description = "any field of the record, e.g. district=Quthing")),
    responses((status = 200, description = "the decision and every step", body = Object),
              super::openapi::Signed, super::openapi::BadQuery))]
async fn explain(
    State(app): State<AppState>,
    _signed_in: crate::http::Subject,
    ApiQuery(mut params): ApiQuery<BTreeMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entity = params.remove("entity").ok_or(ApiError::BadRequest {
        field: Some("entity".into()),
        detail: "required: the entity kind, e.g. entity=patient".into(),
    })?;
    let mut record = Record::new(entity);
    record.fields = params;
    let resolve = |e: &str, id: &str| app.resolve_parent(e, id);
    let explanation = app.rules.explain(&record, &resolve);
    Ok(Json(
        serde_json::to_value(&explanation).map_err(anyhow::Error::from)?,
    ))
}
