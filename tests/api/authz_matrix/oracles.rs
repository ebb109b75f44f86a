//! Oracles: no answer may tell "this patient exists, but not for you" from "no such
//! patient". The answer depends only on the region an ID or health record number names
//! and on what the reader may do there, never on whether the record exists or where it
//! moved: a patient transferred to a region the reader may not read answers exactly as an
//! ID that never existed, on every patient-addressed route.

use crate::helpers::{TestApp, patient, spawn_app};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// An ID with the same region code as `real` (its last two bytes) that no patient has.
fn invented(real: &str) -> String {
    format!("{}0000{}", &real[..24], &real[28..])
}

/// A health record number of region `code` that was never handed out.
fn unused_hrn(code: u8) -> String {
    hmis::domain::hrn::Hrn::new(code, 9_999_999)
        .unwrap()
        .to_string()
}

/// Registers a patient in `district` and transfers them (as the admin) to `to`.
async fn moved(app: &TestApp, district: &str, to: &str) -> Value {
    let p = app.create_patient(&patient(district)).await;
    let id = p["id"].as_str().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/patients/{id}/transfer")))
        .json(&json!({"district": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    p
}

/// Status, region header and body of a request, with `id` spelled `ID` in the body and
/// without its stamps (see [`unstamped`]).
async fn answer(
    app: &TestApp,
    client: &Client,
    (method, path, body): &(Method, String, Option<Value>),
    id: &str,
) -> (u16, Option<String>, String) {
    let mut request = client
        .request(method.clone(), app.url(&path.replace("{id}", id)))
        .header("if-match", "\"1\"");
    if let Some(body) = body {
        request = request
            .json(&serde_json::from_str::<Value>(&body.to_string().replace("{id}", id)).unwrap());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let region = response
        .headers()
        .get("x-hmis-region")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap().replace(id, "ID");
    let body = serde_json::from_str(&text).map_or(text, |v| unstamped(v).to_string());
    (status, region, body)
}

/// A body without what differs between any two requests: request ids, and the number and
/// time of an audit line.
fn unstamped(v: Value) -> Value {
    let stamp =
        |k: &str, v: &Value| matches!(k, "request_id" | "at") || (k == "id" && v.is_number());
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(unstamped).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(k, v)| !stamp(k, v))
                .map(|(k, v)| (k, unstamped(v)))
                .collect(),
        ),
        v => v,
    }
}

/// Every route addressed by a patient ID (`{id}`), with a body it accepts.
fn routes(live: &str) -> Vec<(Method, String, Option<Value>)> {
    let some = uuid::Uuid::now_v7();
    let vitals = json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]});
    let p = |s: &str| format!("/api/v1/patients/{{id}}{s}");
    vec![
        (Method::GET, p(""), None),
        (Method::PATCH, p(""), Some(json!({"village": "Ha Oracle"}))),
        (Method::DELETE, p(""), None),
        (Method::GET, p("/audit"), None),
        (Method::POST, p("/observations"), Some(vitals)),
        (Method::GET, p("/observations?code=8867-4"), None),
        (Method::GET, p("/summary"), None),
        (Method::GET, p(&format!("/observations/{some}")), None),
        (
            Method::PATCH,
            p(&format!("/observations/{some}")),
            Some(json!({"value": 71, "reason": "recount"})),
        ),
        (
            Method::POST,
            p(&format!("/alerts/{some}/acknowledge")),
            None,
        ),
        (
            Method::POST,
            p("/merge"),
            Some(json!({"duplicate": live, "reason": "same"})),
        ),
        (
            Method::POST,
            format!("/api/v1/patients/{live}/merge"),
            Some(json!({"duplicate": "{id}", "reason": "same"})),
        ),
        (Method::POST, p("/unmerge"), Some(json!({"reason": "undo"}))),
        (
            Method::POST,
            p("/transfer"),
            Some(json!({"district": "Mafeteng"})),
        ),
    ]
}

