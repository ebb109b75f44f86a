//! Every documented operation is sent the requests that provoke the generic statuses: no
//! session, a user without rights, a cookie without its CSRF token, bodies that are
//! malformed, not JSON, too large or of the wrong type, unknown and unparsable query
//! parameters, an ID that is none, one no region has, and a deleted patient. Each answer
//! must be documented for its operation, with the media type it is served as.

use super::{Op, UNKNOWN_PARAMETER, document, operations};
use crate::helpers::{PASSWORD, TestApp, bearer_client, patient, spawn_app};
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

/// A user name no test creates.
pub const NO_SUCH_USER: &str = "no.such.user";

/// What fills `{name}` in a path: the patient given, or IDs of records that do not exist.
pub fn fill(name: &str, patient: &str) -> String {
    match name {
        "id" => patient.to_owned(),
        "observation_id" | "alert_id" => uuid::Uuid::now_v7().to_string(),
        "username" => NO_SUCH_USER.to_owned(),
        other => panic!("teach openapi_contract::statuses::fill about {{{other}}}"),
    }
}

/// A body each operation accepts (when the user may, and the record allows it), so that
/// what is answered is about the user or the record, not the body.
pub fn valid_body(op: &Op, other_patient: &str) -> Value {
    let p = op.template.as_str();
    match (op.method.as_str(), p) {
        ("post", "/api/v1/auth/login") => json!({"username": NO_SUCH_USER, "password": "wrong"}),
        ("post", "/api/v1/patients") => patient("Quthing"),
        ("patch", "/api/v1/patients/{id}") => json!({"village": "Ha Contract"}),
        ("post", "/api/v1/patients/{id}/observations") => {
            json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]})
        }
        ("patch", "/api/v1/patients/{id}/observations/{observation_id}") => {
            json!({"value": 71, "reason": "contract"})
        }
        ("post", "/api/v1/patients/{id}/merge") => {
            json!({"duplicate": other_patient, "reason": "contract"})
        }
        ("post", "/api/v1/patients/{id}/unmerge") => json!({"reason": "contract"}),
        ("post", "/api/v1/patients/{id}/transfer") => json!({"district": "Maseru"}),
        ("post", "/api/v1/query") => json!({"sql": "SELECT count(*) AS n FROM patients"}),
        // An existing user: a creation conflicts, nothing is made.
        ("post", "/api/v1/admin/users") => {
            json!({"username": "contract.nobody", "password": "long-enough-password"})
        }
        (_, "/api/v1/admin/users/{username}/grants") => {
            json!({"role": "nurse", "region": "quthing"})
        }
        (_, "/api/v1/admin/policies") => {
            json!({"role": "nurse", "kind": "patient", "action": "read", "condition": "any"})
        }
        _ => json!({}),
    }
}

/// The query an operation needs to get past its parameters (`?...`, or nothing).
pub fn valid_query(op: &Op) -> &'static str {
    match op.template.as_str() {
        "/api/v1/patients/{id}/observations" if op.method == "get" => "?code=8867-4",
        "/api/v1/routing/explain" => "?entity=patient&district=Quthing",
        _ => "",
    }
}

/// A JSON object whose first typed field has a value of another type.
fn wrong_typed_body(doc: &Value, op: &Op) -> Value {
    let mut schema = &op.op["requestBody"]["content"]["application/json"]["schema"];
    if let Some(r) = schema["$ref"].as_str() {
        schema = &doc["components"]["schemas"][r.rsplit('/').next().unwrap()];
    }
    let properties = schema["properties"]
        .as_object()
        .expect("a body with fields");
    for (name, p) in properties {
        let types: Vec<&str> = match &p["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let wrong = if types.contains(&"string") {
            json!(5)
        } else {
            json!("five")
        };
        return json!({ name.as_str(): wrong });
    }
    json!({"body": "none of its fields has a type"})
}

/// One answer to one probe.
pub struct Seen {
    pub op: String,
    pub probe: &'static str,
    pub status: u16,
    pub media: Option<String>,
}

pub async fn send(op: &Op, probe: &'static str, request: RequestBuilder) -> Seen {
    let response = request.send().await.unwrap();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().trim().to_owned());
    let status = response.status().as_u16();
    let empty = response.bytes().await.unwrap().is_empty();
    Seen {
        op: op.name(),
        probe,
        status,
        media: media.filter(|_| !empty),
    }
}

/// Fails on every answer the document does not describe, and every probe that did not
/// provoke the status it is for (`None`: whatever the operation answers).
pub fn check(op: &Op, seen: &[(Seen, Option<u16>)], failures: &mut Vec<String>) {
    for (s, expected) in seen {
        if let Some(why) = op.undocumented(s.status, s.media.as_deref()) {
            failures.push(format!("{} ({}): {why}", s.op, s.probe));
        }
        if expected.is_some_and(|e| e != s.status) {
            failures.push(format!(
                "{} ({}): {} instead of {expected:?}",
                s.op, s.probe, s.status
            ));
        }
    }
}

