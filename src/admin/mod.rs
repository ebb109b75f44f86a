//! The admin API: users and their roles (`/api/v1/admin/users`), and the policy itself
//! (`/api/v1/admin/policies`). A regional admin manages users' roles in their own region;
//! only a system admin gives every-region roles or changes the policy. Changes go to the
//! central database and reach every hmis process at once (NOTIFY).

mod policies;
mod users;

use crate::app::{App, AppState};
use crate::auth::Subject;
use crate::authz::{Relation, kinds};
use crate::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::grant, users::revoke))
        .routes(routes!(users::disable))
        .routes(routes!(policies::list, policies::add, policies::remove))
}

/// May the subject manage users (or, with `kind` policy, the policy) in `region`?
async fn require(app: &App, subject: &Subject, kind: &str, region: &str) -> Result<(), ApiError> {
    if app
        .authz
        .allowed(subject.username(), region, kind, "admin", Relation::None)
        .await
    {
        return Ok(());
    }
    let scope = if region == "*" {
        "every region".to_owned()
    } else {
        format!("region {region}")
    };
    Err(ApiError::Forbidden(format!(
        "{} may not manage {kind}s in {scope}",
        subject.username()
    )))
}

async fn require_users(app: &App, subject: &Subject, region: &str) -> Result<(), ApiError> {
    require(app, subject, kinds::USER, region).await
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}
