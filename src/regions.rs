//! `GET /api/v1/regions`: the configured regions as people see them (display name,
//! districts, time zone), for any signed-in user. The clinic UI needs them to name
//! regions, offer districts and show times in the region's own zone; nothing here is
//! about a region's records, so no grant is needed beyond a session. Database URLs, codes
//! and pool sizes stay out of the answer.

use crate::app::AppState;
use crate::http::openapi as doc;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Every configured region, in the configured order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Regions {
    regions: Vec<Region>,
}

/// One region as the UI shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Region {
    /// The identifier used in URLs, grants and answers (`quthing`).
    name: String,
    /// The name shown to people (`Quthing`).
    display_name: String,
    /// The districts whose patients this region keeps, spelled as clinics write them.
    districts: Vec<String>,
    /// IANA time zone of the region's local dates and times (`Africa/Maseru`).
    time_zone: String,
}

/// Lists every region with its districts and time zone.
#[utoipa::path(get, path = "/api/v1/regions", tag = "routing", security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Regions), doc::Signed))]
pub async fn list(State(app): State<AppState>, _signed_in: crate::http::Subject) -> Json<Regions> {
    let regions = app
        .settings
        .regions
        .iter()
        .map(|r| Region {
            name: r.name.clone(),
            display_name: r.display_name.clone(),
            districts: r.districts.clone(),
            time_zone: r.time_zone.clone(),
        })
        .collect();
    Json(Regions { regions })
}
