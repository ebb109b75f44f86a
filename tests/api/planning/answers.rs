//! What a planner gets back: one line per row with its region, the same counts as the
//! shards' own, typed values, CSV, only the regions asked, and a timeout reported as that
//! region's failure.

use super::{ask, ask_sql, query_audit_lines, shard_counts, some_patients};
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const COUNT: &str = "SELECT count(*) AS n FROM patients";

#[tokio::test]
async fn a_planners_count_has_a_line_per_region_equal_to_its_shards_count_or_only_regions_named() {
    let app = spawn_app().await;
    some_patients(&app).await;
    let planner = app.user("p.count", "planner", "*").await;
    let answer = ask_sql(&app, &planner, COUNT).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type, "application/x-ndjson");
    let counts: BTreeMap<String, i64> = answer
        .rows()
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_owned(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = shard_counts(&app).await;
    assert_eq!(counts, expected);
    assert_eq!(
        expected["leribe"], 3,
        "the patients went where the rules say"
    );
    let summary = answer.summary();
    assert_eq!(summary["rows"], 4);
    assert_eq!(summary["regions_failed"], json!([]));
    assert_eq!(summary["regions_ok"].as_array().unwrap().len(), 4);
    // One audit line per region, with the SQL and who asked.
    for (region, lines) in query_audit_lines(&app).await {
        assert_eq!(
            lines,
            vec![("p.count".to_owned(), COUNT.to_owned())],
            "{region}"
        );
    }

    let named = ask(&app, &planner, json!({"sql": COUNT, "regions": ["maseru"]})).await;
    assert_eq!(named.rows(), vec![json!({"region": "maseru", "n": 1})]);
    assert_eq!(named.summary()["regions_ok"], json!(["maseru"]));
    assert_eq!(named.regions_header, "maseru");
    let audited = query_audit_lines(&app).await;
    assert_eq!(audited["maseru"].len(), 2);
    assert_eq!(
        audited["quthing"].len(),
        1,
        "a region not asked has no new line"
    );
}

