//! Everything a client can send wrong gets a 4xx problem+json naming the field and the
//! reason, and leaves no row behind.

mod control_chars;
mod tables;

use crate::helpers::{patient, spawn_app};
use serde_json::{Value, json};

struct Case {
    what: &'static str,
    body: String,
    content_type: &'static str,
    status: u16,
    field: Option<&'static str>,
    reason: &'static str,
}

fn case(
    what: &'static str,
    body: Value,
    status: u16,
    field: &'static str,
    reason: &'static str,
) -> Case {
    Case {
        what,
        body: body.to_string(),
        content_type: "application/json",
        status,
        field: Some(field),
        reason,
    }
}

fn with(field: &str, value: Value) -> Value {
    let mut body = patient("Quthing");
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = patient("Quthing");
    body.as_object_mut().unwrap().remove(field);
    body
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "malformed JSON",
            body: "{\"given_name\": ".into(),
            content_type: "application/json",
            status: 400,
            field: None,
            reason: "malformed JSON",
        },
        Case {
            what: "not JSON at all",
            body: "given_name=x".into(),
            content_type: "application/x-www-form-urlencoded",
            status: 415,
            field: None,
            reason: "application/json",
        },
        Case {
            what: "oversized body",
            body: json!({"given_name": "x".repeat(70_000)}).to_string(),
            content_type: "application/json",
            status: 413,
            field: None,
            reason: "larger than",
        },
        case(
            "a JSON array",
            json!([1, 2]),
            422,
            "body",
            "must be a JSON object",
        ),
        case(
            "a number for a name",
            with("given_name", json!(5)),
            422,
            "given_name",
            "expected a string",
        ),
        case(
            "a string for an age",
            with("estimated_age_years", json!("40")),
            422,
            "estimated_age_years",
            "expected i64",
        ),
        case(
            "an unknown field",
            with("birthdate", json!("1990-01-01")),
            422,
            "birthdate",
            "unknown field",
        ),
        case(
            "a missing family name",
            without("family_name"),
            422,
            "family_name",
            "required",
        ),
        case(
            "a missing district",
            without("district"),
            422,
            "district",
            "required",
        ),
        case(
            "an empty name",
            with("given_name", json!("  ")),
            422,
            "given_name",
            "must not be empty",
        ),
        case(
            "an unknown district",
            with("district", json!("Narnia")),
            422,
            "district",
            "unknown district \"Narnia\"",
        ),
        case(
            "an impossible date",
            with("birth_date", json!("2025-02-29")),
            422,
            "birth_date",
            "not a calendar date",
        ),
        case(
            "a date in the future",
            with("birth_date", json!("2999-01-01")),
            422,
            "birth_date",
            "in the future",
        ),
        case(
            "a sex outside the list",
            with("sex", json!("yes")),
            422,
            "sex",
            "not one of",
        ),
        case(
            "a short phone number",
            with("phone", json!("123")),
            422,
            "phone",
            "8 digits",
        ),
        case(
            "a national ID with quotes",
            with("national_id", json!("1' OR '1'='1")),
            422,
            "national_id",
            "letters, digits",
        ),
        case(
            "an age beyond 130",
            {
                let mut b = without("birth_date");
                b["estimated_age_years"] = json!(400);
                b
            },
            422,
            "estimated_age_years",
            "between 0 and 130",
        ),
    ]
}

#[tokio::test]
async fn every_bad_create_is_a_problem_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    for c in cases() {
        let response = app
            .client
            .post(app.url("/api/v1/patients"))
            .header("content-type", c.content_type)
            .body(c.body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), c.status, "{}", c.what);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{}",
            c.what
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], c.status, "{}", c.what);
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(c.reason), "{}: {detail}", c.what);
        if let Some(field) = c.field {
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(fields.contains(&field), "{}: fields {fields:?}", c.what);
        }
    }
    let stored = app.patients_per_region().await;
    assert!(
        stored.values().all(Vec::is_empty),
        "bad input left rows: {stored:?}"
    );
}

#[tokio::test]
async fn bad_query_parameters_and_ids_are_problems_naming_the_parameter() {
    let app = spawn_app().await;
    for (path, status, field) in [
        ("/api/v1/patients?region=quthing&size=0", 400, "size"),
        ("/api/v1/patients?region=quthing&size=500", 400, "size"),
        ("/api/v1/patients?region=quthing&page=abc", 400, "page"),
        ("/api/v1/patients?region=quthing&pgae=2", 400, "pgae"),
        ("/api/v1/patients?region=quthing&q=a%00b", 422, "q"),
        ("/api/v1/patients?region=atlantis", 400, "region"),
        ("/api/v1/patients?region=quthing,atlantis", 400, "region"),
        ("/api/v1/patients?size=0", 400, "size"),
        ("/api/v1/patients/not-an-id", 400, "id"),
        ("/api/v1/routing/explain?district=Quthing", 400, "entity"),
    ] {
        let (got, problem) = app.get_json(path).await;
        assert_eq!(got, status, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
    let id = app.create_patient(&patient("Quthing")).await["id"].clone();
    let id = id.as_str().unwrap();
    for (path, field) in [
        (
            format!("/api/v1/patients/{id}/observations/not-a-uuid"),
            "observation_id",
        ),
        (
            format!("/api/v1/patients/{id}/observations/12345"),
            "observation_id",
        ),
    ] {
        let (got, problem) = app.get_json(&path).await;
        assert_eq!(got, 400, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
        assert_eq!(problem["detail"], "must be a UUID", "{path}: {problem}");
    }
    let (status, problem) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!((status, problem["status"].as_u64()), (404, Some(404)));
}
