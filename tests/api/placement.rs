//! Records land in the database their rule names, and reads by ID go to that one shard.

use crate::helpers::{patient, spawn_app, spawn_app_with};
use hmis::config::DatabaseUrl;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const DISTRICT_REGION: &[(&str, &str)] = &[
    ("Quthing", "quthing"),
    ("Maseru", "maseru"),
    ("Berea", "maseru"),
    ("Thaba-Tseka", "maseru"),
    ("Mafeteng", "mafeteng"),
    ("Mohale's Hoek", "mafeteng"),
    ("Qacha's Nek", "mafeteng"),
    ("Leribe", "leribe"),
    ("Butha-Buthe", "leribe"),
    ("Mokhotlong", "leribe"),
];

#[tokio::test]
async fn a_patient_of_each_district_is_stored_in_its_region_database_and_nowhere_else() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for (district, region) in DISTRICT_REGION {
        let response = app.post_patient(&patient(district)).await;
        assert_eq!(response.headers()["x-hmis-region"], *region, "{district}");
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["region"], *region, "{district}");
        expected.push((json["id"].as_str().unwrap().to_owned(), *region));
    }
    let stored = app.patients_per_region().await;
    for (id, region) in &expected {
        for (shard, ids) in &stored {
            assert_eq!(
                ids.contains(id),
                shard == region,
                "{id} of {region} found in {shard}: {}",
                ids.contains(id)
            );
        }
    }
    assert_eq!(
        stored.values().map(Vec::len).sum::<usize>(),
        DISTRICT_REGION.len()
    );
}

#[tokio::test]
async fn a_district_in_any_letter_case_is_stored_with_its_canonical_spelling() {
    let app = spawn_app().await;
    let json = app.create_patient(&patient("mOHALE'S hOEK")).await;
    assert_eq!(json["district"], "Mohale's Hoek");
    assert_eq!(json["region"], "mafeteng");
}

/// A TCP listener standing in for a region's database: it counts the connections hmis
/// attempts to it for requests (`application_name` `hmis`; the real-time layer follows
/// every region's log on connections of its own names, whatever requests do), and answers
/// none of them.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                if application_name(socket).await.as_deref() == Some("hmis") {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (
        format!("postgresql://hmis:x@127.0.0.1:{port}/nothing"),
        count,
    )
}

#[tokio::test]
async fn a_read_by_id_asks_only_the_region_inside_the_id() {
    let mut attempts = Vec::new();
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(counting_listener().await);
    }
    let app = spawn_app_with(|s| {
        for (region, (url, count)) in s
            .regions
            .iter_mut()
            .filter(|r| r.name != "quthing")
            .zip(&others)
        {
            region.database_url = DatabaseUrl::new(url.clone());
            attempts.push(count.clone());
        }
    })
    .await;
    let created = app.create_patient(&patient("Quthing")).await;
    let id = created["id"].as_str().unwrap();
    // The create's duplicate check asked every region; only the reads count.
    let before: usize = attempts.iter().map(|c| c.load(Ordering::SeqCst)).sum();
    for _ in 0..5 {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-hmis-region"], "quthing");
    }
    let total = attempts
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .sum::<usize>()
        - before;
    assert_eq!(
        total, 0,
        "reads by ID connected to other regions {total} times"
    );
}

#[tokio::test]
async fn an_id_whose_region_code_no_region_has_is_not_found_without_asking_a_shard() {
    let app = spawn_app().await;
    // A valid UUIDv7 whose last two bytes (the region code) are 0x7777.
    let (status, body) = app
        .get_json("/api/v1/patients/01a209c8-e473-70d0-bf36-f246f2f07777")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["type"], "urn:hmis:problem:not-found");
}

#[tokio::test]
async fn the_routing_explain_endpoint_names_the_region_the_rule_and_the_rules_passed_over() {
    let app = spawn_app().await;
    let (status, body) = app
        .get_json("/api/v1/routing/explain?entity=patient&district=Leribe")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"]["region"], "leribe");
    let steps = body["steps"].as_array().unwrap();
    assert!(steps.len() >= 2);
    assert!(
        steps[..steps.len() - 1]
            .iter()
            .all(|s| s["matched"] == false)
    );
    assert_eq!(steps.last().unwrap()["matched"], true);
    let (status, body) = app
        .get_json("/api/v1/routing/explain?entity=patient&district=Narnia")
        .await;
    assert_eq!(status, 200);
    assert!(
        body["outcome"]["error"]
            .as_str()
            .unwrap()
            .contains("no rule"),
        "{body}"
    );
}

/// The `application_name` of a PostgreSQL startup message (after declining TLS).
async fn application_name(mut socket: tokio::net::TcpStream) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let len = socket.read_u32().await.ok()? as usize;
        let mut body = vec![0; len.checked_sub(4)?];
        socket.read_exact(&mut body).await.ok()?;
        if body.starts_with(&80877103u32.to_be_bytes()) {
            socket.write_all(b"N").await.ok()?; // SSLRequest: no TLS here
            continue;
        }
        let fields: Vec<&[u8]> = body.get(4..)?.split(|&b| b == 0).collect();
        let at = fields.iter().position(|f| *f == b"application_name")?;
        return Some(String::from_utf8_lossy(fields.get(at + 1)?).into_owned());
    }
}
