//! `/api/v1/admin/users`: list, create, give and take roles, disable, enable.

use super::{accounts, grants, internal, require_some_users, require_users};
use crate::app::AppState;
use crate::auth::users::{self, CreateError};
use crate::authz::{Grant, store};
use crate::domain::FieldError;
use crate::http::ConflictKind;
use crate::http::Subject;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc};
use axum::Json;
use axum::extract::State;
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
    require_some_users(&app, &subject).await?;
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
    Ok(Json(out))
}

/// Creates a user, with the roles given (each needs the right to manage users there), in
/// one transaction: the user exists with all their roles, or not at all.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser, security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 201), doc::Signed, doc::Denied, doc::BadBody, doc::Conflict))]
pub async fn create(
    State(app): State<AppState>,
    subject: Subject,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<StatusCode, ApiError> {
    check_new(&app, &new)?;
    let scopes: Vec<&str> = if new.grants.is_empty() {
        vec!["*"]
    } else {
        new.grants.iter().map(|g| g.region.as_str()).collect()
    };
    for region in scopes {
        require_users(&app, &subject, region).await?;
    }
    let mut tx = app.central.begin().await.map_err(internal)?;
    let created = users::create(&mut *tx, &new.username, &new.password, &new.display_name).await;
    match created {
        Ok(_) => {}
        Err(CreateError::Exists(_)) => {
            let detail = format!("user {} exists", new.username);
            return Err(ApiError::Conflict(ConflictKind::UserExists, detail));
        }
        Err(CreateError::Other(e)) => return Err(internal(e)),
    }
    for g in &new.grants {
        store::grant_line(&mut *tx, true, &new.username, &g.role, &g.region)
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    app.authz.changed().await.map_err(internal)?;
    Ok(StatusCode::CREATED)
}

/// Every field of a new user at fault, including grants that repeat an earlier one.
fn check_new(app: &crate::app::App, new: &NewUser) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Err(e) = users::valid_username(&new.username) {
        errors.push(FieldError::new("username", e));
    }
    if let Err(e) = users::valid_password(&new.password) {
        errors.push(FieldError::new("password", e));
    }
    for (i, g) in new.grants.iter().enumerate() {
        errors.extend(grants::grant_errors(app, g, &format!("grants[{i}].")));
        if let Some(first) = new.grants[..i].iter().position(|h| h == g) {
            let reason = format!("repeats grants[{first}]");
            errors.push(FieldError::new(format!("grants[{i}]"), reason));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Gives a user a role in a region.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/grants", tag = "admin", request_body = Grant, security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Missing, doc::Conflict))]
pub async fn grant(
    State(app): State<AppState>,
    subject: Subject,
    ApiPath(username): ApiPath<String>,
    ApiJson(g): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    grants::change(&app, &subject, &username, g, true).await
}

/// Takes a role away.
#[utoipa::path(delete, path = "/api/v1/admin/users/{username}/grants", tag = "admin", request_body = Grant, security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Missing, doc::Conflict))]
pub async fn revoke(
    State(app): State<AppState>,
    subject: Subject,
    ApiPath(username): ApiPath<String>,
    ApiJson(g): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    grants::change(&app, &subject, &username, g, false).await
}

/// Disables a user and ends their sessions in every hmis process. Needs the right to
/// manage users in every region where they hold a role. Nobody disables themselves, nor
/// the last active system admin.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/disable", tag = "admin", security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::Missing, doc::Conflict))]
pub async fn disable(
    State(app): State<AppState>,
    subject: Subject,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    accounts::set_disabled(&app, &subject, &username, true).await
}

/// Enables a disabled user again (they log in anew). Authorized like disabling.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/enable", tag = "admin", security(("bearer" = []), ("hmis_session" = [])),
    params(("username" = String, Path)),
    responses((status = 204), doc::Signed, doc::Denied, doc::Missing))]
pub async fn enable(
    State(app): State<AppState>,
    subject: Subject,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    accounts::set_disabled(&app, &subject, &username, false).await
}
