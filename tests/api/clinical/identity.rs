//! Who a patient is: health record numbers, the duplicate check at registration, merges.

use super::{new_patient, record};
use crate::helpers::{TestApp, patient, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> (u16, Value) {
    let r = client.post(app.url(path)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A single-digit change and an adjacent swap of a number's digits, keeping its dashes.
fn typos(hrn: &str) -> [String; 2] {
    let mut digits: Vec<char> = hrn.chars().collect();
    let mut changed = digits.clone();
    changed[5] = if changed[5] == '9' {
        '0'
    } else {
        char::from(changed[5] as u8 + 1)
    };
    let (i, j) = (8, 9);
    let same = digits[i] == digits[j];
    digits.swap(i, j);
    if same {
        digits.swap(0, 1);
    }
    [changed.into_iter().collect(), digits.into_iter().collect()]
}

#[tokio::test]
async fn every_patient_gets_a_printable_hrn_that_names_its_region_and_is_unique() {
    let app = spawn_app().await;
    let mut seen = std::collections::BTreeSet::new();
    for district in ["Quthing", "Quthing", "Berea", "Leribe"] {
        let p = new_patient(&app, district).await;
        let hrn = p["hrn"].as_str().unwrap().to_owned();
        assert_eq!(hrn.len(), 12, "3-3-4 digits with dashes: {hrn}");
        let code = app
            .settings
            .region(p["region"].as_str().unwrap())
            .unwrap()
            .code;
        assert_eq!(&hrn[..2], format!("{code:02}"), "{hrn} in {}", p["region"]);
        let parsed: hmis::domain::hrn::Hrn = hrn.parse().expect("its check digit is valid");
        assert_eq!(
            parsed.to_string(),
            hrn,
            "the database and hmis compute the same number"
        );
        assert!(seen.insert(hrn));
    }
}

#[tokio::test]
async fn a_clerk_finds_a_patient_of_another_region_by_hrn_and_a_mistyped_number_is_refused() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Berea").await;
    let hrn = p["hrn"].as_str().unwrap();
    let clerk = app.user("c.two", "records_clerk", "quthing").await;
    app.user("c.two", "records_clerk", "maseru").await;
    let (status, page) = get(
        &app,
        &clerk,
        &format!("/api/v1/patients?hrn={}", hrn.replace('-', "")),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (page["region"].as_str(), page["items"][0]["id"].as_str()),
        (Some("maseru"), p["id"].as_str())
    );
    for typo in typos(hrn) {
        let (status, problem) = get(&app, &clerk, &format!("/api/v1/patients?hrn={typo}")).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (422, Some("hrn")),
            "{typo}: {problem}"
        );
    }
    let nurse = app.user("n.q", "nurse", "quthing").await;
    assert_eq!(
        get(&app, &nurse, &format!("/api/v1/patients?hrn={hrn}"))
            .await
            .0,
        403
    );
}

async fn get(app: &TestApp, client: &Client, path: &str) -> (u16, Value) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_second_registration_of_the_same_person_under_a_variant_spelling_is_caught() {
    let app = spawn_app().await;
    let mut first = patient("Quthing");
    first["given_name"] = json!("Tšepo");
    first["family_name"] = json!("Moshoeshoe");
    first["birth_date"] = json!("1990-05-01");
    let first = app.create_patient(&first).await;
    let mut again = patient("Berea");
    again["given_name"] = json!("Tshepo");
    again["family_name"] = json!("Moshweshwe");
    again["birth_date"] = json!("1990-05-01");
    let (status, problem) = post(&app, &app.client, "/api/v1/patients", again.clone()).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:possible-duplicates")),
        "{problem}"
    );
    let candidate = &problem["candidates"][0];
    assert_eq!(
        (candidate["id"].as_str(), candidate["region"].as_str()),
        (first["id"].as_str(), Some("quthing"))
    );
    assert!(!candidate["reasons"].as_array().unwrap().is_empty());
    assert_eq!(
        app.patients_per_region().await["maseru"].len(),
        0,
        "nothing written"
    );
    again["not_duplicate_of"] = json!([first["id"]]);
    let (status, created) = post(&app, &app.client, "/api/v1/patients", again).await;
    assert_eq!(status, 201, "{created}");
}

