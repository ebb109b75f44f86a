//! What a planner cannot get: identities (the database refuses, per region), statements
//! that are not one plain read (422 before any region is asked), and, for anyone without
//! the `query` permission, anything at all (403).

use super::{ask, ask_sql, query_audit_lines, shard_counts, some_patients};
use crate::helpers::spawn_app;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn names_phone_numbers_and_national_ids_are_out_of_a_planners_reach() {
    let app = spawn_app().await;
    some_patients(&app).await;
    let planner = app.user("p.nosy", "planner", "*").await;
    for column in [
        "given_name",
        "family_name",
        "phone",
        "national_id",
        "hrn",
        "village",
    ] {
        let answer = ask_sql(&app, &planner, &format!("SELECT {column} FROM patients")).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.rows().is_empty(), "{column}: {}", answer.text);
        let failures = answer.failures();
        assert_eq!(failures.len(), 4, "{column}: {}", answer.text);
        for (region, failure) in failures {
            // The planner's own SQL was wrong: told so, with PostgreSQL's words.
            assert_eq!(failure["reason"], "refused", "{region}: {failure}");
            assert_eq!(failure["sqlstate"], "42703", "{region}: {failure}");
            let message = failure["message"].as_str().unwrap();
            assert!(message.contains("does not exist"), "{region}: {failure}");
        }
    }
    for sql in [
        "SELECT given_name FROM public.patients",
        "SELECT count(*) FROM public.audit_log",
    ] {
        let answer = ask_sql(&app, &planner, sql).await;
        let failures = answer.failures();
        assert_eq!(failures.len(), 4, "{sql}: {}", answer.text);
        for (region, failure) in failures {
            assert_eq!(failure["reason"], "refused", "{region}: {failure}");
            assert_eq!(failure["sqlstate"], "42501", "{region}: {failure}");
            let message = failure["message"].as_str().unwrap();
            assert!(message.contains("permission denied"), "{region}: {failure}");
        }
    }
    // What the view does show: no identifying column, and the birth year, not the date.
    let answer = ask(
        &app,
        &planner,
        json!({"sql": "SELECT * FROM patients LIMIT 1", "regions": ["quthing"]}),
    )
    .await;
    let row = answer.rows().pop().expect("a quthing patient");
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "age_band",
            "birth_date_estimated",
            "birth_year",
            "created_at",
            "deleted",
            "district",
            "facility",
            "id",
            "merged",
            "region",
            "sex"
        ]
    );
}

#[tokio::test]
async fn statements_that_are_not_one_plain_read_are_refused_before_any_region_is_asked() {
    let app = spawn_app().await;
    some_patients(&app).await;
    let planner = app.user("p.bad", "planner", "*").await;
    let before = shard_counts(&app).await;
    let sequences = hrn_sequences(&app).await;
    let started = Instant::now();
    for sql in [
        "DELETE FROM patients",
        "SELECT 1; SELECT 2",
        "SELECT nextval('patient_hrn_seq')",
        "SELECT pg_sleep(10)",
        "WITH x AS (DELETE FROM patients RETURNING 1) SELECT * FROM x",
        "SELECT * FROM patients FOR UPDATE",
        "CREATE TABLE t (a int)",
        "SELECT set_config('role', 'none', true)",
    ] {
        let answer = ask_sql(&app, &planner, sql).await;
        assert_eq!(answer.status, 422, "{sql}: {}", answer.text);
        assert!(answer.content_type.starts_with("application/problem+json"));
        let problem = answer.problem();
        assert_eq!(problem["errors"][0]["field"], "sql", "{sql}: {problem}");
        assert!(!problem["errors"][0]["reason"].as_str().unwrap().is_empty());
    }
    assert!(started.elapsed() < Duration::from_secs(5), "pg_sleep ran");
    assert_eq!(shard_counts(&app).await, before, "no patient deleted");
    assert_eq!(hrn_sequences(&app).await, sequences, "no sequence advanced");
    for (region, lines) in query_audit_lines(&app).await {
        assert!(lines.is_empty(), "{region} was asked: {lines:?}");
        let pool = app.shard(&region).await;
        let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('public.t')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(table, None, "{region}");
    }
}

/// Each region's next health record number sequence value, untouched by reads.
async fn hrn_sequences(app: &crate::helpers::TestApp) -> Vec<i64> {
    let mut values = Vec::new();
    for region in &app.settings.regions {
        let pool = app.shard(&region.name).await;
        let v: i64 = sqlx::query_scalar("SELECT last_value FROM patient_hrn_seq")
            .fetch_one(&pool)
            .await
            .unwrap();
        values.push(v);
    }
    values
}

#[tokio::test]
async fn a_nurse_is_refused_and_a_regional_admin_only_queries_her_own_region() {
    let app = spawn_app().await;
    some_patients(&app).await;
    let nurse = app.user("n.query", "nurse", "quthing").await;
    let answer = ask_sql(&app, &nurse, "SELECT count(*) AS n FROM patients").await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert_eq!(answer.problem()["type"], "urn:hmis:problem:forbidden");
    // Denied in every region, since it asked them all; written after the answer.
    let denied_everywhere = || async {
        let lines = query_audit_lines(&app).await;
        lines
            .values()
            .all(|l| l.iter().any(|(actor, _)| actor == "n.query"))
    };
    let mut waited = 0;
    while !denied_everywhere().await {
        assert!(waited < 50, "denied attempts not audited in every region");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }

    let admin = app.user("ra.query", "regional_admin", "quthing").await;
    let own = ask_sql(&app, &admin, "SELECT count(*) AS n FROM patients").await;
    assert_eq!(
        own.rows(),
        vec![json!({"region": "quthing", "n": 2})],
        "others skipped"
    );
    let named = ask(
        &app,
        &admin,
        json!({"sql": "SELECT 1 AS one", "regions": ["quthing", "maseru"]}),
    )
    .await;
    assert_eq!(named.status, 403, "{}", named.text);
    assert!(
        named.problem()["detail"]
            .as_str()
            .unwrap()
            .contains("maseru")
    );
    let unknown = ask(
        &app,
        &admin,
        json!({"sql": "SELECT 1", "regions": ["atlantis"]}),
    )
    .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.problem()["errors"][0]["field"], "regions");
    let format = ask(&app, &admin, json!({"sql": "SELECT 1", "format": "xml"})).await;
    assert_eq!(
        format.problem()["errors"][0]["field"],
        "format",
        "{}",
        format.text
    );
}
