//! Planners' questions across regions. `POST /api/v1/query` runs one read-only SQL query
//! in every region the planner may query, in parallel, and streams the rows back with the
//! region in front; `hmis query` is its command-line client.
//!
//! Planners see what the `planning` schema of each region shows (de-identified patients
//! and observations: migration `0005_planning.sql`) and nothing else: the query runs in a
//! `READ ONLY` transaction, as `<region>_planner` (see [`crate::dbroles`]), with a
//! statement timeout, after [`guard`] has refused anything but one plain query.

pub mod encode;
mod failure;
pub mod guard;
mod http;
mod run;

use crate::app::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(http::query))
}
