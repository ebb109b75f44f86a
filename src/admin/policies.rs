//! `/api/v1/admin/policies`: the policy lines (role, object kind, action, condition).
//! System admins only.

use super::{internal, require};
use crate::app::AppState;
use crate::auth::Subject;
use crate::authz::kinds;
use crate::http::{ApiError, ApiJson, openapi as doc};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyLine {
    role: String,
    /// An object kind (`patient`, `patient_audit`, ...) or `*`.
    kind: String,
    /// An action (`read`, `create`, ...) or `*`.
    action: String,
    /// `any`, or `own` (only objects the user owns or takes part in).
    condition: String,
}

impl PolicyLine {
    fn check(&self) -> Result<Vec<String>, ApiError> {
        if !["any", "own"].contains(&self.condition.as_str()) {
            return Err(ApiError::field("condition", "must be any or own"));
        }
        for (field, v) in [
            ("role", &self.role),
            ("kind", &self.kind),
            ("action", &self.action),
        ] {
            if v.is_empty()
                || v.len() > 64
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_*.-".contains(c))
            {
                return Err(ApiError::field(
                    field,
                    "1 to 64 letters, digits, '_', '.', '-' or '*'",
                ));
            }
        }
        Ok(vec![
            self.role.clone(),
            self.kind.clone(),
            self.action.clone(),
            self.condition.clone(),
        ])
    }
}

/// Every policy line.
#[utoipa::path(get, path = "/api/v1/admin/policies", tag = "admin", security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Vec<PolicyLine>), doc::Signed, doc::Denied))]
pub async fn list(
    State(app): State<AppState>,
    subject: Subject,
) -> Result<Json<Vec<PolicyLine>>, ApiError> {
    require(&app, &subject, kinds::POLICY, "*").await?;
    let lines = app.authz.policy_lines().await;
    Ok(Json(
        lines
            .into_iter()
            .filter(|l| l.len() >= 4)
            .map(|l| PolicyLine {
                role: l[0].clone(),
                kind: l[1].clone(),
                action: l[2].clone(),
                condition: l[3].clone(),
            })
            .collect(),
    ))
}

/// Adds a policy line; every hmis process applies it at once.
#[utoipa::path(post, path = "/api/v1/admin/policies", tag = "admin", request_body = PolicyLine, security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Conflict))]
pub async fn add(
    State(app): State<AppState>,
    subject: Subject,
    ApiJson(line): ApiJson<PolicyLine>,
) -> Result<StatusCode, ApiError> {
    change(&app, &subject, line, true).await
}

/// Removes a policy line.
#[utoipa::path(delete, path = "/api/v1/admin/policies", tag = "admin", request_body = PolicyLine, security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody))]
pub async fn remove(
    State(app): State<AppState>,
    subject: Subject,
    ApiJson(line): ApiJson<PolicyLine>,
) -> Result<StatusCode, ApiError> {
    change(&app, &subject, line, false).await
}

/// Adds or removes a line, for system admins only; every process reloads.
async fn change(
    app: &crate::app::App,
    subject: &Subject,
    line: PolicyLine,
    add: bool,
) -> Result<StatusCode, ApiError> {
    require(app, subject, kinds::POLICY, "*").await?;
    app.authz
        .change(add, false, line.check()?)
        .await
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}
