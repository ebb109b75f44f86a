//! A frame is answered by the router that serves HTTP: for every GET route of the
//! OpenAPI document (its parameters filled in), the answer over the socket equals the
//! HTTP answer. Frames that cannot be understood get an `error` frame naming
//! the field.

use super::{ask, connect, next_frame, send};
use crate::clinical::{of, record};
use crate::helpers::{PASSWORD, patient, spawn_app};
use serde_json::{Value, json};

/// Every GET path under `/api/v1`, with its path parameters and required query parameters
/// filled in: the patient `id` and `observation_id` given (records that exist, so their
/// success answers are compared), a username, a vital sign's code, and made-up values for
/// the rest (both ways answer the same 4xx then). The long-poll is left out: it holds its
/// answer for up to `long_poll_seconds`, and the socket has subscriptions instead.
fn every_get_path(spec: &Value, id: &str, observation: &str) -> Vec<String> {
    let value = |name: &str| match name {
        "id" => id.to_owned(),
        "observation_id" => observation.to_owned(),
        "username" => "admin".to_owned(),
        "code" => "8480-6".to_owned(),
        "group_by" => "region".to_owned(),
        _ => "01a23442-0000-7000-8000-000000000001".to_owned(),
    };
    let mut out = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        if !template.starts_with("/api/v1/") || template == "/api/v1/events" {
            continue;
        }
        let (mut path, mut query) = (template.clone(), Vec::new());
        for p in get["parameters"].as_array().cloned().unwrap_or_default() {
            let name = p["name"].as_str().unwrap();
            if p["in"] == "path" {
                path = path.replace(&format!("{{{name}}}"), &value(name));
            } else if p["in"] == "query" && p["required"] == true {
                query.push(format!("{name}={}", value(name)));
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        out.push(path);
    }
    out
}

/// Whatever differs between two identical requests by design (the request's own ID).
fn steady(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("request_id");
    }
    body
}

#[tokio::test]
async fn every_get_route_answers_over_the_socket_as_over_http() {
    let app = spawn_app().await;
    let p = app.create_patient(&patient("Maseru")).await;
    let id = p["id"].as_str().unwrap();
    let vitals = json!({"vitals": [{"code": "8310-5", "value": 36.8, "unit": "Cel"}]});
    let (status, set) = record(&app, &app.client, id, &vitals).await;
    assert_eq!(status, 201, "{set}");
    let observation = of(&set, "8310-5")["id"].as_str().unwrap().to_owned();
    let spec: Value = app.get_json("/api/v1/openapi.json").await.1;
    let paths = every_get_path(&spec, id, &observation);
    assert!(paths.len() >= 8, "too few routes found: {paths:?}");
    let one = format!("/api/v1/patients/{id}/observations/{observation}");
    assert!(paths.contains(&one), "{paths:?}");
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    for (n, path) in paths.iter().enumerate() {
        let answer = ask(&mut ws, json!({"id": n, "method": "GET", "path": path})).await;
        let (status, body) = app.get_json(path).await;
        assert_eq!(answer["status"], status, "{path}: {answer}");
        if *path == one {
            // The recorded observation itself, not a 404 both ways.
            assert_eq!(status, 200, "{path}: {body}");
            assert_eq!(body["id"], observation.as_str(), "{body}");
        }
        assert_eq!(steady(answer["body"].clone()), steady(body), "{path}");
        if status >= 400 {
            assert_eq!(
                answer["headers"]["content-type"], "application/problem+json",
                "{path}"
            );
        }
    }
    // An unknown patient: the same problem, type and all.
    let path = "/api/v1/patients/00000000-0000-7000-8000-000000000000";
    let answer = ask(&mut ws, json!({"id": "x", "method": "GET", "path": path})).await;
    let (status, body) = app.get_json(path).await;
    assert_eq!(
        (
            answer["status"].as_u64().unwrap(),
            steady(answer["body"].clone())
        ),
        (u64::from(status), steady(body))
    );
}

#[tokio::test]
async fn a_write_over_the_socket_is_the_http_write_with_its_status_and_headers() {
    let app = spawn_app().await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let created = ask(
        &mut ws,
        json!({"id": 1, "method": "POST", "path": "/api/v1/patients", "body": patient("Quthing")}),
    )
    .await;
    assert_eq!(created["status"], 201, "{created}");
    let id = created["body"]["id"].as_str().unwrap();
    assert_eq!(created["headers"]["x-hmis-region"], "quthing");
    let path = format!("/api/v1/patients/{id}");
    let patched = ask(
        &mut ws,
        json!({"id": 2, "method": "PATCH", "path": path, "headers": {"If-Match": "\"1\""},
               "body": {"village": "Ha Sekake"}}),
    )
    .await;
    assert_eq!(patched["status"], 200, "{patched}");
    assert_eq!(app.get_json(&path).await.1["village"], "Ha Sekake");
}

#[tokio::test]
async fn a_frame_that_cannot_be_understood_gets_an_error_naming_the_field() {
    let app = spawn_app().await;
    let mut ws = connect(&app, &app.login("admin", PASSWORD).await).await;
    let cases = [
        (
            json!({"id": 1, "method": "FETCH", "path": "/api/v1/auth/me"}),
            "method",
        ),
        (json!({"id": 2, "method": "GET"}), "path"),
        (
            json!({"id": 3, "method": "GET", "path": "/healthz"}),
            "path",
        ),
        (
            json!({"id": 4, "method": "GET", "path": "/api/v1/ws"}),
            "path",
        ),
        (json!({"method": "GET", "path": "/api/v1/auth/me"}), "id"),
        (
            json!({"id": 5, "method": "GET", "path": "/api/v1/auth/me", "headers": {"Authorization": "Bearer x"}}),
            "headers",
        ),
        (
            json!({"id": 6, "method": "GET", "path": "/api/v1/auth/me", "extra": 1}),
            "frame",
        ),
        (json!({"id": 7, "type": "dance"}), "type"),
    ];
    for (frame, field) in cases {
        let answer = ask(&mut ws, frame.clone()).await;
        assert_eq!(answer["type"], "error", "{frame}: {answer}");
        assert_eq!(answer["field"], field, "{frame}: {answer}");
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    send(&mut ws, &json!("not an object")).await;
    let answer = next_frame(&mut ws).await;
    assert_eq!(
        (answer["type"].as_str(), answer["field"].as_str()),
        (Some("error"), Some("frame"))
    );
    // The socket still serves.
    let me = ask(
        &mut ws,
        json!({"id": 9, "method": "GET", "path": "/api/v1/auth/me"}),
    )
    .await;
    assert_eq!(me["status"], 200);
}
