//! Control characters in every text input of every write route: NUL, U+0001 and ESC in
//! each JSON string field, query parameter and path parameter (usernames, IDs), and a tab
//! in the stored headers (HTTP itself cannot carry the others there). Each is a 422 naming
//! the field, and afterwards every table of every database is as it was.

use super::tables::everything;
use crate::helpers::{TestApp, patient, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const BAD: [char; 3] = ['\u{0}', '\u{1}', '\u{1b}'];

/// One request with one bad field.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    header: Option<(&'static str, &'static str)>,
    field: String,
}

/// The field name a problem gives for a JSON pointer: `/vitals/1/unit` is `vitals[1].unit`.
fn field_of(pointer: &str) -> String {
    pointer[1..].split('/').fold(String::new(), |name, part| {
        match (part.parse::<usize>(), name.is_empty()) {
            (Ok(i), _) => format!("{name}[{i}]"),
            (Err(_), true) => part.to_owned(),
            (Err(_), false) => format!("{name}.{part}"),
        }
    })
}

/// Every write with a body: (method, path, a valid body, the pointers of its text fields).
fn writes(p: &str, obs: &str, dup: &str) -> Vec<(Method, String, Value, &'static str)> {
    let mut person = patient("Quthing");
    for (k, v) in [("village", "Ha Sekake"), ("facility", "Quthing Hospital")] {
        person[k] = json!(v);
    }
    person["phone"] = json!("5812 3456");
    person["national_id"] = json!("LS123");
    let person_fields = "/given_name /family_name /sex /birth_date /district /village \
                         /facility /phone /national_id";
    let vitals = json!({"taken_at": "2026-01-05T10:00:00+02:00", "vitals": [
        {"code": "8867-4", "value": 72, "unit": "/min"},
        {"code": "85354-9", "components": [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"}]}]});
    let amend = json!({"unit": "/min", "taken_at": "2026-01-05T10:00:00+02:00",
        "status": "entered-in-error", "reason": "typo"});
    let user = json!({"username": "cc.new", "password": "long-enough", "display_name": "New",
        "grants": [{"role": "nurse", "region": "quthing"}]});
    let grant = json!({"role": "nurse", "region": "quthing"});
    let policy = json!({"role": "nurse", "kind": "patient", "action": "read", "condition": "any"});
    let patient_path = format!("/api/v1/patients/{p}");
    let (post, patch, delete) = (Method::POST, Method::PATCH, Method::DELETE);
    let grants = "/api/v1/admin/users/cc.nurse/grants".to_owned();
    let policies = "/api/v1/admin/policies".to_owned();
    vec![
        (
            post.clone(),
            "/api/v1/patients".into(),
            person.clone(),
            person_fields,
        ),
        (patch.clone(), patient_path.clone(), person, person_fields),
        (
            post.clone(),
            format!("{patient_path}/observations"),
            vitals,
            "/taken_at /vitals/0/code /vitals/0/unit /vitals/1/components/0/unit",
        ),
        (
            patch,
            format!("{patient_path}/observations/{obs}"),
            amend,
            "/unit /taken_at /status /reason",
        ),
        (
            post.clone(),
            format!("{patient_path}/transfer"),
            json!({"district": "Maseru", "reason": "moved"}),
            "/district /reason",
        ),
        (
            post.clone(),
            format!("{patient_path}/merge"),
            json!({"duplicate": dup, "reason": "same person"}),
            "/duplicate /reason",
        ),
        (
            post.clone(),
            format!("{patient_path}/unmerge"),
            json!({"reason": "not"}),
            "/reason",
        ),
        (
            post.clone(),
            "/api/v1/admin/users".into(),
            user,
            "/username /password /display_name /grants/0/role /grants/0/region",
        ),
        (post.clone(), grants.clone(), grant.clone(), "/role /region"),
        (delete.clone(), grants, grant, "/role /region"),
        (
            post.clone(),
            policies.clone(),
            policy.clone(),
            "/role /kind /action /condition",
        ),
        (delete, policies, policy, "/role /kind /action /condition"),
        (
            post.clone(),
            "/api/v1/query".into(),
            json!({"sql": "SELECT 1", "regions": ["quthing"], "format": "csv"}),
            "/sql /regions/0 /format",
        ),
        (
            post,
            "/api/v1/auth/login".into(),
            json!({"username": "cc.nurse", "password": "test-password"}),
            "/username /password",
        ),
    ]
}

fn cases(p: &str, obs: &str, dup: &str, c: char) -> Vec<Case> {
    let mut all = Vec::new();
    for (method, path, valid, pointers) in writes(p, obs, dup) {
        for pointer in pointers.split_whitespace() {
            let mut body = valid.clone();
            let at = body.pointer_mut(pointer).expect(pointer);
            *at = json!(format!("{}{c}x", at.as_str().unwrap_or("x")));
            all.push(Case {
                method: method.clone(),
                path: path.clone(),
                body: Some(body),
                header: None,
                field: field_of(pointer),
            });
        }
    }
    // Path and query parameters, percent-encoded as a client sends them; refused before
    // any handler reads a body, so these send none.
    let e = format!("%{:02X}", c as u32);
    let (users, pp) = ("/api/v1/admin/users", format!("/api/v1/patients/{p}"));
    for line in [
        format!("username POST {users}/cc.nurse{e}/disable"),
        format!("username POST {users}/cc.nurse{e}/enable"),
        format!("username POST {users}/cc{e}/grants"),
        format!("username DELETE {users}/cc{e}/grants"),
        format!("id DELETE {pp}{e}"),
        format!("id POST {pp}{e}/observations"),
        format!("observation_id PATCH {pp}/observations/{obs}{e}"),
        format!("q GET /api/v1/patients?region=quthing&q=Mo{e}"),
        format!("everywhere POST /api/v1/auth/logout?everywhere=true{e}"),
    ] {
        let [field, method, path] = line.splitn(3, ' ').collect::<Vec<_>>()[..] else {
            unreachable!()
        };
        all.push(Case {
            method: method.parse().unwrap(),
            path: path.to_owned(),
            body: None,
            header: None,
            field: field.to_owned(),
        });
    }
    all
}

/// Tabs in the stored headers, inside the value (HTTP trims them at its ends).
fn header_cases(p: &str) -> Vec<Case> {
    let create = Case {
        method: Method::POST,
        path: "/api/v1/patients".into(),
        body: Some(patient("Quthing")),
        header: Some(("idempotency-key", "key\tone")),
        field: "Idempotency-Key".into(),
    };
    let patch = Case {
        method: Method::PATCH,
        path: format!("/api/v1/patients/{p}"),
        body: Some(json!({"village": "Ha Sekake"})),
        header: Some(("if-match", "\"1\t\"")),
        field: "If-Match".into(),
    };
    vec![create, patch]
}

/// Sends a case as the system admin, with `If-Match: "1"` unless it tests that header
/// (routes that do not read it ignore it).
async fn send(app: &TestApp, case: &Case) -> (u16, Value) {
    let mut request = app.client.request(case.method.clone(), app.url(&case.path));
    if let Some(body) = &case.body {
        request = request.json(body);
    }
    let (name, value) = case.header.unwrap_or(("if-match", "\"1\""));
    let response = request.header(name, value).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A patient, a second one (for the merge) and an observation of the first: their IDs.
async fn records(app: &TestApp) -> (String, String, String) {
    let p = app.create_patient(&patient("Quthing")).await;
    let dup = app.create_patient(&patient("Quthing")).await;
    let p = p["id"].as_str().unwrap().to_owned();
    let vitals = json!({"vitals": [{"code": "8867-4", "value": 72, "unit": "/min"}]});
    let url = app.url(&format!("/api/v1/patients/{p}/observations"));
    let response = app.client.post(url).json(&vitals).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let set: Value = response.json().await.unwrap();
    let obs = set["observations"][0]["id"].as_str().unwrap().to_owned();
    (p, dup["id"].as_str().unwrap().to_owned(), obs)
}

#[tokio::test]
async fn control_characters_in_any_text_input_of_any_write_are_422_naming_the_field_and_write_nothing()
 {
    let app = spawn_app().await;
    app.user("cc.nurse", "nurse", "quthing").await;
    let (p, dup, obs) = records(&app).await;
    let before = everything(&app).await;
    let mut all: Vec<Case> = BAD.iter().flat_map(|&c| cases(&p, &obs, &dup, c)).collect();
    all.extend(header_cases(&p));
    let mut wrong = Vec::new();
    for case in &all {
        let (status, problem) = send(&app, case).await;
        let named = problem["errors"].as_array().is_some_and(|errors| {
            errors.iter().any(|e| {
                e["field"] == case.field.as_str()
                    && e["reason"]
                        .as_str()
                        .unwrap_or("")
                        .contains("control characters")
            })
        });
        if status != 422 || !named {
            let what = format!("{} {} ({})", case.method, case.path, case.field);
            wrong.push(format!("{what}: {status} {problem}"));
        }
    }
    let n = (wrong.len(), all.len());
    assert!(wrong.is_empty(), "{n:?} cases wrong:\n{}", wrong.join("\n"));
    assert_eq!(
        before,
        everything(&app).await,
        "a refused request changed a table"
    );
}
