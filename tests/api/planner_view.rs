//! What a planner sees of patients: what the `planning` views show (sex, age band,
//! district), nothing finer, on every answer a patient appears in; and no way to find a
//! person by who they are, nor to learn it from the order of a list.

use crate::helpers::{TestApp, patient, spawn_app};
use serde_json::{Value, json};

/// Every field that, alone or with the district and age, tells who a patient is.
const IDENTIFYING: [&str; 8] = [
    "given_name",
    "family_name",
    "phone",
    "national_id",
    "hrn",
    "birth_date",
    "village",
    "facility",
];

/// A patient with every identifying field filled in, in `district`.
async fn known_person(app: &TestApp, district: &str, n: u32) -> Value {
    let mut body = patient(district);
    body["phone"] = json!(format!("5{n:07}"));
    body["national_id"] = json!(format!("PV-{n}"));
    body["village"] = json!(format!("Ha Pv{n}"));
    body["facility"] = json!(format!("Clinic Pv{n}"));
    app.create_patient(&body).await
}

/// The identifying values of `who` found anywhere in `body`, as text.
fn leaked(body: &str, who: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for p in who {
        for field in IDENTIFYING {
            if let Some(v) = p[field].as_str().filter(|v| body.contains(*v)) {
                out.push(format!("{field} {v}"));
            }
        }
    }
    out
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_planner_sees_every_listed_or_read_patient_as_the_planning_views_do_and_nothing_finer() {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for (n, district) in ["Quthing", "Berea", "Leribe", "Quthing"].iter().enumerate() {
        people.push(known_person(&app, district, n as u32 + 1).await);
    }
    let planner = app.user("p.view", "planner", "*").await;
    let id = people[0]["id"].as_str().unwrap();
    let mut paths = vec![
        "/api/v1/patients".to_owned(),
        "/api/v1/patients?region=quthing".to_owned(),
        "/api/v1/patients?region=quthing,maseru".to_owned(),
        "/api/v1/patients?district=Quthing&sex=female".to_owned(),
        "/api/v1/patients?sort=-district,sex".to_owned(),
        format!("/api/v1/patients/{id}"),
    ];
    let (_, first) = get(&planner, &app, "/api/v1/patients?size=1").await;
    let cursor = serde_json::from_str::<Value>(&first).unwrap()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    paths.push(format!("/api/v1/patients?size=1&cursor={cursor}"));
    for path in &paths {
        let (status, body) = get(&planner, &app, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            leaked(&body, &people),
            Vec::<String>::new(),
            "{path}: {body}"
        );
        let json: Value = serde_json::from_str(&body).unwrap();
        let items = json["items"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![json]);
        assert!(!items.is_empty(), "{path}");
        for item in items {
            for field in IDENTIFYING {
                assert!(item[field].is_null(), "{path}: {field} shown: {item}");
            }
            assert!(
                item["age_band"].is_string()
                    && item["district"].is_string()
                    && item["sex"].is_string(),
                "{path}: {item}"
            );
        }
    }
    // Staff who may see who patients are still do, with the age band besides.
    let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    for field in IDENTIFYING {
        assert_eq!(read[field], people[0][field], "{field}");
    }
    assert!(read["age_band"].is_string(), "{read}");
}

#[tokio::test]
async fn a_planner_may_not_search_by_name_phone_national_id_or_patient_id_nor_look_up_a_number() {
    let app = spawn_app().await;
    let p = known_person(&app, "Quthing", 1).await;
    let planner = app.user("p.search", "planner", "*").await;
    let mut asked = Vec::new();
    for q in ["family_name", "phone", "national_id", "id"] {
        let q = p[q].as_str().unwrap().replace('+', "%2B");
        asked.push((format!("/api/v1/patients?q={q}"), "q"));
        asked.push((format!("/api/v1/patients?region=quthing&q={q}"), "q"));
    }
    // An invented name is refused alike: the answer says nothing about who is registered.
    asked.push(("/api/v1/patients?region=quthing&q=Nobody".to_owned(), "q"));
    let hrn = p["hrn"].as_str().unwrap();
    asked.push((format!("/api/v1/patients?hrn={hrn}"), "hrn"));
    let never = hmis::domain::hrn::Hrn::new(1, 9_999_999).unwrap();
    asked.push((format!("/api/v1/patients?hrn={never}"), "hrn"));
    let mut answers = Vec::new();
    for (path, field) in &asked {
        let (status, body) = get(&planner, &app, path).await;
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (403, Some(*field)),
            "{path}: {body}"
        );
        answers.push((field, body));
    }
    let first_q = &answers[0].1;
    assert!(
        answers
            .iter()
            .filter(|(f, _)| **f == "q")
            .all(|(_, b)| b == first_q)
    );
}

#[tokio::test]
async fn a_planner_may_not_sort_by_name_birth_date_or_number_but_may_by_district_sex_and_registration()
 {
    let app = spawn_app().await;
    for n in 1..=3 {
        known_person(&app, "Quthing", n).await;
    }
    let planner = app.user("p.sort", "planner", "*").await;
    for sort in [
        "birth_date",
        "-birth_date",
        "hrn",
        "family_name",
        "sex,given_name",
    ] {
        for region in ["", "&region=quthing"] {
            let path = format!("/api/v1/patients?sort={sort}{region}");
            let (status, body) = get(&planner, &app, &path).await;
            let problem: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                (status, problem["errors"][0]["field"].as_str()),
                (400, Some("sort")),
                "{path}: {body}"
            );
        }
    }
    for sort in ["created_at", "-district", "sex,-created_at"] {
        let path = format!("/api/v1/patients?sort={sort}&district=Quthing&sex=female");
        let (status, body) = get(&planner, &app, &path).await;
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (status, json["total"].as_i64()),
            (200, Some(3)),
            "{path}: {body}"
        );
    }
}