#[tokio::test]
async fn a_nurse_is_warned_only_about_regions_she_may_read() {
    let app = spawn_app().await;
    let mut body = patient("Maseru");
    body["national_id"] = json!("LS-424242");
    app.create_patient(&body).await;
    let nurse = app.user("n.q", "nurse", "quthing").await;
    body["district"] = json!("Quthing");
    let (status, created) = post(&app, &nurse, "/api/v1/patients", body).await;
    assert_eq!(
        status, 201,
        "a Maseru record is not shown to a Quthing nurse: {created}"
    );
}

#[tokio::test]
async fn a_records_clerk_merges_two_records_of_one_person_and_can_undo_it() {
    let app = spawn_app().await;
    let keep = new_patient(&app, "Quthing").await;
    let mut body = patient("Quthing");
    body["given_name"] = keep["given_name"].clone();
    body["family_name"] = keep["family_name"].clone();
    body["birth_date"] = keep["birth_date"].clone();
    body["not_duplicate_of"] = json!([keep["id"]]);
    let dup = app.create_patient(&body).await;
    let (k, d) = (keep["id"].as_str().unwrap(), dup["id"].as_str().unwrap());
    for id in [k, d] {
        record(
            &app,
            &app.client,
            id,
            &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
        )
        .await;
    }
    let nurse = app.user("n.m", "nurse", "quthing").await;
    let merge = json!({"duplicate": d, "reason": "registered twice"});
    assert_eq!(
        post(
            &app,
            &nurse,
            &format!("/api/v1/patients/{k}/merge"),
            merge.clone()
        )
        .await
        .0,
        403
    );
    let clerk = app.user("c.m", "records_clerk", "quthing").await;
    let (status, merged) = post(&app, &clerk, &format!("/api/v1/patients/{k}/merge"), merge).await;
    assert_eq!(status, 201, "{merged}");
    let (_, read) = app.get_json(&format!("/api/v1/patients/{d}")).await;
    assert_eq!(read["merged_into"].as_str(), Some(k));
    let (_, summary) = app.get_json(&format!("/api/v1/patients/{k}/summary")).await;
    assert_eq!(
        summary["counts"]["observations"], 2,
        "both records' vitals: {summary}"
    );
    let (status, _) = record(
        &app,
        &app.client,
        d,
        &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
    )
    .await;
    assert_eq!(status, 409, "new vitals go to the record that was kept");
    let (_, found) = app
        .get_json(&format!(
            "/api/v1/patients?hrn={}",
            dup["hrn"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        found["items"][0]["id"].as_str(),
        Some(k),
        "the old card's number finds the kept record"
    );
    let unmerge = json!({"reason": "twins, not one person"});
    let path = format!("/api/v1/patients/{d}/unmerge");
    assert_eq!(post(&app, &nurse, &path, unmerge.clone()).await.0, 403);
    let (status, undone) = post(&app, &clerk, &path, unmerge).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(undone["undone_by"], "c.m");
    let (_, summary) = app.get_json(&format!("/api/v1/patients/{k}/summary")).await;
    assert_eq!(summary["counts"]["observations"], 1);
    let (_, read) = app.get_json(&format!("/api/v1/patients/{d}")).await;
    assert!(read["merged_into"].is_null());
    let pool = app.shard("quthing").await;
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM patient_merges WHERE undone_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 1, "the merge and its undoing stay on record");
}

#[tokio::test]
async fn records_of_two_regions_are_not_merged_without_a_transfer() {
    let app = spawn_app().await;
    let a = new_patient(&app, "Quthing").await;
    let b = new_patient(&app, "Maseru").await;
    let (status, problem) = post(
        &app,
        &app.client,
        &format!("/api/v1/patients/{}/merge", a["id"].as_str().unwrap()),
        json!({"duplicate": b["id"], "reason": "same"}),
    )
    .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:different-regions"))
    );
}
