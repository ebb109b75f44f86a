//! The patient-record guard: every operation on one patient's record gives the same answer
//! for a record that is missing, deleted, moving to another region, or merged into another.
//! One table, operations x states, so that an operation that disagrees shows up as one cell.

use crate::clinical::{new_patient, of, record};
use crate::helpers::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Missing,
    Deleted,
    Moving,
    Merged,
}

/// A patient in `state`, with one critical heart rate (an observation and its alert).
struct Subject {
    id: String,
    observation: String,
    alert: String,
}

async fn subject(app: &TestApp, state: State, survivor: &str) -> Subject {
    let p = new_patient(app, "Maseru").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let vitals = json!({"vitals": [{"code": "8867-4", "value": 150, "unit": "/min"}]});
    let (status, set) = record(app, &app.client, &id, &vitals).await;
    assert_eq!(status, 201, "{set}");
    let observation = of(&set, "8867-4")["id"].as_str().unwrap().to_owned();
    let alert = set["alerts"][0]["id"].as_str().unwrap().to_owned();
    let change = match state {
        State::Missing => {
            let code = app.settings.region("maseru").unwrap().code;
            let id = hmis::domain::PatientId::new(code).uuid().to_string();
            return Subject {
                id,
                observation,
                alert,
            };
        }
        State::Deleted => "UPDATE patients SET deleted_at = now() WHERE id = $1::uuid",
        State::Moving => "UPDATE patients SET transfer_id = gen_random_uuid() WHERE id = $1::uuid",
        State::Merged => "UPDATE patients SET merged_into = $2::uuid WHERE id = $1::uuid",
    };
    let shard = app.shard("maseru").await;
    sqlx::query(change)
        .bind(&id)
        .bind(survivor)
        .execute(&shard)
        .await
        .unwrap();
    shard.close().await;
    Subject {
        id,
        observation,
        alert,
    }
}

/// The status and problem type (`ok` for a success) of `method path` with `body`.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("if-match", "\"1\"");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let problem: Value = response.json().await.unwrap_or(Value::Null);
    let kind = problem["type"].as_str().map_or("ok".to_owned(), |t| {
        t.trim_start_matches("urn:hmis:problem:").to_owned()
    });
    (status, kind)
}

const GONE: (u16, &str) = (410, "deleted");
const ABSENT: (u16, &str) = (404, "not-found");
const MOVING: (u16, &str) = (409, "transfer-in-progress");
const MERGED: (u16, &str) = (409, "merged");
const OK: (u16, &str) = (200, "ok");

#[tokio::test]
async fn every_operation_on_a_missing_deleted_moving_or_merged_record_gets_the_same_answer() {
    let app = spawn_app().await;
    let survivor = new_patient(&app, "Maseru").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bystander = new_patient(&app, "Maseru").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let states = [State::Missing, State::Deleted, State::Moving, State::Merged];
    // What each operation answers for each state, in the order of `states`.
    type Row = (&'static str, Method, &'static str, [(u16, &'static str); 4]);
    let table: [Row; 11] = [
        ("read", Method::GET, "", [ABSENT, GONE, OK, OK]),
        ("update", Method::PATCH, "", [ABSENT, GONE, MOVING, MERGED]),
        ("delete", Method::DELETE, "", [ABSENT, GONE, MOVING, MERGED]),
        (
            "merge",
            Method::POST,
            "/merge",
            [ABSENT, GONE, MOVING, MERGED],
        ),
        (
            "transfer",
            Method::POST,
            "/transfer",
            [ABSENT, GONE, MOVING, MERGED],
        ),
        (
            "record",
            Method::POST,
            "/observations",
            [ABSENT, GONE, MOVING, MERGED],
        ),
        (
            "summary",
            Method::GET,
            "/summary",
            [ABSENT, GONE, OK, MERGED],
        ),
        (
            "chart",
            Method::GET,
            "/observations?code=8867-4",
            [ABSENT, GONE, OK, MERGED],
        ),
        (
            "observation",
            Method::GET,
            "/observations/{obs}",
            [ABSENT, GONE, OK, MERGED],
        ),
        (
            "amend",
            Method::PATCH,
            "/observations/{obs}",
            [ABSENT, GONE, MOVING, MERGED],
        ),
        (
            "acknowledge",
            Method::POST,
            "/alerts/{alert}/acknowledge",
            [ABSENT, GONE, MOVING, MERGED],
        ),
    ];
    let mut wrong = Vec::new();
    for (column, state) in states.into_iter().enumerate() {
        let s = subject(&app, state, &survivor).await;
        for (op, method, path, expected) in &table {
            let path = path
                .replace("{obs}", &s.observation)
                .replace("{alert}", &s.alert);
            let body = match *op {
                "update" => Some(json!({"village": "Ha Foso"})),
                "merge" => Some(json!({"duplicate": bystander, "reason": "registered twice"})),
                "transfer" => Some(json!({"district": "Quthing"})),
                "record" => {
                    Some(json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}))
                }
                "amend" => Some(json!({"value": 72, "reason": "recounted"})),
                _ => None,
            };
            let path = format!("/api/v1/patients/{}{path}", s.id);
            let got = call(&app, method.clone(), &path, body).await;
            let want = (expected[column].0, expected[column].1.to_owned());
            if got != want {
                wrong.push(format!(
                    "{op} of a {state:?} record: {got:?}, want {want:?}"
                ));
            }
        }
        if state != State::Missing && !untouched(&app, &s).await {
            wrong.push(format!("the refused {state:?} record was changed"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Nothing of a refused record changed: its version, its observations, its alert.
async fn untouched(app: &TestApp, s: &Subject) -> bool {
    let shard = app.shard("maseru").await;
    let (version, observations, acknowledged): (i32, i64, bool) = sqlx::query_as(
        "SELECT p.version,
                (SELECT count(*) FROM observations o WHERE o.patient_id = p.id AND o.version = 1),
                (SELECT acknowledged_at IS NOT NULL FROM alerts a WHERE a.id = $2::uuid)
         FROM patients p WHERE p.id = $1::uuid",
    )
    .bind(&s.id)
    .bind(&s.alert)
    .fetch_one(&shard)
    .await
    .unwrap();
    shard.close().await;
    (version, observations, acknowledged) == (1, 1, false)
}

#[tokio::test]
async fn a_merged_record_reads_with_its_survivor_and_a_refused_delete_names_it() {
    let app = spawn_app().await;
    let survivor = new_patient(&app, "Maseru").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = subject(&app, State::Merged, &survivor).await;
    let path = format!("/api/v1/patients/{}", s.id);
    let (status, read) = app.get_json(&path).await;
    assert_eq!(
        (status, read["merged_into"].as_str()),
        (200, Some(&*survivor))
    );
    let response = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 409);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:hmis:problem:merged", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains(&survivor),
        "the refusal names the survivor: {problem}"
    );
    let (status, read) = app.get_json(&path).await;
    assert_eq!((status, read["version"].as_i64()), (200, Some(1)), "{read}");
}
