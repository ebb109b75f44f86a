//! A region whose database dies: the others keep serving, `/readyz` says which is down,
//! its requests fail fast with 503, and it is used again once it is back.

use crate::helpers::{launch, patient, project_databases, region_on_own_cluster, spawn_app_with};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_killed_region_is_reported_and_refused_while_the_others_serve_and_it_recovers_without_restart()
 {
    let mut settings = project_databases().await;
    let mut cluster = region_on_own_cluster(&mut settings, "maseru").await;
    let app = launch(settings).await;

    let before = app.create_patient(&patient("Berea")).await;
    let maseru_id = before["id"].as_str().unwrap().to_owned();
    let (status, _) = app.get_json("/readyz").await;
    assert_eq!(status, 200);

    cluster.kill().unwrap();
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 503);
    let maseru = ready["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "maseru")
        .unwrap();
    assert_eq!(maseru["status"], "down", "{ready}");
    // Anyone may ask /readyz: one word, never the driver's message (hosts, roles).
    assert_eq!(maseru["error"], "unreachable", "{ready}");
    assert!(
        ready["regions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] != "maseru")
            .all(|r| r["status"] == "up"),
        "{ready}"
    );

    let quthing = app.create_patient(&patient("Quthing")).await;
    assert_eq!(quthing["region"], "quthing");
    let started = Instant::now();
    let response = app.post_patient(&patient("Maseru")).await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a dead region must fail fast"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["region"], "maseru", "{problem}");
    // The pool's and driver's own words ("error connecting to server", ...) stay in the log.
    assert_eq!(
        problem["detail"], "region maseru is unavailable; try again shortly",
        "{problem}"
    );
    let (status, _) = app.get_json(&format!("/api/v1/patients/{maseru_id}")).await;
    assert_eq!(status, 503);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    let (status, read) = app.get_json(&format!("/api/v1/patients/{maseru_id}")).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["region"], "maseru");
    let (status, _) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    cluster.stop().unwrap();
}

#[tokio::test]
async fn hmis_starts_and_serves_the_other_regions_while_one_region_was_down_from_the_start() {
    let app = spawn_app_with(|s| {
        let leribe = s.regions.iter_mut().find(|r| r.name == "leribe").unwrap();
        leribe.database_url =
            hmis::config::DatabaseUrl::new("postgresql://hmis:x@127.0.0.1:1/gone");
    })
    .await;
    assert_eq!(
        app.create_patient(&patient("Mafeteng")).await["region"],
        "mafeteng"
    );
    assert_eq!(app.post_patient(&patient("Leribe")).await.status(), 503);
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(ready["status"], "degraded");
}
