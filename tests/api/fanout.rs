//! Cross-region lists: merged pages equal one database's answer, dead and hanging regions
//! are named within the deadline, filters and rights apply in every region.

use crate::helpers::{
    TestApp, launch, pg, project_databases, region_on_own_cluster, spawn_app, spawn_app_with,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const FAMILY: &[&str] = &[
    "Mokoena", "Molapo", "mokoena", "Ntšekhe", "Tau", "Letsie", "Zulu", "'Mota",
];
const GIVEN: &[&str] = &["Palesa", "Thabo", "Lerato", "Mpho", "Tšepo"];
const DISTRICTS: &[&str] = &[
    "Quthing",
    "Maseru",
    "Berea",
    "Mafeteng",
    "Mohale's Hoek",
    "Leribe",
    "Mokhotlong",
];
const REGION_OF: &[&str] = &[
    "quthing", "maseru", "maseru", "mafeteng", "mafeteng", "leribe", "leribe",
];

/// Random patients written straight into their regions (ties on purpose: few names, few
/// dates), and the same rows copied into one database of their own.
pub async fn seeded(app: &TestApp, n: usize, seed: u64) -> sqlx::PgPool {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..n {
        let d = rng.random_range(0..DISTRICTS.len());
        let pool = app.shard(REGION_OF[d]).await;
        let code = app.settings.region(REGION_OF[d]).unwrap().code;
        let mut id = *uuid::Uuid::now_v7().as_bytes();
        id[14..16].copy_from_slice(&code.to_be_bytes());
        sqlx::query(
            "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district, created_at)
             VALUES ($1, $2, $3, $4, DATE '1990-01-01' + $5::int, $6, now() - $7::int * interval '1 hour')",
        )
        .bind(uuid::Uuid::from_bytes(id))
        .bind(GIVEN[rng.random_range(0..GIVEN.len())])
        .bind(FAMILY[rng.random_range(0..FAMILY.len())])
        .bind(["female", "male"][rng.random_range(0..2)])
        .bind(rng.random_range(0..5))
        .bind(DISTRICTS[d])
        .bind(rng.random_range(0..3))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let name = format!("t{}_single", pg::unique());
    pg::create_database(&pg::pg().shared[0], &name, pg::SHARD_TEMPLATE).await;
    let single = sqlx::PgPool::connect(&pg::pg().shared[0].url(&name))
        .await
        .unwrap();
    // It stands for one region holding every row (its change log names it).
    sqlx::query("INSERT INTO shard_identity (region, code) VALUES ('single', 0)")
        .execute(&single)
        .await
        .unwrap();
    for region in ["quthing", "maseru", "mafeteng", "leribe"] {
        let pool = app.shard(region).await;
        let (rows,): (Value,) =
            sqlx::query_as("SELECT coalesce(json_agg(p), '[]') FROM patients p")
                .fetch_one(&pool)
                .await
                .unwrap();
        sqlx::query(
            "INSERT INTO patients SELECT * FROM json_populate_recordset(NULL::patients, $1::json)",
        )
        .bind(rows)
        .execute(&single)
        .await
        .unwrap();
    }
    single
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn expected(
    single: &sqlx::PgPool,
    filter: &str,
    order: &str,
    limit: i64,
    offset: i64,
) -> Vec<String> {
    let sql = format!(
        "SELECT id::text FROM patients WHERE {filter} ORDER BY {order}, id LIMIT $1 OFFSET $2"
    );
    let rows: Vec<(String,)> = sqlx::query_as(&sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(single)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn every_merged_page_and_cursor_walk_equals_what_one_database_holding_every_row_answers() {
    let app = spawn_app().await;
    let single = seeded(&app, 90, 42).await;
    let cases = [
        (
            "",
            "true",
            r#"family_name COLLATE "C", given_name COLLATE "C""#,
        ),
        (
            "&sort=-birth_date,given_name",
            "true",
            r#"birth_date DESC, given_name COLLATE "C""#,
        ),
        (
            "&sort=district,-created_at",
            "true",
            r#"district COLLATE "C", created_at DESC"#,
        ),
        (
            "&sort=sex,-family_name&sex=female",
            "sex = 'female'",
            r#"sex COLLATE "C", family_name COLLATE "C" DESC"#,
        ),
        (
            "&sort=hrn&district=berea",
            "district = 'Berea'",
            r#"hrn COLLATE "C""#,
        ),
        (
            "&q=mo",
            "(lower(given_name) LIKE 'mo%' OR lower(family_name) LIKE 'mo%')",
            r#"family_name COLLATE "C", given_name COLLATE "C""#,
        ),
    ];
    for (query, filter, order) in cases {
        let (all,): (i64,) =
            sqlx::query_as(&format!("SELECT count(*) FROM patients WHERE {filter}"))
                .fetch_one(&single)
                .await
                .unwrap();
        for page in 1..=4 {
            let (status, body) = app
                .get_json(&format!("/api/v1/patients?size=7&page={page}{query}"))
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            assert_eq!(body["total"].as_i64(), Some(all), "{query}");
            assert_eq!(
                ids(&body),
                expected(&single, filter, order, 7, (page - 1) * 7).await,
                "{query} page {page}"
            );
            assert_eq!(body["regions_ok"].as_array().unwrap().len(), 4);
        }
        let (mut walked, mut next) = (Vec::new(), None::<String>);
        for _ in 0..100 {
            let cursor = next
                .as_deref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let (status, body) = app
                .get_json(&format!("/api/v1/patients?size=8{query}{cursor}"))
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            walked.extend(ids(&body));
            next = body["next_cursor"].as_str().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        assert_eq!(
            walked,
            expected(&single, filter, order, 1000, 0).await,
            "{query}: cursor walk"
        );
    }
}

#[tokio::test]
async fn a_killed_region_is_named_in_partial_answers_and_fails_strict_ones() {
    let mut settings = project_databases().await;
    let mafeteng = region_on_own_cluster(&mut settings, "mafeteng").await;
    let app = launch(settings).await;
    for d in ["Quthing", "Mafeteng", "Leribe"] {
        app.create_patient(&crate::helpers::patient(d)).await;
    }
    mafeteng.kill().unwrap();
    let started = Instant::now();
    let (status, body) = app.get_json("/api/v1/patients").await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(body["regions_failed"][0]["region"], "mafeteng", "{body}");
    // One word; the pool's and PostgreSQL's text stays in the log.
    assert_eq!(
        body["regions_failed"][0],
        json!({"region": "mafeteng", "reason": "down"})
    );
    assert_eq!(ids(&body).len(), 2);
    let (status, problem) = app.get_json("/api/v1/patients?consistency=strict").await;
    assert_eq!(status, 503, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("mafeteng"),
        "{problem}"
    );
    let (status, stats) = app.get_json("/api/v1/stats/patients").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        stats["regions_failed"][0],
        json!({"region": "mafeteng", "reason": "down"})
    );
    // Maseru answered with no patient; Mafeteng's one is missing, and said to be.
    assert_eq!(stats["groups"].as_array().unwrap().len(), 2, "{stats}");
    let (status, _) = app
        .get_json("/api/v1/stats/observations?consistency=strict")
        .await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_region_that_hangs_costs_the_deadline_and_no_more() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and never answers: a region behind a dead network path.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app_with(|s| {
        s.file.server.fanout_deadline_ms = 700;
        s.file.server.shard_timeout_ms = 10_000;
        let r = s.regions.iter_mut().find(|r| r.name == "leribe").unwrap();
        r.database_url =
            hmis::config::DatabaseUrl::new(format!("postgresql://hmis:x@127.0.0.1:{port}/nothing"));
    })
    .await;
    let started = Instant::now();
    let (status, body) = app.get_json("/api/v1/patients?region=quthing,leribe").await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert_eq!(body["regions_failed"][0]["region"], "leribe");
    assert_eq!(body["regions_failed"][0]["reason"], "timeout", "{body}");
}

#[tokio::test]
async fn a_nurse_lists_her_own_region_only_and_a_planner_may_not_sort_by_name() {
    let app = spawn_app().await;
    for d in ["Quthing", "Berea"] {
        app.create_patient(&crate::helpers::patient(d)).await;
    }
    let nurse = app.user("n.q", "nurse", "quthing").await;
    let body: Value = nurse
        .get(app.url("/api/v1/patients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["regions_ok"], serde_json::json!(["quthing"]));
    assert_eq!(ids(&body).len(), 1);
    let r = nurse
        .get(app.url("/api/v1/patients?region=quthing,maseru"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let planner = app.user("p.p", "planner", "*").await;
    let r = planner
        .get(app.url("/api/v1/patients?sort=family_name"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = planner
        .get(app.url("/api/v1/patients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["sort"].as_str(), ids(&body).len()),
        (Some("created_at"), 2)
    );
    assert!(body["items"][0]["family_name"].is_null());
}

#[tokio::test]
async fn a_cursor_of_another_query_and_a_page_too_deep_are_refused() {
    let app = spawn_app().await;
    app.create_patient(&crate::helpers::patient("Quthing"))
        .await;
    let (_, body) = app.get_json("/api/v1/patients?size=1&sort=district").await;
    let cursor = body["next_cursor"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| "x".into());
    for (query, field) in [
        (format!("sort=hrn&cursor={cursor}"), "cursor"),
        ("cursor=garbage".to_owned(), "cursor"),
        ("page=200&size=100".to_owned(), "page"),
        ("sort=phone".to_owned(), "sort"),
        ("consistency=mostly".to_owned(), "consistency"),
        ("district=Atlantis".to_owned(), "district"),
    ] {
        let (status, problem) = app.get_json(&format!("/api/v1/patients?{query}")).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (400, Some(field)),
            "{query}: {problem}"
        );
    }
}
