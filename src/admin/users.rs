//! `/api/v1/admin/users`: list, create, give and take roles, disable.

use super::{internal, require_users};
use crate::app::AppState;
use crate::auth::{Subject, users};
use crate::authz::{Grant, store};
use crate::http::{ApiError, ApiJson, openapi as doc};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    username: String,
    display_name: String,
    disabled: bool,
    grants: Vec<Grant>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
    /// Roles to give at once.
    #[serde(default)]
    grants: Vec<Grant>,
}

/// Every user, with their roles (system admins: everyone; regional admins: the users
/// holding a role in their region).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Vec<UserView>), doc::Signed, doc::Denied))]
pub async fn list(
    State(app): State<AppState>,
    subject: Subject,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let mut out = Vec::new();
    for (username, display_name, disabled) in users::list(&app.central).await.map_err(internal)? {
        let grants = app.authz.grants(&username).await;
        let mut visible = false;
        for region in grants.iter().map(|g| g.region.as_str()).chain(["*"]) {
            visible |= super::require_users(&app, &subject, region).await.is_ok();
        }
        if visible {
            out.push(UserView {
                username,
                display_name,
                disabled,
                grants,
            });
        }
    }
    if out.is_empty() {
        require_users(&app, &subject, "*").await?;
    }
    Ok(Json(out))
}

/// Creates a user, with the roles given (each needs the right to manage users there).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser, security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 201), doc::Signed, doc::Denied, doc::BadBody, doc::Conflict))]
pub async fn create(
    State(app): State<AppState>,
    subject: Subject,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<StatusCode, ApiError> {
    let regions: Vec<String> = app.shards.iter().map(|s| s.name().to_owned()).collect();
    let mut errors = Vec::new();
    users::valid_username(&new.username)
        .map_err(|e| errors.push(crate::domain::FieldError::new("username", e)))
        .ok();
    users::valid_password(&new.password)
        .map_err(|e| errors.push(crate::domain::FieldError::new("password", e)))
        .ok();
    for (i, g) in new.grants.iter().enumerate() {
        store::check_grant(&g.role, &g.region, &regions)
            .map_err(|e| errors.push(crate::domain::FieldError::new(format!("grants[{i}]"), e)))
            .ok();
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let scopes: Vec<&str> = if new.grants.is_empty() {
        vec!["*"]
    } else {
        new.grants.iter().map(|g| g.region.as_str()).collect()
    };
    for region in scopes {
        require_users(&app, &subject, region).await?;
    }
    if users::id_of(&app.central, &new.username)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Err(ApiError::Conflict(
            "user-exists",
            format!("user {} exists", new.username),
        ));
    }
    users::create(
        &app.central,
        &new.username,
        &new.password,
        &new.display_name,
    )
    .await
    .map_err(internal)?;
    for g in &new.grants {
        app.authz
            .change(
                true,
                true,
                vec![new.username.clone(), g.role.clone(), g.region.clone()],
            )
            .await
            .map_err(internal)?;
    }
    Ok(StatusCode::CREATED)
}

/// Gives a user a role in a region.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/grants", tag = "admin", request_body = Grant, security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Missing, doc::Conflict))]
pub async fn grant(
    State(app): State<AppState>,
    subject: Subject,
    Path(username): Path<String>,
    ApiJson(g): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    change_grant(&app, &subject, &username, g, true).await
}

/// Takes a role away.
#[utoipa::path(delete, path = "/api/v1/admin/users/{username}/grants", tag = "admin", request_body = Grant, security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Missing))]
pub async fn revoke(
    State(app): State<AppState>,
    subject: Subject,
    Path(username): Path<String>,
    ApiJson(g): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    change_grant(&app, &subject, &username, g, false).await
}

async fn change_grant(
    app: &crate::app::App,
    subject: &Subject,
    username: &str,
    g: Grant,
    add: bool,
) -> Result<StatusCode, ApiError> {
    let regions: Vec<String> = app.shards.iter().map(|s| s.name().to_owned()).collect();
    store::check_grant(&g.role, &g.region, &regions).map_err(|e| ApiError::field("role", e))?;
    require_users(app, subject, &g.region).await?;
    if users::id_of(&app.central, username)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("no user {username}")));
    }
    app.authz
        .change(add, true, vec![username.to_owned(), g.role, g.region])
        .await
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user and ends their sessions in every hmis process. Needs the right to
/// manage users in every region where they hold a role.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/disable", tag = "admin", security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::Missing))]
pub async fn disable(
    State(app): State<AppState>,
    subject: Subject,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let grants = app.authz.grants(&username).await;
    let regions: Vec<&str> = if grants.is_empty() {
        vec!["*"]
    } else {
        grants.iter().map(|g| g.region.as_str()).collect()
    };
    for region in regions {
        require_users(&app, &subject, region).await?;
    }
    let id = users::disable(&app.central, &username)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound(format!("no user {username}")))?;
    app.sessions.revoke_user(id).await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}
