//! `/api/v1/admin/policies`: the policy lines (role, object kind, action, condition).
//! System admins only. Adding a line that is there answers 409, removing one that is not
//! there 404, so that a typo never passes for a change.

use super::{internal, require};
use crate::app::AppState;
use crate::authz::{kinds, store};
use crate::http::ConflictKind;
use crate::http::Subject;
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
    /// The line, if well formed; `add`: the role must be one hmis knows (a line for any other
    /// could never apply, as no such role can be granted).
    fn check(&self, add: bool) -> Result<[&str; 4], ApiError> {
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
        if add {
            store::check_role(&self.role).map_err(|e| ApiError::field("role", e))?;
        }
        Ok([&self.role, &self.kind, &self.action, &self.condition])
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
            .map(|[role, kind, action, condition]| PolicyLine {
                role,
                kind,
                action,
                condition,
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
    responses((status = 204), doc::Signed, doc::Denied, doc::BadBody, doc::Missing))]
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
    let rule = line.check(add)?;
    let changed = app.authz.change_policy(add, rule).await.map_err(internal)?;
    let [role, kind, action, cond] = rule;
    match (changed, add) {
        (true, _) => Ok(StatusCode::NO_CONTENT),
        (false, true) => Err(ApiError::Conflict(
            ConflictKind::PolicyExists,
            format!("the policy has {role} {kind} {action} {cond} already"),
        )),
        (false, false) => Err(ApiError::NotFound(format!(
            "the policy has no line {role} {kind} {action} {cond}"
        ))),
    }
}
