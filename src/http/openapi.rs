//! The OpenAPI document. Paths and schemas come from the handlers' `#[utoipa::path]`
//! attributes, collected by `utoipa-axum` as routes are added, so the document cannot
//! describe a route that does not exist or miss one that does.

use axum::Json;
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "hmis", description = "Regional health data router: patient records routed to their region's database."),
    tags(
        (name = "patients", description = "Patient registration and lookup"),
        (name = "routing", description = "The routing rules, explained"),
        (name = "health", description = "Liveness and per-region readiness"),
        (name = "planning", description = "Planners' read-only SQL over every region's de-identified planning views"),
    ),
    components(schemas(super::Problem, crate::domain::FieldError))
)]
struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn serve(spec: Arc<utoipa::openapi::OpenApi>) -> Json<utoipa::openapi::OpenApi> {
    Json((*spec).clone())
}
