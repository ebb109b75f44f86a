//! Authentication: login answers (token, CSRF token, cookies), the login audit, which
//! routes need a session, session expiry, logout and revocation across hmis processes,
//! `hmis users disable`, login throttling, CSRF for cookie sessions, and SQL injection
//! attempts in every string parameter.
//!
//! This file holds the helpers the topic files share: one HTTP answer read completely, a
//! login attempt, `GET /api/v1/auth/me`, a user without roles, the login audit, and the
//! attributes of a `Set-Cookie` header.

mod csrf;
mod injection;
mod login;
mod revocation;
mod routes;
mod sessions;
mod throttling;

use crate::helpers::{PASSWORD, TestApp};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// One HTTP answer, read completely.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

impl Answer {
    pub(super) async fn of(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts a problem+json answer with this status and `urn:hmis:problem:<kind>`.
    pub(super) fn assert_problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(
            self.body["type"],
            format!("urn:hmis:problem:{kind}"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{}", self.body);
    }
}

/// One login attempt from the default address (127.0.0.1).
pub(super) async fn attempt(app: &TestApp, username: &str, password: &str) -> Answer {
    attempt_with(&app.anon, app, username, password).await
}

/// A client whose requests come from another loopback address.
pub(super) fn from_address(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

pub(super) async fn attempt_with(
    client: &reqwest::Client,
    app: &TestApp,
    user: &str,
    pw: &str,
) -> Answer {
    let body = json!({"username": user, "password": pw});
    let request = client.post(app.url("/api/v1/auth/login")).json(&body);
    Answer::of(request.send().await.unwrap()).await
}

/// The token of a successful login.
pub(super) fn token(login: &Answer) -> String {
    assert_eq!(login.status, 200, "login failed: {}", login.body);
    login.body["token"].as_str().unwrap().to_owned()
}

/// The status of `GET /api/v1/auth/me` with `token` as a bearer token.
pub(super) async fn me(app: &TestApp, token: &str) -> u16 {
    let request = app.anon.get(app.url("/api/v1/auth/me")).bearer_auth(token);
    request.send().await.unwrap().status().as_u16()
}

/// A user without any role, straight in the central database.
pub(super) async fn add_user(app: &TestApp, username: &str) {
    let central = app.central().await;
    hmis::auth::users::create(&central, username, PASSWORD, username)
        .await
        .unwrap();
    central.close().await;
}

/// (username, outcome) of every login attempt of these users, oldest first.
pub(super) async fn login_audit(app: &TestApp, usernames: &[&str]) -> Vec<(String, String)> {
    let central = app.central().await;
    let names: Vec<String> = usernames.iter().map(|u| u.to_string()).collect();
    let rows = sqlx::query_as(
        "SELECT username, outcome FROM login_audit WHERE username = ANY($1) ORDER BY id",
    )
    .bind(&names)
    .fetch_all(&central)
    .await
    .unwrap();
    central.close().await;
    rows
}

/// The `Set-Cookie` header setting `name`, split into its attributes.
pub(super) fn set_cookie(headers: &HeaderMap, name: &str) -> Vec<String> {
    let prefix = format!("{name}=");
    let all: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let cookie = all
        .iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no Set-Cookie for {name} in {all:?}"));
    cookie.split(';').map(|a| a.trim().to_owned()).collect()
}