#[tokio::test]
async fn a_patient_moved_where_the_reader_may_not_look_is_answered_as_an_id_that_never_existed() {
    let app = spawn_app().await;
    let gone = moved(&app, "Quthing", "Berea").await;
    let id = gone["id"].as_str().unwrap();
    let never = invented(id);
    let (_, before) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    let live = app.create_patient(&patient("Quthing")).await;
    // She may do everything in Quthing, where the ID says the patient is, and nothing in
    // Maseru, where the patient now lives.
    let admin = app.user("r.quthing", "regional_admin", "quthing").await;
    let mut differ = Vec::new();
    for route in routes(live["id"].as_str().unwrap()) {
        let a = answer(&app, &admin, &route, id).await;
        let b = answer(&app, &admin, &route, &never).await;
        if a != b || a.0 == 403 {
            differ.push(format!(
                "{} {}:\n  moved: {a:?}\n  never: {b:?}",
                route.0, route.1
            ));
        }
    }
    let hrn = |h: &str| (Method::GET, format!("/api/v1/patients?hrn={h}"), None);
    let a = answer(&app, &admin, &hrn(gone["hrn"].as_str().unwrap()), id).await;
    let b = answer(&app, &admin, &hrn(&unused_hrn(1)), id).await;
    if a != b {
        differ.push(format!("?hrn=:\n  moved: {a:?}\n  never: {b:?}"));
    }
    assert!(
        differ.is_empty(),
        "answers that tell them apart:\n{}",
        differ.join("\n")
    );
    let (_, still) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(still, before, "the moved record changed");
}

#[tokio::test]
async fn an_id_naming_a_region_the_reader_may_not_read_is_403_whether_it_exists_moved_or_never_was()
{
    let app = spawn_app().await;
    let gone = moved(&app, "Maseru", "Quthing").await;
    let id = gone["id"].as_str().unwrap();
    let stayed = app.create_patient(&patient("Maseru")).await;
    let stayed = stayed["id"].as_str().unwrap();
    let leribe = app.user("n.leribe", "nurse", "leribe").await;
    let get = (Method::GET, "/api/v1/patients/{id}".to_owned(), None);
    let mut answers = Vec::new();
    for which in [id, stayed, &invented(id)] {
        let (status, _, body) = answer(&app, &leribe, &get, which).await;
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, 403, "{answers:?}");
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "moved, present and invented Maseru IDs must answer alike: {answers:?}"
    );
    let hrn = |h: &str| (Method::GET, format!("/api/v1/patients?hrn={h}"), None);
    let a = answer(&app, &leribe, &hrn(gone["hrn"].as_str().unwrap()), id).await;
    let b = answer(&app, &leribe, &hrn(&unused_hrn(2)), id).await;
    assert_eq!((a.0, &a.2), (403, &b.2), "{a:?} {b:?}");
    // Where the patient lives now, the old ID and number still reach them.
    let quthing = app.user("n.quthing", "nurse", "quthing").await;
    let (status, region, _) = answer(&app, &quthing, &get, id).await;
    assert_eq!((status, region.as_deref()), (200, Some("quthing")));
    let (status, _, body) = answer(&app, &quthing, &hrn(gone["hrn"].as_str().unwrap()), id).await;
    assert!(status == 200 && body.contains("\"id\":\"ID\""), "{body}");
}
#[tokio::test]
async fn a_planner_reads_patients_of_every_region_without_names_or_phone_numbers() {
    let app = spawn_app().await;
    let mut body = patient("Leribe");
    body["phone"] = serde_json::json!("58001234");
    let id = app.create_patient(&body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let planner = app.user("p.reader", "planner", "*").await;
    let read: Value = planner
        .get(app.url(&format!("/api/v1/patients/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["region"], "leribe");
    assert_eq!(read["district"], "Leribe");
    for hidden in ["given_name", "family_name", "phone", "national_id"] {
        assert!(
            read[hidden].is_null(),
            "{hidden} shown to a planner: {read}"
        );
    }
    let (_, admin_view) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(admin_view["phone"], "+26658001234");
}

#[tokio::test]
async fn a_quthing_nurse_gets_403_for_a_maseru_id_whether_or_not_it_exists_and_maseru_is_not_asked()
{
    let app = spawn_app().await;
    let nurse = app.user("n.quthing", "nurse", "quthing").await;
    let real = app.create_patient(&patient("Maseru")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same region code (maseru's, the last two bytes), but no such patient.
    let invented = format!("{}0000{}", &real[..24], &real[28..]);
    let mut answers = Vec::new();
    for id in [&real, &invented] {
        let response = nurse
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .send()
            .await
            .unwrap();
        answers.push((
            response.status().as_u16(),
            response.json::<Value>().await.unwrap()["detail"].clone(),
        ));
    }
    assert_eq!(answers[0].0, 403);
    assert_eq!(
        answers[0], answers[1],
        "the answer must not tell a real ID from an invented one"
    );
}
