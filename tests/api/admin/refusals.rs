//! What the admin API refuses, and that a refusal writes nothing: repeated or impossible
//! changes (409, 404, 422 instead of a 500 and half a user), disabling oneself or the last
//! active system admin (409), and a disabled user enabled again.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};

/// Every user and the number of policy and grant lines, straight from the central database.
async fn central_state(app: &TestApp) -> String {
    let central = app.central().await;
    let state: String = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM casbin_rule)::text || ' lines; '
             || (SELECT string_agg(username || coalesce(' disabled', ''), ',' ORDER BY username) FROM users)",
    )
    .fetch_one(&central)
    .await
    .unwrap();
    central.close().await;
    state
}

#[tokio::test]
async fn repeated_or_impossible_admin_changes_answer_a_4xx_and_write_nothing() {
    let app = spawn_app().await;
    app.user("dup.nurse", "nurse", "quthing").await;
    let before = central_state(&app).await;
    let held = json!({"role": "nurse", "region": "quthing"});
    let line = |role: &str, action: &str| json!({"role": role, "kind": "patient", "action": action, "condition": "any"});
    let new_user = |name: &str, grants: Value| json!({"username": name, "password": PASSWORD, "grants": grants});
    use reqwest::Method as M;
    let grants = "/api/v1/admin/users/dup.nurse/grants";
    let cases = [
        (
            M::POST,
            "/api/v1/admin/policies",
            line("nurse", "read"),
            409,
            "",
        ),
        (
            M::DELETE,
            "/api/v1/admin/policies",
            line("nurse", "fly"),
            404,
            "",
        ),
        (
            M::POST,
            "/api/v1/admin/policies",
            line("healer", "read"),
            422,
            "role",
        ),
        (
            M::POST,
            "/api/v1/admin/policies",
            line("*", "read"),
            422,
            "role",
        ),
        (M::POST, grants, held.clone(), 409, ""),
        (
            M::DELETE,
            grants,
            json!({"role": "clinician", "region": "quthing"}),
            404,
            "",
        ),
        (
            M::POST,
            grants,
            json!({"role": "nurse", "region": "atlantis"}),
            422,
            "region",
        ),
        (
            M::POST,
            grants,
            json!({"role": "healer", "region": "quthing"}),
            422,
            "role",
        ),
        (
            M::DELETE,
            "/api/v1/admin/users/nobody/grants",
            held.clone(),
            404,
            "",
        ),
        (
            M::POST,
            "/api/v1/admin/users/nobody/disable",
            Value::Null,
            404,
            "",
        ),
        (
            M::POST,
            "/api/v1/admin/users/nobody/enable",
            Value::Null,
            404,
            "",
        ),
        (
            M::POST,
            "/api/v1/admin/users",
            new_user("twice", json!([held, held])),
            422,
            "grants[1]",
        ),
        (
            M::POST,
            "/api/v1/admin/users",
            new_user("dup.nurse", json!([held])),
            409,
            "",
        ),
    ];
    for (method, path, body, expected, field) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, expected, "{method} {path} {body}: {answer}");
        assert_eq!(kind, "application/problem+json");
        if !field.is_empty() {
            assert_eq!(answer["errors"][0]["field"], field, "{answer}");
        }
    }
    assert_eq!(central_state(&app).await, before, "nothing was written");
}

#[tokio::test]
async fn nobody_disables_themselves_or_the_last_system_admin_and_a_disabled_user_comes_back() {
    let app = spawn_app().await;
    let post = |client: &reqwest::Client, path: &str, body: Value| {
        let request = client.post(app.url(path)).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = post(
        &app.client,
        "/api/v1/admin/users/admin/disable",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, &body["type"]),
        (409, &json!("urn:hmis:problem:disable-self"))
    );
    // Someone who manages users everywhere without being a system admin.
    let boss = app.user("boss.everywhere", "regional_admin", "*").await;
    let (status, body) = post(&boss, "/api/v1/admin/users/admin/disable", Value::Null).await;
    assert_eq!(
        (status, &body["type"]),
        (409, &json!("urn:hmis:problem:last-system-admin"))
    );
    let demote = boss
        .delete(app.url("/api/v1/admin/users/admin/grants"))
        .json(&json!({"role": "system_admin", "region": "*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), 409, "the last system admin keeps the role");
    app.user("second.admin", "system_admin", "*").await;
    let login = json!({"username": "second.admin", "password": PASSWORD});
    for enable_with_cli in [false, true] {
        let (status, _) = post(
            &app.client,
            "/api/v1/admin/users/second.admin/disable",
            Value::Null,
        )
        .await;
        assert_eq!(status, 204);
        let (status, _) = post(&app.anon, "/api/v1/auth/login", login.clone()).await;
        assert_eq!(status, 401, "disabled");
        if enable_with_cli {
            let out =
                crate::helpers::hmis_cli(&app.settings, &["users", "enable", "second.admin"]).await;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            let (status, body) = post(
                &app.client,
                "/api/v1/admin/users/second.admin/enable",
                Value::Null,
            )
            .await;
            assert_eq!(status, 204, "{body}");
        }
        let (status, body) = post(&app.anon, "/api/v1/auth/login", login.clone()).await;
        assert_eq!(status, 200, "enabled again: {body}");
    }
    // With a second system admin active, the first may go.
    let (status, body) = post(&boss, "/api/v1/admin/users/admin/disable", Value::Null).await;
    assert_eq!(status, 204, "{body}");
}
