//! The clinic UI in a real browser: one hmis (serving the ui/dist of this tree), the users
//! and patients the scenarios need, then `node --test tests/browser/`, where
//! playwright-core drives Debian's Chromium through sign-in, search, registration, vitals,
//! charts, live updates and notifications, on a phone's width too, under the page's CSP.
//! The scenarios are JavaScript (tests/browser/*.test.mjs); this test is their one entry
//! in `cargo test`, so CI runs them. Without Chromium or ui/node_modules it fails, saying
//! what to run: a browser test that silently passes would prove nothing.

use crate::helpers::{PASSWORD, TestApp, patient, spawn_app};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const CHROMIUM: &str = "/usr/bin/chromium";
const NURSE: &str = "nurse.quthing";
const CLINICIAN: &str = "clinician.quthing";
const LEAVER: &str = "nurse.leaver";
const PLANNER: &str = "planner";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clinic_ui_passes_its_browser_tests_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    require_browser(root);
    let app = spawn_app().await;
    let nurse = app.user(NURSE, "nurse", "quthing").await;
    app.user(CLINICIAN, "clinician", "quthing").await;
    app.user(LEAVER, "nurse", "quthing").await;
    app.user(PLANNER, "planner", "*").await;
    let palesa = person(&app, "Palesa", "Mokoena", "1990-04-12", "Quthing").await;
    person(&app, "Thabo", "Mokoena", "1984-09-30", "Quthing").await;
    person(&app, "Lineo", "Mokoena", "2019-02-03", "Quthing").await;
    let id = palesa["id"].as_str().unwrap();
    record_readings(&app, &nurse, id).await;
    let maseru = app.create_patient(&patient("Maseru")).await;

    let screenshots = root.join("target").join("screenshots");
    let envs = [
        ("HMIS_URL", app.address.clone()),
        ("HMIS_PASSWORD", PASSWORD.to_owned()),
        ("HMIS_NURSE", NURSE.to_owned()),
        ("HMIS_CLINICIAN", CLINICIAN.to_owned()),
        ("HMIS_LEAVER", LEAVER.to_owned()),
        ("HMIS_ADMIN", "admin".to_owned()),
        ("HMIS_PLANNER", PLANNER.to_owned()),
        ("HMIS_PATIENT_ID", id.to_owned()),
        ("HMIS_PATIENT_GIVEN", "Palesa".to_owned()),
        ("HMIS_PATIENT_FAMILY", "Mokoena".to_owned()),
        ("HMIS_MASERU_PATIENT_ID", text(&maseru, "id")),
        ("HMIS_MASERU_GIVEN", text(&maseru, "given_name")),
        ("HMIS_MASERU_FAMILY", text(&maseru, "family_name")),
        ("HMIS_MASERU_HRN", text(&maseru, "hrn")),
        ("HMIS_SCREENSHOTS", screenshots.display().to_string()),
    ];
    let mut args: Vec<String> = [
        "--test",
        "--test-concurrency=1",
        "--test-timeout=180000",
        "--test-reporter=spec",
    ]
    .map(String::from)
    .into();
    // While working on one scenario: HMIS_BROWSER_FILTER='duplicate' runs the tests so named.
    if let Ok(pattern) = std::env::var("HMIS_BROWSER_FILTER") {
        args.push(format!("--test-name-pattern={pattern}"));
    }
    args.push("tests/browser/".to_owned());
    let out = tokio::process::Command::new("node")
        .args(&args)
        .envs(envs)
        .current_dir(root)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (Node.js 20: scripts/install-deps)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        println!("{report}");
    }
    assert!(
        out.status.success(),
        "the browser tests failed ({}); screenshots in {}:\n{report}",
        out.status,
        screenshots.display()
    );
}

/// Fails, naming the fix, unless Chromium and playwright-core are installed.
fn require_browser(root: &Path) {
    let modules: PathBuf = root.join("ui").join("node_modules").join("playwright-core");
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/install-deps (it installs Debian's chromium)"
    );
    assert!(
        modules.exists(),
        "{} is missing: run scripts/install-deps (it runs npm ci in ui/)",
        modules.display()
    );
}

/// Registers a person in `district` as the admin (past the duplicate check: these are
/// different people who share a family name).
async fn person(app: &TestApp, given: &str, family: &str, birth: &str, district: &str) -> Value {
    let mut body = json!({
        "given_name": given, "family_name": family, "sex": "female",
        "birth_date": birth, "district": district, "village": "Ha Sekake",
    });
    let response = app.post_patient(&body).await;
    if response.status() == 409 {
        let problem: Value = response.json().await.unwrap();
        let ids: Vec<Value> = problem["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        body["not_duplicate_of"] = Value::Array(ids);
        return app.create_patient(&body).await;
    }
    assert_eq!(response.status(), 201, "register {given} {family}");
    response.json().await.unwrap()
}

/// A few sets of vitals over the last five days, as the nurse records them: the chart of
/// the last 7 days has points, and Latest vital signs has values.
async fn record_readings(app: &TestApp, nurse: &reqwest::Client, id: &str) {
    for (days, pulse, temp, sys, dia) in [
        (5, 78, 36.8, 128, 82),
        (4, 84, 37.2, 134, 86),
        (3, 96, 38.1, 142, 92),
        (2, 88, 37.6, 138, 88),
        (1, 76, 36.9, 126, 80),
    ] {
        let taken = Utc::now() - Duration::days(days) - Duration::hours(2);
        let body = json!({
            "taken_at": taken.to_rfc3339(),
            "vitals": [
                {"code": "8867-4", "value": pulse, "unit": "/min"},
                {"code": "2708-6", "value": 97, "unit": "%"},
                {"code": "8310-5", "value": temp, "unit": "Cel"},
                {"code": "29463-7", "value": 61, "unit": "kg"},
                {"code": "8302-2", "value": 160, "unit": "cm"},
                {"code": "85354-9", "components": [
                    {"code": "8480-6", "value": sys, "unit": "mm[Hg]"},
                    {"code": "8462-4", "value": dia, "unit": "mm[Hg]"}]},
            ],
        });
        let response = nurse
            .post(app.url(&format!("/api/v1/patients/{id}/observations")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(status, 201, "vitals: {}", response.text().await.unwrap());
    }
}

fn text(json: &Value, field: &str) -> String {
    json[field].as_str().expect(field).to_owned()
}
