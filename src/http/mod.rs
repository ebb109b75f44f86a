//! The HTTP vocabulary every resource speaks, below all of them: one error type rendered
//! as problem+json ([`ApiError`], [`Problem`]), the extractors ([`ApiJson`], [`ApiQuery`],
//! [`ApiPath`], the session's [`Subject`], the audit [`Actor`]), the OpenAPI pieces
//! operations share, and [`record_route`]. The router that merges the resources is
//! `crate::server`, at the top.

mod actor;
mod error;
mod extract;
pub mod openapi;
mod path;
pub mod period;
mod subject;

pub use actor::Actor;
pub use error::{ApiError, ConflictKind, Problem};
pub use extract::{ApiJson, ApiQuery, BodyLimit, plain_path_and_headers};
pub use path::ApiPath;
pub use subject::{Subject, token as session_token};

use axum::http::HeaderName;

/// The request id header: set (or kept) by the router, echoed in the answer, written in
/// every audit line and log line of the request.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Records the routing decision on the current request span.
pub fn record_route(region: &str, rule: Option<&str>) {
    let span = tracing::Span::current();
    span.record("region", region);
    if let Some(rule) = rule {
        span.record("rule", rule);
    }
}
