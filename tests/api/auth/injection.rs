//! SQL injection: attempts in every string parameter (login, patient fields, query
//! parameters, the `{id}` path segment, headers, the logout parameter) are refused or stored
//! literally, never a server error, and every table is still there afterwards.

use super::{Answer, attempt, me, token};
use crate::helpers::{PASSWORD, patient, spawn_app};
use serde_json::json;

#[tokio::test]
async fn sql_injection_attempts_in_every_string_parameter_are_harmless() {
    let app = spawn_app().await;
    let mut answers: Vec<(String, u16)> = Vec::new();
    let mut note = |what: &str, status: u16| answers.push((what.to_owned(), status));

    // Login.
    for (username, password) in [
        ("admin' OR '1'='1", "x' OR '1'='1"),
        ("admin'--", PASSWORD),
        ("admin", "' OR '1'='1"),
        ("admin", "anything' OR 1=1; --"),
        ("'; DROP TABLE users; --", "x"),
    ] {
        let answer = attempt(&app, username, password).await;
        answer.assert_problem(401, "bad-credentials");
        note(&format!("login {username:?}"), answer.status);
    }

    // A patient whose fields look like SQL is stored and read back literally.
    let mut body = patient("Quthing");
    body["given_name"] = json!("Robert'); DROP TABLE patients;--");
    body["family_name"] = json!("O'Brien\"; DELETE FROM patients WHERE ''='");
    body["village"] = json!("x'); DELETE FROM audit_log;--");
    body["facility"] = json!("$$; DROP TABLE patients; $$");
    let created = app.create_patient(&body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    note("read back", status);
    assert_eq!(status, 200, "{read}");
    for field in ["given_name", "family_name", "village", "facility"] {
        assert_eq!(read[field], body[field], "{field}");
    }
    let quthing = app.shard("quthing").await;
    let (stored,): (String,) =
        sqlx::query_as("SELECT given_name FROM patients WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&quthing)
            .await
            .unwrap();
    assert_eq!(stored, "Robert'); DROP TABLE patients;--");

    // Fields that do not parse are refused by validation, not by the database.
    for (field, value) in [
        ("district", "Quthing'; DROP TABLE patients;--"),
        ("sex", "female' OR '1'='1"),
        ("birth_date", "1990-01-01'; DROP TABLE patients;--"),
        ("phone", "5812'; DROP TABLE patients;--"),
        ("national_id", "LS-1' OR '1'='1"),
    ] {
        let mut bad = patient("Quthing");
        bad[field] = json!(value);
        let answer = Answer::of(app.post_patient(&bad).await).await;
        answer.assert_problem(422, "validation");
        note(&format!("create with {field}"), answer.status);
    }

    // Query parameters.
    let get = |path: String| {
        let request = app.client.get(app.url(&path));
        async move { Answer::of(request.send().await.unwrap()).await }
    };
    let encode = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    for q in [
        "'; DROP TABLE patients; --",
        "%' OR '1'='1",
        "x' UNION SELECT * FROM patients --",
        "\\'; DROP TABLE patients; --",
    ] {
        let answer = get(format!("/api/v1/patients?region=quthing&q={}", encode(q))).await;
        assert_eq!(answer.status, 200, "q={q:?}: {}", answer.body);
        assert_eq!(
            answer.body["total"], 0,
            "q={q:?} matches nothing: {}",
            answer.body
        );
        note(&format!("q {q:?}"), answer.status);
    }
    let answer = get(format!(
        "/api/v1/patients?region=quthing&q={}",
        encode("Robert');")
    ))
    .await;
    assert_eq!(
        answer.body["total"], 1,
        "the literal name is found: {}",
        answer.body
    );
    for region in ["quthing' OR '1'='1", "quthing'; DROP TABLE patients; --"] {
        let answer = get(format!("/api/v1/patients?region={}", encode(region))).await;
        answer.assert_problem(400, "bad-request");
        note(&format!("region {region:?}"), answer.status);
    }
    for (name, value) in [("page", "1; DROP TABLE patients"), ("size", "1' OR '1'='1")] {
        let answer = get(format!(
            "/api/v1/patients?region=quthing&{name}={}",
            encode(value)
        ))
        .await;
        answer.assert_problem(400, "bad-request");
        note(&format!("{name} {value:?}"), answer.status);
    }
    for query in [
        format!("entity={}&district=Quthing", encode("patient' OR '1'='1")),
        format!(
            "entity=patient&district={}",
            encode("Quthing'; DROP TABLE patients; --")
        ),
        format!(
            "entity=patient&{}=1",
            encode("district'; DROP TABLE patients; --")
        ),
    ] {
        let answer = get(format!("/api/v1/routing/explain?{query}")).await;
        assert!(answer.status < 500, "explain?{query}: {}", answer.body);
        note(&format!("explain {query}"), answer.status);
    }
    let answer = get(format!(
        "/api/v1/patients/{id}/audit?limit={}",
        encode("1; DROP TABLE audit_log")
    ))
    .await;
    answer.assert_problem(400, "bad-request");
    note("audit limit", answer.status);

    // The {id} path segment, on every method.
    for injected in [
        "1' OR '1'='1",
        "'; DROP TABLE patients; --",
        &format!("{id}' OR '1'='1"),
    ] {
        let segment = encode(injected).replace('+', "%20");
        let url = app.url(&format!("/api/v1/patients/{segment}"));
        for request in [
            app.client.get(&url),
            app.client
                .patch(&url)
                .header("if-match", "\"1\"")
                .json(&json!({"village": "x"})),
            app.client.delete(&url),
            app.client
                .get(app.url(&format!("/api/v1/patients/{segment}/audit"))),
        ] {
            let answer = Answer::of(request.send().await.unwrap()).await;
            answer.assert_problem(400, "bad-request");
            note(&format!("id {injected:?}"), answer.status);
        }
    }

    // Headers.
    let replay = app
        .client
        .post(app.url("/api/v1/patients"))
        .header("idempotency-key", "'; DROP TABLE idempotency_keys; --")
        .json(&patient("Quthing"))
        .send()
        .await
        .unwrap();
    note("idempotency key", replay.status().as_u16());
    assert_eq!(replay.status(), 201);
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .header("if-match", "\"1' OR '1'='1\"")
        .json(&json!({"village": "x"}))
        .send()
        .await
        .unwrap();
    note("if-match", patched.status().as_u16());
    assert_eq!(patched.status(), 400);

    // A logout parameter (on a session of its own, should it be taken as a logout).
    let spare = token(&attempt(&app, "admin", PASSWORD).await);
    let out = app
        .anon
        .post(app.url(&format!(
            "/api/v1/auth/logout?everywhere={}",
            encode("true' OR '1'='1")
        )))
        .bearer_auth(&spare)
        .send()
        .await
        .unwrap();
    note("logout everywhere", out.status().as_u16());
    assert_eq!(out.status(), 400);

    let server_errors: Vec<_> = answers.iter().filter(|(_, s)| *s >= 500).collect();
    assert!(server_errors.is_empty(), "{server_errors:?}");

    // Everything is still there.
    for r in &app.settings.regions {
        let pool = app.shard(&r.name).await;
        let (exists,): (Option<String>,) = sqlx::query_as("SELECT to_regclass('patients')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(exists.is_some(), "patients of {} is gone", r.name);
        pool.close().await;
    }
    assert_eq!(app.patients_per_region().await["quthing"].len(), 2);
    let central = app.central().await;
    for table in ["users", "sessions", "login_audit"] {
        let (exists,): (Option<String>,) = sqlx::query_as("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&central)
            .await
            .unwrap();
        assert!(exists.is_some(), "central {table} is gone");
    }
    let (status, _) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        me(&app, &token(&attempt(&app, "admin", PASSWORD).await)).await,
        200
    );
}
