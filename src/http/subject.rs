//! Who is asking. A [`Subject`] is extracted from every request that needs one, from the
//! `hmis_session` cookie (browsers) or an `Authorization: Bearer` token (API clients).
//! Cookie-authenticated requests that change state must also carry the session's CSRF
//! token in `X-CSRF-Token`; bearer tokens are never sent by a browser on its own, so they
//! need none.

use super::ApiError;
use crate::app::AppState;
use crate::auth::{CSRF_HEADER, SESSION_COOKIE, Session, sessions};
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use axum_extra::extract::CookieJar;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct Subject {
    pub session: Session,
}

impl Subject {
    pub fn username(&self) -> &str {
        &self.session.username
    }
}

impl FromRequestParts<AppState> for Subject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        if let Some(subject) = parts.extensions.get::<Subject>() {
            return Ok(subject.clone());
        }
        let (token, by_cookie) = token(parts).ok_or(ApiError::Unauthenticated)?;
        if by_cookie && !safe(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(sessions::csrf_token(&token).as_str()) {
                return Err(ApiError::Csrf);
            }
        }
        let session = app
            .sessions
            .lookup(&token)
            .await
            // A session this process has not cached needs the central database: down or
            // out of connections, that is a 503 to retry, not a bug.
            .map_err(ApiError::central)?
            .ok_or(ApiError::Unauthenticated)?;
        tracing::Span::current().record("user", session.username.as_str());
        let subject = Subject { session };
        parts.extensions.insert(subject.clone());
        Ok(subject)
    }
}

fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token and whether it came from the cookie.
pub fn token(parts: &Parts) -> Option<(String, bool)> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    if let Some(t) = bearer.filter(|t| !t.is_empty()) {
        return Some((t, false));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    jar.get(SESSION_COOKIE)
        .map(|c| (c.value().to_owned(), true))
}
