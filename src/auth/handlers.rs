//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`.
//! Every attempt is written to `login_audit`, which is also what throttling counts, so the
//! limits hold across every hmis process.

use super::{CSRF_COOKIE, SESSION_COOKIE, Subject, password, sessions};
use crate::app::AppState;
use crate::authz::Grant;
use crate::http::{ApiError, ApiJson, Problem};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginAnswer {
    /// Bearer token for API clients (`Authorization: Bearer ...`); browsers use the cookie.
    token: String,
    /// Send back as `X-CSRF-Token` on cookie-authenticated POST, PATCH, PUT and DELETE.
    csrf_token: String,
    expires_at: DateTime<Utc>,
    user: Me,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    username: String,
    grants: Vec<Grant>,
    /// The regions any grant covers (`*`: all).
    regions: Vec<String>,
}

/// Logs in. Answers a session cookie and the same session as a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginAnswer), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let address = peer.ip().to_string();
    let db = |e: sqlx::Error| ApiError::Internal(e.into());
    if super::users::valid_username(&input.username).is_err() {
        // No such account can exist; spend the same time as a wrong password.
        password::verify(input.password, None).await;
        record(&app, "(invalid)", &address, "failure", &headers)
            .await
            .map_err(db)?;
        return Err(ApiError::Unauthenticated);
    }
    if let Some(wait) = throttled(&app, &input.username, &address)
        .await
        .map_err(db)?
    {
        record(&app, &input.username, &address, "throttled", &headers)
            .await
            .map_err(db)?;
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: wait,
        });
    }
    let user: Option<(uuid::Uuid, String, bool)> = sqlx::query_as(
        "SELECT id, password_hash, disabled_at IS NOT NULL FROM users WHERE username = $1",
    )
    .bind(&input.username)
    .fetch_optional(&app.central)
    .await
    .map_err(db)?;
    let stored = user.as_ref().map(|u| u.1.clone());
    let ok = password::verify(input.password, stored).await;
    let outcome = match &user {
        Some((_, _, true)) if ok => "disabled",
        Some(_) if ok => "success",
        _ => "failure",
    };
    record(&app, &input.username, &address, outcome, &headers)
        .await
        .map_err(db)?;
    let (Some((user_id, _, _)), "success") = (user, outcome) else {
        return Err(ApiError::Unauthenticated);
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let (token, expires_at) = app
        .sessions
        .create(user_id, Some(&address), agent)
        .await
        .map_err(db)?;
    let csrf_token = sessions::csrf_token(&token);
    let cookies = [
        cookie(&app, SESSION_COOKIE, &token, true),
        cookie(&app, CSRF_COOKIE, &csrf_token, false),
    ];
    let user = me_of(&app, &input.username).await;
    let body = LoginAnswer {
        token,
        csrf_token,
        expires_at,
        user,
    };
    Ok((
        [
            (header::SET_COOKIE, cookies[0].clone()),
            (header::SET_COOKIE, cookies[1].clone()),
        ],
        Json(body),
    )
        .into_response())
}

/// Logs out this session, or with `?everywhere=true` every session of the user.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    params(("everywhere" = Option<bool>, Query)), responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(
    State(app): State<AppState>,
    subject: Subject,
    crate::http::ApiQuery(q): crate::http::ApiQuery<LogoutQuery>,
) -> Result<Response, ApiError> {
    let result = if q.everywhere.unwrap_or(false) {
        app.sessions.revoke_user(subject.session.user_id).await
    } else {
        app.sessions.revoke(subject.session.token_sha256).await
    };
    result.map_err(ApiError::Internal)?;
    let gone = [
        cookie(&app, SESSION_COOKIE, "", true),
        cookie(&app, CSRF_COOKIE, "", false),
    ];
    Ok((
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, gone[0].clone()),
            (header::SET_COOKIE, gone[1].clone()),
        ],
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutQuery {
    everywhere: Option<bool>,
}

/// Who the session belongs to, with their roles and regions.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(app): State<AppState>, subject: Subject) -> Json<Me> {
    Json(me_of(&app, subject.username()).await)
}

async fn me_of(app: &crate::app::App, username: &str) -> Me {
    let grants = app.authz.grants(username).await;
    let mut regions: Vec<String> = grants.iter().map(|g| g.region.clone()).collect();
    regions.sort();
    regions.dedup();
    Me {
        username: username.to_owned(),
        grants,
        regions,
    }
}

/// Seconds to wait, if this account or address failed too often recently.
async fn throttled(
    app: &crate::app::App,
    username: &str,
    address: &str,
) -> sqlx::Result<Option<u64>> {
    let limits = &app.settings.file.auth;
    let window = limits.failure_window_minutes as f64 * 60.0;
    let (by_user, by_address): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE username = $1), count(*) FILTER (WHERE address = $2)
         FROM login_audit WHERE outcome <> 'success' AND at > now() - make_interval(secs => $3)
           AND (username = $1 OR address = $2)",
    )
    .bind(username)
    .bind(address)
    .bind(window)
    .fetch_one(&app.central)
    .await?;
    let over = by_user >= i64::from(limits.max_failures_per_account)
        || by_address >= i64::from(limits.max_failures_per_address);
    Ok(over.then_some(limits.failure_window_minutes * 60))
}

async fn record(
    app: &crate::app::App,
    username: &str,
    address: &str,
    outcome: &str,
    headers: &HeaderMap,
) -> sqlx::Result<()> {
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
    let name: String = username.chars().take(100).collect();
    sqlx::query(
        "INSERT INTO login_audit (username, address, outcome, request_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(name)
    .bind(address)
    .bind(outcome)
    .bind(request_id)
    .execute(&app.central)
    .await
    .map(|_| ())
}

fn cookie(app: &crate::app::App, name: &'static str, value: &str, http_only: bool) -> String {
    let mut c = Cookie::new(name, value.to_owned());
    c.set_path("/");
    c.set_http_only(http_only);
    c.set_same_site(SameSite::Strict);
    c.set_secure(app.settings.file.auth.secure_cookies);
    if value.is_empty() {
        c.make_removal();
    }
    c.to_string()
}
