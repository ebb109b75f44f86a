//! Totals of lists and searches: counted up to a thousand matches in a region, estimated
//! above (`total_exact: false`), so that a page of a region of a million patients does not
//! count them all; and name searches that find the same patients whether the name is rare
//! or matches thousands.

use crate::helpers::{TestApp, spawn_app};
use serde_json::Value;

/// `n` patients of Quthing named `family`, written straight into the shard.
async fn many(app: &TestApp, n: i32, family: &str) {
    let pool = app.shard("quthing").await;
    let code = app.settings.region("quthing").unwrap().code;
    let ids: Vec<uuid::Uuid> = (0..n)
        .map(|_| hmis::domain::PatientId::new(code).uuid())
        .collect();
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district)
         SELECT id, 'Palesa', $2, 'female', DATE '1950-01-01' + (n % 20000)::int, 'Quthing'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)",
    )
    .bind(&ids)
    .bind(family)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE patients")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

fn total(page: &Value) -> (i64, bool) {
    (
        page["total"].as_i64().expect("a total"),
        page["total_exact"].as_bool().expect("total_exact"),
    )
}

#[tokio::test]
async fn totals_above_a_thousand_matches_in_a_region_are_estimated_and_say_so() {
    let app = spawn_app().await;
    many(&app, 1500, "Mokoena").await;
    many(&app, 3, "Ntsekhe").await;

    for path in [
        "/api/v1/patients?size=5",
        "/api/v1/patients?region=quthing&q=mokoena&size=5",
        "/api/v1/patients?region=quthing,maseru&q=mok&size=5",
    ] {
        let (status, page) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let (n, exact) = total(&page);
        assert!(
            !exact,
            "{path}: more than 1,000 matches are estimated: {page}"
        );
        // The planner's estimate of 1,500 rows, not a count, but never below what was counted.
        assert!((1001..=5000).contains(&n), "{path}: {n}");
        assert_eq!(page["items"].as_array().unwrap().len(), 5, "{path}");
    }
    for (path, expected) in [
        ("/api/v1/patients?region=quthing&q=ntsekhe", 3),
        ("/api/v1/patients?q=ntsekhe", 3),
        ("/api/v1/patients?q=palesa+ntse", 3),
        ("/api/v1/patients?region=quthing&q=nobody", 0),
    ] {
        let (status, page) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(total(&page), (expected, true), "{path}: {page}");
        assert_eq!(page["items"].as_array().unwrap().len() as i64, expected);
    }
}

#[tokio::test]
async fn a_search_for_a_common_prefix_pages_in_name_order_as_a_rare_one_does() {
    let app = spawn_app().await;
    many(&app, 1200, "Mofokeng").await;
    many(&app, 2, "Moahloli").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/patients?q=mo&size=100&region=quthing,maseru".to_owned();
    loop {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        for p in page["items"].as_array().unwrap() {
            seen.push(format!("{}\u{1f}{}", p["family_name"], p["id"]));
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/patients?q=mo&size=100&region=quthing,maseru&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 1202, "every match once");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "in name order");
    assert!(seen[0].contains("Moahloli"), "{}", seen[0]);
}
