//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`.
//! Every attempt is written to `login_audit`, which is also what throttling counts
//! ([`crate::auth::throttle`]), so the limits hold across every hmis process.

use crate::app::AppState;
use crate::auth::{CSRF_COOKIE, SESSION_COOKIE, password, sessions, throttle, users};
use crate::authz::Grant;
use crate::http::Subject;
use crate::http::{ApiError, ApiJson, openapi as doc};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
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
    responses((status = 200, body = LoginAnswer), doc::BadBody, doc::Login))]
pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let address = peer.ip().to_string();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let user_id =
        check_credentials(&app, &input.username, input.password, &address, request_id).await?;
    // Who logged in, on the request's log lines (a refused name is not: it may be a
    // password typed in the wrong field).
    tracing::Span::current().record("user", input.username.as_str());
    let db = ApiError::central;
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
    // AppendHeaders: a plain header array would keep only the last Set-Cookie.
    let [session, csrf] = cookies;
    Ok((
        AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, csrf)]),
        Json(body),
    )
        .into_response())
}

/// Logs out this session, or with `?everywhere=true` every session of the user.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = []), ("hmis_session" = [])),
    params(LogoutQuery), responses((status = 204), doc::Signed, doc::Denied, doc::BadQuery))]
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
        AppendHeaders([
            (header::SET_COOKIE, gone[0].clone()),
            (header::SET_COOKIE, gone[1].clone()),
        ]),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogoutQuery {
    /// `true`: end every session of the user, in every hmis process.
    everywhere: Option<bool>,
}

/// Who the session belongs to, with their roles and regions.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, body = Me), doc::Signed))]
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

/// Checks a login attempt and records it. The attempt holds advisory locks on its account
/// and its address (in that order, so two attempts never wait on each other in a cycle)
/// from counting earlier failures until its own outcome is recorded: parallel guesses
/// are counted one after another, in every hmis process, and cannot overrun the limits.
/// Within a process they queue first (`auth::queue`), so that the waiting holds no
/// central connection.
async fn check_credentials(
    app: &crate::app::App,
    username: &str,
    password: String,
    address: &str,
    request_id: &str,
) -> Result<uuid::Uuid, ApiError> {
    let name = if users::valid_username(username).is_ok() {
        username
    } else {
        "(invalid)"
    };
    let keys = [
        format!("login-user:{name}"),
        format!("login-address:{address}"),
    ];
    // In this process, wait holding no connection; across processes, the advisory locks.
    let mark = app.logins.mark();
    let _turn = app.logins.turn(&[&keys[0], &keys[1]]).await;
    // An attempt ahead found the user database out of reach: this one would wait as long
    // again to find the same (see `auth::queue`).
    if app.logins.failed_since(mark) {
        return Err(ApiError::CentralUnavailable);
    }
    let result = attempt(app, name, password, address, request_id, keys).await;
    if matches!(result, Err(ApiError::CentralUnavailable)) {
        app.logins.central_failed();
    }
    result
}

/// One login attempt, its turn taken: the locks, the throttle, the password, the record.
async fn attempt(
    app: &crate::app::App,
    name: &str,
    password: String,
    address: &str,
    request_id: &str,
    keys: [String; 2],
) -> Result<uuid::Uuid, ApiError> {
    let db = ApiError::central;
    let mut tx = app.central.begin().await.map_err(db)?;
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    let limits = throttle::Limits::from(&app.settings.file.auth);
    if let Some(wait) = throttle::wait(&mut tx, &limits, name, address)
        .await
        .map_err(db)?
    {
        record(&mut tx, name, address, "throttled", request_id)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: wait,
        });
    }
    let user: Option<(uuid::Uuid, String, bool)> = sqlx::query_as(
        "SELECT id, password_hash, disabled_at IS NOT NULL FROM users WHERE username = $1",
    )
    .bind(name)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    // Unknown users cost the same time as a wrong password: no oracle for usernames.
    let ok = password::verify(password, user.as_ref().map(|u| u.1.clone())).await;
    let outcome = match &user {
        Some((_, _, true)) if ok => "disabled",
        Some(_) if ok => "success",
        _ => "failure",
    };
    record(&mut tx, name, address, outcome, request_id)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    match (user, outcome) {
        (Some((id, _, _)), "success") => Ok(id),
        _ => Err(ApiError::BadCredentials),
    }
}

async fn record(
    tx: &mut sqlx::PgConnection,
    username: &str,
    address: &str,
    outcome: &str,
    request_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        // The moment the outcome is known, after any wait for the advisory locks: what the
        // throttling windows are measured from.
        "INSERT INTO login_audit (at, username, address, outcome, request_id)
         VALUES (clock_timestamp(), $1, $2, $3, $4)",
    )
    .bind(username)
    .bind(address)
    .bind(outcome)
    .bind(request_id)
    .execute(tx)
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