#[tokio::test]
async fn values_keep_their_types_and_the_columns_their_order() {
    let app = spawn_app().await;
    let sql = "SELECT 7::int2 AS small, 2.5::float8 AS ratio, 1234.50::numeric AS exact, \
               'Qacha''s Nek'::text AS district, true AS yes, NULL::int AS nothing, \
               date '2024-02-29' AS day, timestamptz '2024-02-29 10:00:00+02' AS at, \
               '0190a0a0-0000-7000-8000-000000000001'::uuid AS id, '{\"a\": [1]}'::jsonb AS doc, \
               ARRAY['x', 'y'] AS list, interval '1 day' AS span, interval '1 day'::text AS span_text";
    let answer = ask(
        &app,
        &app.client,
        json!({"sql": sql, "regions": ["quthing"]}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let line = answer.text.lines().next().unwrap();
    let keys = [
        "region",
        "small",
        "ratio",
        "exact",
        "district",
        "yes",
        "nothing",
        "day",
        "at",
        "id",
        "doc",
        "list",
        "span",
        "span_text",
    ];
    let mut at = 0;
    for key in keys {
        let found = line[at..].find(&format!("\"{key}\":"));
        at += found.unwrap_or_else(|| panic!("{key} missing or out of order in {line}"));
    }
    let row: Value = serde_json::from_str(line).unwrap();
    assert_eq!(row["small"], 7);
    assert_eq!(row["ratio"], 2.5);
    assert_eq!(row["exact"], "1234.50", "numeric is exact text");
    assert_eq!(row["district"], "Qacha's Nek");
    assert_eq!(row["yes"], true);
    assert_eq!(row["nothing"], Value::Null);
    assert_eq!(row["day"], "2024-02-29");
    assert_eq!(row["at"], "2024-02-29T08:00:00Z");
    assert_eq!(row["id"], "0190a0a0-0000-7000-8000-000000000001");
    assert_eq!(row["doc"], json!({"a": [1]}));
    assert_eq!(row["list"], json!(["x", "y"]));
    assert_eq!(row["span"], Value::Null, "no decoder for interval: null");
    assert_eq!(row["span_text"], "1 day", "cast it to text instead");
}

#[tokio::test]
async fn csv_has_a_header_and_one_record_per_region_whether_asked_in_the_body_or_by_accept() {
    let app = spawn_app().await;
    some_patients(&app).await;
    let planner = app.user("p.csv", "planner", "*").await;
    let counts = shard_counts(&app).await;
    let by_body = ask(&app, &planner, json!({"sql": COUNT, "format": "csv"})).await;
    let by_accept = planner
        .post(app.url("/api/v1/query"))
        .header("accept", "text/csv")
        .json(&json!({"sql": COUNT}))
        .send()
        .await
        .unwrap();
    assert!(
        by_accept.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let by_accept = by_accept.text().await.unwrap();
    assert!(
        by_body.content_type.starts_with("text/csv"),
        "{}",
        by_body.content_type
    );
    for text in [&by_body.text, &by_accept] {
        let mut records: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(records.remove(0), "region,n", "{text}");
        records.sort();
        let expected: Vec<String> = counts.iter().map(|(r, n)| format!("{r},{n}")).collect();
        assert_eq!(records, expected, "{text}");
    }
    assert_eq!(by_body.regions_header.split(',').count(), 4);
}

#[tokio::test]
async fn a_large_answer_streams_every_row_in_order_and_the_summary_counts_them() {
    let app = spawn_app().await;
    let sql = "SELECT g, repeat('x', 50) AS filler FROM generate_series(1, 20000) g ORDER BY g";
    let answer = ask(
        &app,
        &app.client,
        json!({"sql": sql, "regions": ["mafeteng"]}),
    )
    .await;
    let rows = answer.rows();
    assert_eq!(rows.len(), 20_000);
    assert!(rows.iter().enumerate().all(|(i, r)| r["g"] == i as i64 + 1));
    assert_eq!(answer.summary()["rows"], 20_000);
}

#[tokio::test]
async fn a_query_that_runs_too_long_is_stopped_and_reported_as_each_regions_failure() {
    let app = spawn_app_with(|s| s.file.server.query_timeout_ms = 200).await;
    let planner = app.user("p.slow", "planner", "*").await;
    let started = Instant::now();
    let slow = "SELECT count(*) FROM generate_series(1, 1000000000)";
    let answer = ask_sql(&app, &planner, slow).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answer.status, 200);
    let failures = answer.failures();
    assert_eq!(failures.len(), 4, "{}", answer.text);
    for (region, failure) in failures {
        assert_eq!(failure["reason"], "timeout", "{region}: {failure}");
        assert_eq!(failure["sqlstate"], Value::Null, "{region}: {failure}");
    }
    // The connections are usable again at once.
    let quick = ask_sql(&app, &planner, "SELECT 1 AS one").await;
    assert_eq!(quick.rows().len(), 4, "{}", quick.text);
}

#[tokio::test]
async fn planners_queries_beyond_the_regions_limit_are_reported_busy_and_leave_connections_for_clinics()
 {
    let app = spawn_app_with(|s| {
        s.file.server.planner_queries_per_region = 1;
        s.file.server.shard_timeout_ms = 300;
        s.file.server.query_timeout_ms = 1500;
    })
    .await;
    let planner = app.user("p.busy", "planner", "*").await;
    let slow = json!({"sql": "SELECT count(*) FROM generate_series(1, 1000000000)", "regions": ["quthing"]});
    let quick = json!({"sql": "SELECT 1 AS one", "regions": ["quthing"]});
    let (first, second) = tokio::join!(ask(&app, &planner, slow), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ask(&app, &planner, quick).await
    });
    assert_eq!(
        first.failures()["quthing"]["reason"],
        "timeout",
        "{}",
        first.text
    );
    assert_eq!(
        second.failures()["quthing"]["reason"],
        "busy",
        "{}",
        second.text
    );
    // Once the slot is free, the region answers again.
    let again = ask(
        &app,
        &planner,
        json!({"sql": "SELECT 1 AS one", "regions": ["quthing"]}),
    )
    .await;
    assert_eq!(again.rows().len(), 1, "{}", again.text);
}

#[tokio::test]
async fn a_region_that_is_down_is_reported_down_with_none_of_the_connection_errors_text() {
    // Nothing listens on this port: connecting fails with the OS's and the pool's words.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|s| {
        let r = s.regions.iter_mut().find(|r| r.name == "leribe").unwrap();
        r.database_url = hmis::config::DatabaseUrl::new(format!(
            "postgresql://hmis:secret@127.0.0.1:{port}/nothing"
        ));
    })
    .await;
    let planner = app.user("p.down", "planner", "*").await;
    let answer = ask(
        &app,
        &planner,
        json!({"sql": "SELECT 1 AS one", "regions": ["quthing", "leribe"]}),
    )
    .await;
    assert_eq!(answer.rows().len(), 1, "{}", answer.text);
    assert_eq!(
        answer.failures()["leribe"],
        json!({"region": "leribe", "reason": "down"}),
        "{}",
        answer.text
    );
}
