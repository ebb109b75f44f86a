//! Statistics across regions equal those of one database holding every row.

use crate::fanout::seeded;
use crate::helpers::spawn_app;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;

fn by(groups: &Value, dims: &[&str]) -> BTreeMap<Vec<String>, Value> {
    groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                dims.iter()
                    .map(|d| g[*d].as_str().unwrap().to_owned())
                    .collect(),
                g.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn patient_counts_across_regions_equal_one_databases_counts() {
    let app = spawn_app().await;
    let single = seeded(&app, 120, 11).await;
    let (status, stats) = app
        .get_json("/api/v1/stats/patients?group_by=district,sex,age_band")
        .await;
    assert_eq!(status, 200, "{stats}");
    // Age bands computed by hand, not by the planning view hmis reads: five-year bands.
    let sql = "SELECT district, sex, CASE WHEN age >= 80 THEN '80+' ELSE
                   lpad((age / 5 * 5)::text, 2, '0') || '-' || lpad((age / 5 * 5 + 4)::text, 2, '0') END,
                   count(*)
               FROM (SELECT district, sex, date_part('year', age(current_date, birth_date))::int AS age
                     FROM patients) p GROUP BY 1, 2, 3";
    let rows: Vec<(String, String, String, i64)> =
        sqlx::query_as(sql).fetch_all(&single).await.unwrap();
    let got = by(&stats, &["district", "sex", "age_band"]);
    assert_eq!(got.len(), rows.len());
    for (d, s, a, n) in rows {
        assert_eq!(got[&vec![d, s, a]]["count"].as_i64(), Some(n));
    }
    let (_, per_region) = app.get_json("/api/v1/stats/patients").await;
    for (region, group) in by(&per_region, &["region"]) {
        let pool = app.shard(&region[0]).await;
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM patients")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(group["count"].as_i64(), Some(n), "{region:?}");
    }
}

#[tokio::test]
async fn vital_sign_statistics_across_regions_are_exact_not_means_of_means() {
    let app = spawn_app().await;
    let single = seeded(&app, 40, 12).await;
    let mut rng = StdRng::seed_from_u64(3);
    for region in ["quthing", "maseru", "mafeteng", "leribe"] {
        let pool = app.shard(region).await;
        let ids: Vec<(uuid::Uuid,)> = sqlx::query_as("SELECT id FROM patients")
            .fetch_all(&pool)
            .await
            .unwrap();
        for (id,) in ids {
            for _ in 0..rng.random_range(0..6) {
                let (code, value) = if rng.random_bool(0.5) {
                    ("8867-4", rng.random_range(50..130))
                } else {
                    ("2708-6", rng.random_range(85..100))
                };
                sqlx::query(
                    "INSERT INTO observations (id, patient_id, set_id, code, value, unit, entered_value, entered_unit, flag, taken_at, recorded_by)
                     VALUES (gen_random_uuid(), $1, gen_random_uuid(), $2, $3, 'u', $3, 'u', 'normal',
                             TIMESTAMPTZ '2025-01-15 12:00+02' + $4::int * interval '1 day', 'loader')",
                )
                .bind(id).bind(code).bind(f64::from(value)).bind(rng.random_range(0..200))
                .execute(&pool).await.unwrap();
            }
        }
        let (rows,): (Value,) =
            sqlx::query_as("SELECT coalesce(json_agg(o), '[]') FROM observations o")
                .fetch_one(&pool)
                .await
                .unwrap();
        sqlx::query("INSERT INTO observations SELECT * FROM json_populate_recordset(NULL::observations, $1::json)")
            .bind(rows).execute(&single).await.unwrap();
    }
    let (status, stats) = app
        .get_json("/api/v1/stats/observations?group_by=code,month&from=2025-01-01&to=2026-01-01")
        .await;
    assert_eq!(status, 200, "{stats}");
    let rows: Vec<(String, String, i64, f64, f64, f64)> = sqlx::query_as(
        "SELECT code, to_char(date_trunc('month', taken_at AT TIME ZONE 'Africa/Maseru'), 'YYYY-MM'),
                count(*), avg(value), min(value), max(value) FROM observations GROUP BY 1, 2",
    )
    .fetch_all(&single)
    .await
    .unwrap();
    let got = by(&stats, &["code", "month"]);
    assert_eq!(got.len(), rows.len(), "{stats}");
    for (code, month, n, mean, min, max) in rows {
        let g = &got[&vec![code.clone(), month.clone()]];
        assert_eq!(
            (g["count"].as_i64(), g["min"].as_f64(), g["max"].as_f64()),
            (Some(n), Some(min), Some(max)),
            "{code} {month}"
        );
        assert!(
            (g["mean"].as_f64().unwrap() - mean).abs() < 1e-9,
            "{code} {month}: {} vs {mean}",
            g["mean"]
        );
    }
}

#[tokio::test]
async fn statistics_are_for_planners_and_admins_and_bad_groupings_are_refused() {
    let app = spawn_app().await;
    let nurse = app.user("n.q", "nurse", "quthing").await;
    assert_eq!(
        nurse
            .get(app.url("/api/v1/stats/patients"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let planner = app.user("p.p", "planner", "*").await;
    let r = planner
        .get(app.url("/api/v1/stats/patients?group_by=region,sex"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (path, field) in [
        ("/api/v1/stats/patients?group_by=name", "group_by"),
        ("/api/v1/stats/observations?code=1-1", "code"),
        ("/api/v1/stats/patients?region=atlantis", "region"),
    ] {
        let (status, problem) = app.get_json(path).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (400, Some(field)),
            "{path}: {problem}"
        );
    }
}
