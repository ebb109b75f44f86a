//! Disabling and enabling a user, for `POST /api/v1/admin/users/{u}/disable` and `/enable`.
//!
//! Nobody may lock everyone out through the API: an admin cannot disable herself, and the
//! last active system admin cannot be disabled. `hmis users enable` undoes a disable from
//! the shell in any case.

use super::grants::{is_system_admin, last_system_admin};
use super::{internal, require_all_of, visible};
use crate::app::App;
use crate::auth::users;
use crate::authz::store;
use crate::http::ApiError;
use crate::http::ConflictKind;
use crate::http::Subject;
use axum::http::StatusCode;

/// Disables (`disabled` true) or enables `username`; disabling ends their sessions in every
/// hmis process.
pub(super) async fn set_disabled(
    app: &App,
    subject: &Subject,
    username: &str,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    let grants = visible(app, subject, username).await?;
    require_all_of(app, subject, &grants).await?;
    if disabled && username == subject.username() {
        return Err(ApiError::Conflict(
            ConflictKind::DisableSelf,
            "you cannot disable yourself: ask another admin".into(),
        ));
    }
    let mut tx = app.central.begin().await.map_err(internal)?;
    if disabled
        && grants.iter().any(is_system_admin)
        && store::other_active_system_admins(&mut tx, username)
            .await
            .map_err(internal)?
            == 0
    {
        return Err(last_system_admin(username));
    }
    let id = users::set_disabled(&mut *tx, username, disabled)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound(format!("no user {username}")))?;
    tx.commit().await.map_err(internal)?;
    if disabled {
        app.sessions.revoke_user(id).await.map_err(internal)?;
    }
    tracing::info!(
        admin = subject.username(),
        user = username,
        disabled,
        "user {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(StatusCode::NO_CONTENT)
}
