//! The patient report: summary, charts with downsampling, and their audit lines.

use super::{new_patient, record};
use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn the_summary_shows_the_latest_value_of_each_vital_with_its_flag_and_counts() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let id = p["id"].as_str().unwrap();
    for (when, spo2, hr) in [
        ("2026-01-10T08:00:00+02:00", 97, 70),
        ("2026-02-10T08:00:00+02:00", 92, 110),
    ] {
        let body = json!({"taken_at": when, "vitals": [
            {"code": "2708-6", "value": spo2, "unit": "%"}, {"code": "8867-4", "value": hr, "unit": "/min"}]});
        assert_eq!(record(&app, &app.client, id, &body).await.0, 201);
    }
    let (status, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert_eq!(status, 200, "{summary}");
    let latest = summary["latest"].as_array().unwrap();
    let spo2 = latest.iter().find(|o| o["code"] == "2708-6").unwrap();
    assert_eq!(
        (spo2["value"].as_f64(), spo2["flag"].as_str()),
        (Some(92.0), Some("low"))
    );
    assert!(
        spo2["taken_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-10T08:00:00")
    );
    let hr = latest.iter().find(|o| o["code"] == "8867-4").unwrap();
    assert_eq!(
        (hr["flag"].as_str(), hr["name"].as_str()),
        (Some("high"), Some("heart rate"))
    );
    assert_eq!(
        (
            summary["counts"]["observations"].as_i64(),
            summary["counts"]["sets"].as_i64()
        ),
        (Some(4), Some(2))
    );
}

#[tokio::test]
async fn a_chart_over_a_year_of_hourly_readings_returns_a_bounded_number_of_points() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Mafeteng").await;
    let id = p["id"].as_str().unwrap();
    let pool = app.shard("mafeteng").await;
    // A year of hourly heart rates, one of them critical, written straight into the shard.
    sqlx::query(
        "INSERT INTO observations (id, patient_id, set_id, code, value, unit, entered_value,
             entered_unit, flag, taken_at, recorded_by)
         SELECT gen_random_uuid(), $1, gen_random_uuid(), '8867-4', v, '/min', v, '/min',
                CASE WHEN v > 130 THEN 'critical' ELSE 'normal' END, t, 'loader'
         FROM (SELECT t, CASE WHEN t = '2025-06-01T00:00:00Z' THEN 160 ELSE 70 + (extract(hour FROM t)::int % 10) END AS v
               FROM generate_series('2025-01-01T00:00:00Z'::timestamptz, '2025-12-31T23:00:00Z', interval '1 hour') t) s",
    )
    .bind(p["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    let path = format!(
        "/api/v1/patients/{id}/observations?code=8867-4&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"
    );
    let (status, chart) = app.get_json(&path).await;
    assert_eq!(status, 200, "{chart}");
    let series = &chart["series"][0];
    let points = series["points"].as_array().unwrap();
    assert_eq!(series["total"], 8760);
    assert!(series["downsampled"].as_bool().unwrap());
    assert!(
        points.len() <= 200 && points.len() > 100,
        "{} points",
        points.len()
    );
    let n: i64 = points.iter().map(|p| p["n"].as_i64().unwrap()).sum();
    assert_eq!(n, 8760, "every reading is in a bucket");
    assert_eq!(
        points.iter().filter(|p| p["flag"] == "critical").count(),
        1,
        "the critical reading shows"
    );
    assert!(points.iter().any(|p| p["max"].as_f64() == Some(160.0)));
    let gzip = app
        .client
        .get(app.url(&path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        gzip.headers()["content-encoding"],
        "gzip",
        "a slow link gets it compressed"
    );
    let (_, week) = app
        .get_json(&format!(
            "/api/v1/patients/{id}/observations?code=8867-4&from=2025-03-01&to=2025-03-01&points=50"
        ))
        .await;
    let raw = week["series"][0]["points"].as_array().unwrap();
    assert_eq!(
        raw.len(),
        24,
        "one day, hourly, under the budget: raw readings"
    );
    assert!(raw.iter().all(|p| p["id"].is_string() && p["n"] == 1));
}

#[tokio::test]
async fn chart_parameters_that_make_no_sense_are_refused_naming_the_parameter() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let id = p["id"].as_str().unwrap();
    for (query, field) in [
        ("", "code"),
        ("code=1234-5", "code"),
        ("code=8867-4&from=2026-02-01&to=2026-01-01", "to"),
        ("code=8867-4&points=1", "points"),
        ("code=8867-4&from=last-week", "from"),
        ("code=8867-4&colour=red", "colour"),
    ] {
        let (status, problem) = app
            .get_json(&format!("/api/v1/patients/{id}/observations?{query}"))
            .await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (400, Some(field)),
            "{query}: {problem}"
        );
    }
}

#[tokio::test]
async fn every_read_of_vital_signs_is_audited_as_a_read_of_the_patient() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Leribe").await;
    let id = p["id"].as_str().unwrap();
    app.get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    app.get_json(&format!(
        "/api/v1/patients/{id}/observations?code=8867-4,85354-9"
    ))
    .await;
    let pool = app.shard("leribe").await;
    let actions: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE object_id = $1 AND actor = 'admin' ORDER BY id",
    )
    .bind(id.parse::<uuid::Uuid>().unwrap())
    .fetch_all(&pool)
    .await
    .unwrap();
    let actions: Vec<String> = actions.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"read summary".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"read observations".to_owned()),
        "{actions:?}"
    );
}
