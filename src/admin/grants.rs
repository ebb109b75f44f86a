//! Giving and taking one role of a user, for `POST/DELETE /api/v1/admin/users/{u}/grants`.
//!
//! The checks run in an order that keeps answers independent of users the admin cannot see:
//! the grant itself (422), the right in the grant's region (403), then the user (404, the
//! same for unknown and hidden users), and only then the user's own state (409, 404).

use super::{internal, require_users, visible};
use crate::app::App;
use crate::authz::{Grant, store};
use crate::domain::FieldError;
use crate::http::ApiError;
use crate::http::ConflictKind;
use crate::http::Subject;
use axum::http::StatusCode;

/// What is wrong with a grant, per field (`{prefix}role`, `{prefix}region`).
pub(super) fn grant_errors(app: &App, g: &Grant, prefix: &str) -> Vec<FieldError> {
    if let Err(e) = store::check_role(&g.role) {
        return vec![FieldError::new(format!("{prefix}role"), e)];
    }
    let regions: Vec<String> = app.shards.iter().map(|s| s.name().to_owned()).collect();
    match store::check_grant(&g.role, &g.region, &regions) {
        Ok(()) => Vec::new(),
        Err(e) => vec![FieldError::new(format!("{prefix}region"), e)],
    }
}

pub(super) async fn change(
    app: &App,
    subject: &Subject,
    username: &str,
    g: Grant,
    add: bool,
) -> Result<StatusCode, ApiError> {
    let errors = grant_errors(app, &g, "");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    require_users(app, subject, &g.region).await?;
    let held = visible(app, subject, username).await?.contains(&g);
    let changed = if add == held {
        false
    } else if !add && is_system_admin(&g) {
        revoke_system_admin(app, username).await?
    } else {
        app.authz
            .change_grant(add, username, &g)
            .await
            .map_err(internal)?
    };
    match (changed, add) {
        (true, _) => Ok(StatusCode::NO_CONTENT),
        (false, true) => Err(ApiError::Conflict(
            ConflictKind::GrantExists,
            format!("{username} is {} in {} already", g.role, g.region),
        )),
        (false, false) => Err(ApiError::NotFound(format!(
            "{username} is not {} in {}",
            g.role, g.region
        ))),
    }
}

pub(super) fn is_system_admin(g: &Grant) -> bool {
    g.role == "system_admin" && g.region == "*"
}

/// Takes `system_admin` away unless that would leave no active system admin (409).
async fn revoke_system_admin(app: &App, username: &str) -> Result<bool, ApiError> {
    let mut tx = app.central.begin().await.map_err(internal)?;
    if store::other_active_system_admins(&mut tx, username)
        .await
        .map_err(internal)?
        == 0
    {
        return Err(last_system_admin(username));
    }
    let changed = store::grant_line(&mut *tx, false, username, "system_admin", "*")
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    app.authz.changed().await.map_err(internal)?;
    Ok(changed)
}

pub(super) fn last_system_admin(username: &str) -> ApiError {
    ApiError::Conflict(
        ConflictKind::LastSystemAdmin,
        format!("{username} is the last active system admin: make another one first"),
    )
}
