//! The patients resource: `/api/v1/patients`. Creates are placed by the routing rules;
//! reads, updates and deletes by ID go to the one shard named inside the ID.

mod across;
mod audit_log;
pub mod duplicates;
mod handlers;
mod hrn;
pub mod http;
mod list;
mod merge;
pub mod model;
pub mod repo;
mod search;
mod sort;
pub mod total;
pub mod transfer;

pub use handlers::place;
pub use model::{Patient, PatientPage};

use crate::app::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create, search::search))
        .routes(routes!(handlers::get, handlers::update, handlers::delete))
        .routes(routes!(audit_log::audit_trail))
        .routes(routes!(merge::merge))
        .routes(routes!(merge::unmerge))
        .merge(transfer::router())
}
