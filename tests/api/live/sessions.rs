//! A socket is authenticated like HTTP and lives no longer than its session: a logout
//! elsewhere or a disabled user closes it (code 4401), checked on each frame and every
//! `[live] session_check_seconds` even when the client is silent. A cookie-authenticated
//! upgrade from another site's page is refused.

use super::{ask, close_code, connect, upgrade_request};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn an_upgrade_without_credentials_is_refused_with_a_problem() {
    let app = spawn_app().await;
    let err = tokio_tungstenite::connect_async(upgrade_request(&app, &[]))
        .await
        .unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("not refused over HTTP: {err}");
    };
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_cookie_authenticated_upgrade_from_another_site_is_refused() {
    let app = spawn_app().await;
    let token = app.login("admin", PASSWORD).await;
    let cookie = format!("hmis_session={token}");
    let host = app.address.trim_start_matches("http://").to_owned();
    let foreign = upgrade_request(
        &app,
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    );
    let err = tokio_tungstenite::connect_async(foreign).await.unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("not refused over HTTP: {err}");
    };
    assert_eq!(response.status(), 403);

    let own = format!("http://{host}");
    let same = upgrade_request(&app, &[("cookie", &cookie), ("origin", &own)]);
    let (mut ws, _) = tokio_tungstenite::connect_async(same).await.unwrap();
    let me = ask(
        &mut ws,
        json!({"id": 1, "method": "GET", "path": "/api/v1/auth/me"}),
    )
    .await;
    assert_eq!(me["status"], 200, "{me}");
}

#[tokio::test]
async fn a_socket_whose_session_is_logged_out_closes_on_its_next_frame() {
    let app = spawn_app().await;
    let token = app.login("admin", PASSWORD).await;
    let mut ws = connect(&app, &token).await;
    let me = ask(
        &mut ws,
        json!({"id": 1, "method": "GET", "path": "/api/v1/auth/me"}),
    )
    .await;
    assert_eq!(me["status"], 200);
    let out = crate::helpers::bearer_client(&token)
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    super::send(
        &mut ws,
        &json!({"id": 2, "method": "GET", "path": "/api/v1/auth/me"}),
    )
    .await;
    assert_eq!(close_code(&mut ws, 10).await, Some(4401));
}

#[tokio::test]
async fn a_silent_socket_closes_once_its_user_is_disabled() {
    let app = spawn_app_with(|s| s.file.live.session_check_seconds = 1).await;
    let nurse = app.user("lineo", "nurse", "quthing").await;
    drop(nurse);
    let token = app.login("lineo", PASSWORD).await;
    let mut ws = connect(&app, &token).await;
    let me = ask(
        &mut ws,
        json!({"id": 1, "method": "GET", "path": "/api/v1/auth/me"}),
    )
    .await;
    assert_eq!(me["status"], 200);
    let disabled = app
        .client
        .post(app.url("/api/v1/admin/users/lineo/disable"))
        .send()
        .await
        .unwrap();
    assert!(disabled.status().is_success(), "{}", disabled.status());
    assert_eq!(close_code(&mut ws, 10).await, Some(4401));
}
