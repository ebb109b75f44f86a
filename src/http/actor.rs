//! Who is acting, in which request: what every audit line needs. Extracted like the
//! [`Subject`] it wraps, with the request id the tracing layer set.

use super::{ApiError, Subject};
use crate::app::AppState;
use crate::audit::Line;
use crate::authz::Authz;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Who is acting, in which request: what every audit line needs.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: Subject,
    pub request_id: String,
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let subject = Subject::from_request_parts(parts, app).await?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        Ok(Actor {
            subject,
            request_id,
        })
    }
}

impl Actor {
    pub fn name(&self) -> &str {
        self.subject.username()
    }

    /// The audit line's fixed part for an action in `region`.
    pub async fn line(&self, authz: &Authz, region: &str, action: &str) -> Line {
        Line {
            actor: self.name().to_owned(),
            roles: authz.roles_in(self.name(), region).await,
            action: action.to_owned(),
            region: region.to_owned(),
            request_id: self.request_id.clone(),
        }
    }
}
