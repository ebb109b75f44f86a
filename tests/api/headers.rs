//! Security headers: the same on an API answer and an error answer (and on the clinic UI's
//! files: `ui.rs`); `Cache-Control: no-store` on everything under `/api/`; HSTS only when
//! cookies are configured `Secure`.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::Response;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_protected(response: &Response, what: &str) {
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(header(response, name), Some(value), "{name} on {what}");
    }
}

#[tokio::test]
async fn api_answers_and_errors_carry_every_security_header_and_are_never_stored() {
    let app = spawn_app().await;
    let sent = |request: reqwest::RequestBuilder| async { request.send().await.unwrap() };
    let me = sent(app.client.get(app.url("/api/v1/auth/me"))).await;
    assert_eq!(me.status(), 200);
    let unauthenticated = sent(app.anon.get(app.url("/api/v1/patients"))).await;
    assert_eq!(unauthenticated.status(), 401);
    let no_route = sent(app.client.get(app.url("/api/v1/nowhere"))).await;
    assert_eq!(no_route.status(), 404);
    let not_json = app
        .client
        .post(app.url("/api/v1/patients"))
        .header("content-type", "application/json")
        .body("{not json");
    let refused = sent(not_json).await;
    assert_eq!(refused.status(), 400);
    for (response, what) in [
        (&me, "an answer"),
        (&unauthenticated, "a 401"),
        (&no_route, "a 404"),
        (&refused, "a 400"),
    ] {
        assert_protected(response, what);
        assert_eq!(
            header(response, "cache-control"),
            Some("no-store"),
            "{what}"
        );
        assert_eq!(
            header(response, "strict-transport-security"),
            None,
            "no HSTS while cookies are not Secure: {what}"
        );
    }
}

#[tokio::test]
async fn with_secure_cookies_every_answer_tells_browsers_to_use_https_only() {
    let app = spawn_app_with(|s| s.file.auth.secure_cookies = true).await;
    let me = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    let page = app.anon.get(app.url("/")).send().await.unwrap();
    let missing = app
        .anon
        .get(app.url("/api/v1/patients"))
        .send()
        .await
        .unwrap();
    for (response, what) in [(&me, "an answer"), (&page, "/"), (&missing, "a 401")] {
        assert_eq!(
            header(response, "strict-transport-security"),
            Some("max-age=31536000; includeSubDomains"),
            "{what}"
        );
    }
}
