//! The admin API: regional admins manage roles in their own region only, system admins
//! manage everything including the policy, and every change applies at once.

use crate::helpers::{PASSWORD, TestApp, patient, spawn_app};
use serde_json::{Value, json};

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = client
        .request(method, app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_regional_admin_manages_roles_in_their_own_region_only() {
    let app = spawn_app().await;
    let radmin = app.user("r.admin", "regional_admin", "quthing").await;
    let new = json!({"username": "new.nurse", "password": PASSWORD, "grants": [{"role": "nurse", "region": "quthing"}]});
    let (status, body) = send(
        &app,
        &radmin,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        new,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let nurse = crate::helpers::bearer_client(&app.login("new.nurse", PASSWORD).await);
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut read = 0;
    for _ in 0..50 {
        read = nurse
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if read == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(read, 200, "the new nurse reads Quthing patients");
    for (role, region) in [("nurse", "maseru"), ("planner", "*"), ("system_admin", "*")] {
        let (status, body) = send(
            &app,
            &radmin,
            reqwest::Method::POST,
            "/api/v1/admin/users/new.nurse/grants",
            json!({"role": role, "region": region}),
        )
        .await;
        assert_eq!(status, 403, "{role} in {region}: {body}");
    }
    let (status, body) = send(
        &app,
        &radmin,
        reqwest::Method::POST,
        "/api/v1/admin/users/new.nurse/grants",
        json!({"role": "healer", "region": "quthing"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = send(
        &app,
        &nurse,
        reqwest::Method::GET,
        "/api/v1/admin/users",
        Value::Null,
    )
    .await;
    assert_eq!(status, 403, "nurses do not manage users");
    let (status, users) = send(
        &app,
        &radmin,
        reqwest::Method::GET,
        "/api/v1/admin/users",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"new.nurse") && !names.contains(&"admin"),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_policy_change_through_the_api_applies_without_a_restart_and_only_system_admins_make_it()
{
    let app = spawn_app().await;
    let nurse = app.user("pol.nurse", "nurse", "quthing").await;
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit_url = app.url(&format!("/api/v1/patients/{id}/audit"));
    assert_eq!(nurse.get(&audit_url).send().await.unwrap().status(), 403);
    let line =
        json!({"role": "nurse", "kind": "patient_audit", "action": "read", "condition": "any"});
    let (status, _) = send(
        &app,
        &nurse,
        reqwest::Method::POST,
        "/api/v1/admin/policies",
        line.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        &app,
        &app.client,
        reqwest::Method::POST,
        "/api/v1/admin/policies",
        line.clone(),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(nurse.get(&audit_url).send().await.unwrap().status(), 200);
    let (_, lines) = send(
        &app,
        &app.client,
        reqwest::Method::GET,
        "/api/v1/admin/policies",
        Value::Null,
    )
    .await;
    assert!(lines.as_array().unwrap().contains(&line), "{lines}");
    let (status, _) = send(
        &app,
        &app.client,
        reqwest::Method::DELETE,
        "/api/v1/admin/policies",
        line,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(nurse.get(&audit_url).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn disabling_a_user_through_the_api_ends_their_sessions_at_once() {
    let app = spawn_app().await;
    let nurse = app.user("gone.nurse", "nurse", "mafeteng").await;
    assert_eq!(
        nurse
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let radmin_maseru = app.user("m.radmin2", "regional_admin", "maseru").await;
    let (status, _) = send(
        &app,
        &radmin_maseru,
        reqwest::Method::POST,
        "/api/v1/admin/users/gone.nurse/disable",
        Value::Null,
    )
    .await;
    assert_eq!(
        status, 404,
        "a Maseru admin cannot disable a Mafeteng nurse, nor learn that she exists"
    );
    let (status, _) = send(
        &app,
        &app.client,
        reqwest::Method::POST,
        "/api/v1/admin/users/gone.nurse/disable",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        nurse
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let again = app
        .anon
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "gone.nurse", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}

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
