//! Recording vital signs: conversion, flags, BMI, refusals, alerts, placement.

use super::{new_patient, observations_in, of, record};
use crate::helpers::spawn_app;
use chrono::{Duration, FixedOffset, Utc};
use serde_json::{Value, json};

/// An hour ago, written with Lesotho's offset as a clinic's tablet sends it.
fn an_hour_ago() -> String {
    let offset = FixedOffset::east_opt(2 * 3600).unwrap();
    (Utc::now() - Duration::hours(1))
        .with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn full_set(taken_at: &str) -> Value {
    json!({"taken_at": taken_at, "vitals": [
        {"code": "8867-4", "value": 72, "unit": "/min"},
        {"code": "9279-1", "value": 16, "unit": "/min"},
        {"code": "2708-6", "value": 97, "unit": "%"},
        {"code": "8310-5", "value": 100.4, "unit": "[degF]"},
        {"code": "8302-2", "value": 170, "unit": "cm"},
        {"code": "29463-7", "value": 154, "unit": "[lb_av]"},
        {"code": "85354-9", "components": [
            {"code": "8480-6", "value": 150, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 95, "unit": "mm[Hg]"}]},
        {"code": "15074-8", "value": 5.5, "unit": "mmol/L"}
    ]})
}

#[tokio::test]
async fn a_nurse_records_a_full_set_of_vitals_converted_flagged_and_with_a_bmi() {
    let app = spawn_app().await;
    let nurse = app.user("n.full", "nurse", "quthing").await;
    let p = new_patient(&app, "Quthing").await;
    let taken_at = an_hour_ago();
    let (status, set) = record(
        &app,
        &nurse,
        p["id"].as_str().unwrap(),
        &full_set(&taken_at),
    )
    .await;
    assert_eq!(status, 201, "{set}");
    assert_eq!(set["region"], "quthing");
    assert_eq!(
        set["observations"].as_array().unwrap().len(),
        10,
        "9 typed + BMI: {set}"
    );
    let temp = of(&set, "8310-5");
    assert_eq!(
        (temp["value"].as_f64(), temp["unit"].as_str()),
        (Some(38.0), Some("Cel"))
    );
    assert_eq!(
        (
            temp["entered_value"].as_f64(),
            temp["entered_unit"].as_str()
        ),
        (Some(100.4), Some("[degF]"))
    );
    assert_eq!(temp["flag"], "high");
    assert!(
        temp["flag_reason"].as_str().unwrap().contains("37.5"),
        "{temp}"
    );
    let weight = of(&set, "29463-7")["value"].as_f64().unwrap();
    assert!(
        (weight - 69.85).abs() < 0.01,
        "154 lb is 69.85 kg, got {weight}"
    );
    let bmi = of(&set, "39156-5");
    assert_eq!(
        (
            bmi["value"].as_f64(),
            bmi["derived"].as_bool(),
            bmi["flag"].as_str()
        ),
        (Some(24.2), Some(true), Some("normal"))
    );
    assert_eq!(of(&set, "8480-6")["flag"], "high");
    assert_eq!(of(&set, "8480-6")["panel"], "85354-9");
    assert_eq!(of(&set, "15074-8")["flag"], "normal");
    assert_eq!(of(&set, "8867-4")["flag"], "normal");
    let stored = chrono::DateTime::parse_from_rfc3339(temp["taken_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored,
        chrono::DateTime::parse_from_rfc3339(&taken_at).unwrap()
    );
    assert!(temp["taken_at"].as_str().unwrap().ends_with("+02:00"));
    assert!(set["alerts"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn impossible_values_are_refused_naming_each_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let body = json!({"vitals": [
        {"code": "2708-6", "value": 104, "unit": "%"},
        {"code": "8310-5", "value": 37, "unit": "K"},
        {"code": "39156-5", "value": 22, "unit": "kg/m2"},
        {"code": "8867-4", "value": 70},
        {"code": "1234-5", "value": 1, "unit": "/min"},
        {"code": "85354-9", "components": [{"code": "8480-6", "value": 80, "unit": "mm[Hg]"},
                                           {"code": "8462-4", "value": 95, "unit": "mm[Hg]"}]}
    ]});
    let (status, problem) = record(&app, &app.client, p["id"].as_str().unwrap(), &body).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "vitals[0].value",
        "vitals[1].unit",
        "vitals[2].code",
        "vitals[3].unit",
        "vitals[4].code",
        "vitals[5].components[1].value",
    ] {
        assert!(fields.contains(&field), "{field} not named: {problem}");
    }
    assert_eq!(observations_in(&app, "quthing").await, 0);
    let (status, problem) = record(
        &app,
        &app.client,
        p["id"].as_str().unwrap(),
        &json!({"vitals": [], "taken_at": "yesterday"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
}

#[tokio::test]
async fn a_critical_value_raises_an_alert_and_notifies_the_region_once_committed() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Mafeteng").await;
    let mut listener = super::events_of(&app, "mafeteng").await;
    let id = p["id"].as_str().unwrap();
    let (status, set) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "2708-6", "value": 85, "unit": "%"}]}),
    )
    .await;
    assert_eq!(status, 201, "{set}");
    assert_eq!(of(&set, "2708-6")["flag"], "critical");
    let alert = &set["alerts"][0];
    assert!(alert["reason"].as_str().unwrap().contains("90"), "{alert}");
    let note = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification")
        .unwrap();
    let event: Value = serde_json::from_str(note.payload()).unwrap();
    assert_eq!(
        (event["kind"].as_str(), event["region"].as_str()),
        (Some("alert"), Some("mafeteng"))
    );
    assert_eq!(event["patient_id"], p["id"]);
    assert_eq!(event["alert_id"], alert["id"]);
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert_eq!(summary["alerts"].as_array().unwrap().len(), 1, "{summary}");
    let clinician = app.user("c.maf", "clinician", "mafeteng").await;
    let ack = clinician
        .post(app.url(&format!(
            "/api/v1/patients/{id}/alerts/{}/acknowledge",
            alert["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 200);
    let ack: Value = ack.json().await.unwrap();
    assert_eq!(ack["acknowledged_by"], "c.maf");
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert!(
        summary["alerts"].as_array().unwrap().is_empty(),
        "{summary}"
    );
}

#[tokio::test]
async fn observations_land_in_their_patients_shard_in_every_region() {
    let app = spawn_app().await;
    for district in ["Quthing", "Berea", "Qacha's Nek", "Mokhotlong"] {
        let p = new_patient(&app, district).await;
        let (status, set) = record(
            &app,
            &app.client,
            p["id"].as_str().unwrap(),
            &json!({"vitals": [{"code": "8867-4", "value": 80, "unit": "bpm"}]}),
        )
        .await;
        assert_eq!(status, 201, "{set}");
        assert_eq!(set["region"], p["region"]);
    }
    for region in ["quthing", "maseru", "mafeteng", "leribe"] {
        assert_eq!(observations_in(&app, region).await, 1, "{region}");
    }
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_records_the_set_once() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let url = app.url(&format!(
        "/api/v1/patients/{}/observations",
        p["id"].as_str().unwrap()
    ));
    let body = json!({"vitals": [{"code": "8867-4", "value": 80, "unit": "/min"}]});
    let mut sets = Vec::new();
    for _ in 0..2 {
        let r = app
            .client
            .post(&url)
            .header("idempotency-key", "tablet-7-0042")
            .json(&body)
            .send()
            .await
            .unwrap();
        sets.push((
            r.status().as_u16(),
            r.json::<Value>().await.unwrap()["set_id"].clone(),
        ));
    }
    assert_eq!((sets[0].0, sets[1].0), (201, 200));
    assert_eq!(sets[0].1, sets[1].1);
    assert_eq!(observations_in(&app, "quthing").await, 1);
}

#[tokio::test]
async fn a_nurse_of_another_region_may_neither_record_nor_read_vitals() {
    let app = spawn_app().await;
    let nurse = app.user("n.q", "nurse", "quthing").await;
    let p = new_patient(&app, "Maseru").await;
    let id = p["id"].as_str().unwrap();
    let critical = json!({"vitals": [{"code": "2708-6", "value": 85, "unit": "%"}]});
    let (status, _) = record(&app, &nurse, id, &critical).await;
    assert_eq!(status, 403);
    let (_, set) = record(&app, &app.client, id, &critical).await;
    let obs = format!(
        "/api/v1/patients/{id}/observations/{}",
        of(&set, "2708-6")["id"].as_str().unwrap()
    );
    let ack = format!(
        "/api/v1/patients/{id}/alerts/{}/acknowledge",
        set["alerts"][0]["id"].as_str().unwrap()
    );
    let attempts = [
        nurse.get(app.url(&format!("/api/v1/patients/{id}/summary"))),
        nurse.get(app.url(&format!("/api/v1/patients/{id}/observations?code=8867-4"))),
        nurse.get(app.url(&obs)),
        nurse
            .patch(app.url(&obs))
            .header("if-match", "\"1\"")
            .json(&json!({"value": 97, "reason": "x"})),
        nurse.post(app.url(&ack)),
    ];
    for attempt in attempts {
        let r = attempt.send().await.unwrap();
        assert_eq!(r.status(), 403, "{}", r.url());
    }
    assert_eq!(observations_in(&app, "maseru").await, 1);
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert_eq!(
        summary["alerts"].as_array().unwrap().len(),
        1,
        "still unacknowledged"
    );
    assert_eq!(summary["latest"][0]["version"], 1, "not amended");
}

#[tokio::test]
async fn a_weight_alone_gets_its_bmi_from_the_latest_earlier_height() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Leribe").await;
    let id = p["id"].as_str().unwrap();
    let (_, first) = record(&app, &app.client, id, &json!({"taken_at": an_hour_ago(), "vitals": [{"code": "8302-2", "value": 1.6, "unit": "m"}]})).await;
    assert_eq!(of(&first, "8302-2")["value"].as_f64(), Some(160.0));
    let (status, set) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "29463-7", "value": 41000, "unit": "g"}]}),
    )
    .await;
    assert_eq!(status, 201, "{set}");
    let bmi = of(&set, "39156-5");
    assert_eq!(
        (bmi["value"].as_f64(), bmi["flag"].as_str()),
        (Some(16.0), Some("low"))
    );
}