fn request(client: &Client, app: &TestApp, op: &Op, path: &str) -> RequestBuilder {
    client.request(op.method.to_uppercase().parse().unwrap(), app.url(path))
}

/// A user without any role, logged in afresh (an earlier probe may have logged it out).
async fn nobody(app: &TestApp) -> String {
    app.login("contract.nobody", PASSWORD).await
}

#[tokio::test]
async fn every_status_an_operation_answers_is_documented_with_the_media_type_it_is_served_as() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let central = app.central().await;
    hmis::auth::users::create(&central, "contract.nobody", PASSWORD, "")
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = app.create_patient(&patient("Quthing")).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let [live, other, deleted] = <[String; 3]>::try_from(ids).unwrap();
    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/patients/{deleted}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let limit = app.settings.file.server.max_body_bytes;
    let mut failures = Vec::new();
    for op in operations(&doc) {
        let base = op.path(|n| fill(n, &live));
        let path = base.clone() + valid_query(&op);
        let body = valid_body(&op, &other);
        let with_body = |r: RequestBuilder| if op.has_body() { r.json(&body) } else { r };
        let mut seen = Vec::new();
        let anon = with_body(request(&app.anon, &app, &op, &path));
        let s = send(&op, "no session", anon).await;
        if !op.secured() && s.status == 401 && op.template != "/api/v1/auth/login" {
            failures.push(format!("{}: documented as public, answered 401", s.op));
        }
        seen.push((s, op.secured().then_some(401)));
        let token = nobody(&app).await;
        let plain = with_body(request(&bearer_client(&token), &app, &op, &path));
        seen.push((send(&op, "a user without rights", plain).await, None));
        let cookie = with_body(request(&app.anon, &app, &op, &path))
            .header("cookie", format!("hmis_session={}", nobody(&app).await));
        let safe = op.method == "get";
        let expected = (op.secured() && !safe).then_some(403);
        seen.push((
            send(&op, "a cookie without its CSRF token", cookie).await,
            expected,
        ));
        if op.has_body() {
            let admin = || request(&app.client, &app, &op, &path);
            let json = |r: RequestBuilder| r.header("content-type", "application/json");
            let bodies: [(&'static str, RequestBuilder, u16); 5] = [
                ("malformed JSON", json(admin()).body("{]"), 400),
                (
                    "a body that is not JSON",
                    admin().header("content-type", "text/plain").body("x"),
                    415,
                ),
                (
                    "a body over the limit",
                    json(admin()).body(format!("{{\"a\": \"{}\"}}", "x".repeat(limit))),
                    413,
                ),
                (
                    "a field of the wrong type",
                    admin().json(&wrong_typed_body(&doc, &op)),
                    422,
                ),
                (
                    "an unknown field",
                    admin().json(&json!({"zz_unknown_field": 1})),
                    422,
                ),
            ];
            for (probe, r, status) in bodies {
                seen.push((send(&op, probe, r).await, Some(status)));
            }
        }
        let query = op.params("query");
        let typed = op.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| {
                p["in"] == "query"
                    && ["integer", "boolean", "number"]
                        .contains(&p["schema"]["type"].as_str().unwrap_or(""))
            });
        let mut queries = vec![(
            format!("{UNKNOWN_PARAMETER}=1"),
            "an unknown query parameter",
            Some(400),
        )];
        for p in typed {
            queries.push((
                format!("{}=not-a-number", p["name"].as_str().unwrap()),
                "a query parameter that does not parse",
                Some(400),
            ));
        }
        for name in &query {
            queries.push((
                format!("{name}=%01"),
                "a control character in a query parameter",
                None,
            ));
        }
        if !query.is_empty() {
            for (q, probe, status) in queries {
                let r = request(&app.client, &app, &op, &format!("{base}?{q}"));
                seen.push((send(&op, probe, r).await, status));
            }
        }
        if op.template.contains("{id}") {
            for (id, probe, status) in [
                ("not-an-id".to_owned(), "an ID that is not one", Some(400)),
                (
                    "0190a0b0-0000-7000-8000-00000000ffff".to_owned(),
                    "an ID no region has",
                    Some(404),
                ),
                (deleted.clone(), "a deleted patient", None),
            ] {
                let path = op.path(|n| fill(n, &id)) + valid_query(&op);
                let r =
                    with_body(request(&app.client, &app, &op, &path)).header("if-match", "\"1\"");
                seen.push((send(&op, probe, r).await, status));
            }
        }
        check(&op, &seen, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "answers the document does not describe:\n{}",
        failures.join("\n")
    );
}
