//! The admin API: users and their roles (`/api/v1/admin/users`), and the policy itself
//! (`/api/v1/admin/policies`). A regional admin manages users' roles in their own region;
//! only a system admin gives every-region roles or changes the policy. Changes go to the
//! central database and reach every hmis process at once (NOTIFY).
//!
//! No route tells a regional admin which users exist outside her regions: a user she cannot
//! see gets the very answer an unknown user gets ([`visible`]).

mod accounts;
mod grants;
mod policies;
mod users;

use crate::app::{App, AppState};
use crate::authz::Action;
use crate::authz::{Grant, Relation, kinds};
use crate::http::ApiError;
use crate::http::Subject;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::grant, users::revoke))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(policies::list, policies::add, policies::remove))
}

/// May the subject manage users (or, with `kind` policy, the policy) in `region`?
async fn require(app: &App, subject: &Subject, kind: &str, region: &str) -> Result<(), ApiError> {
    if may(app, subject, kind, region).await {
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

async fn may(app: &App, subject: &Subject, kind: &str, region: &str) -> bool {
    app.authz
        .allowed(
            subject.username(),
            region,
            kind,
            Action::Admin,
            Relation::None,
        )
        .await
}

async fn require_users(app: &App, subject: &Subject, region: &str) -> Result<(), ApiError> {
    require(app, subject, kinds::USER, region).await
}

/// Refuses, whoever the target is, a subject who manages users in no region at all.
async fn require_some_users(app: &App, subject: &Subject) -> Result<(), ApiError> {
    let regions = app.shards.iter().map(|s| s.name()).chain(["*"]);
    for region in regions {
        if may(app, subject, kinds::USER, region).await {
            return Ok(());
        }
    }
    Err(ApiError::Forbidden(format!(
        "{} may not manage users",
        subject.username()
    )))
}

/// The grants of `username`, if the subject may see that user: one who manages users in
/// every region sees every user, a regional admin the users holding a role in her regions.
/// A user the subject may not see, and a user that does not exist, get the same 404, so
/// that the answer says nothing about users elsewhere.
async fn visible(app: &App, subject: &Subject, username: &str) -> Result<Vec<Grant>, ApiError> {
    require_some_users(app, subject).await?;
    let unknown = || ApiError::NotFound(format!("no user {username}"));
    if crate::auth::users::valid_username(username).is_err() {
        return Err(unknown());
    }
    let grants = app.authz.grants(username).await;
    let mut seen = false;
    for region in grants.iter().map(|g| g.region.as_str()).chain(["*"]) {
        seen = seen || may(app, subject, kinds::USER, region).await;
    }
    let exists = crate::auth::users::id_of(&app.central, username)
        .await
        .map_err(internal)?
        .is_some();
    if seen && exists {
        Ok(grants)
    } else {
        Err(unknown())
    }
}

/// Acting on a user as a whole (disable, enable) needs the right in every region where
/// they hold a role; a user with no role, or one held everywhere, needs it everywhere.
async fn require_all_of(app: &App, subject: &Subject, grants: &[Grant]) -> Result<(), ApiError> {
    if grants.is_empty() {
        return require_users(app, subject, "*").await;
    }
    for g in grants {
        require_users(app, subject, &g.region).await?;
    }
    Ok(())
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}
