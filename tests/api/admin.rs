//! The admin API: regional admins manage roles in their own region only, system admins
//! manage everything including the policy, and every change applies at once.

mod refusals;

use crate::helpers::{PASSWORD, TestApp, patient, spawn_app};
use serde_json::{Value, json};

/// One admin request with a JSON body: its status and problem or answer.
pub(crate) async fn send(
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
