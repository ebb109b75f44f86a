//! Notifications: a critical or abnormal vital sign notifies the clinicians of the
//! patient's region, once each however many hmis processes run; each user reads and
//! marks only their own; the in-process broadcast carries inserts and reads.

use crate::clinical::{new_patient, record};
use crate::helpers::{TestApp, launch, project_databases, spawn_app};
use hmis::notices::{Notices, Pushed};
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const CRITICAL_FEVER: &str = r#"{"vitals": [{"code": "8310-5", "value": 41.2, "unit": "Cel"}]}"#;

/// The user's notifications page (`query` after `?`), failing on anything but 200.
async fn page(app: &TestApp, client: &Client, query: &str) -> Value {
    let url = app.url(&format!("/api/v1/notifications?{query}"));
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits (up to 10 s) until the user has at least `n` notifications; their page.
async fn at_least(app: &TestApp, client: &Client, n: usize) -> Value {
    for _ in 0..200 {
        let body = page(app, client, "").await;
        if body["items"].as_array().unwrap().len() >= n {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} notifications after 10 s");
}

/// A notification stored straight in the central database for `username`; its ID.
async fn stored(app: &TestApp, username: &str, text: &str) -> Uuid {
    let central = app.central().await;
    let user = hmis::auth::users::id_of(&central, username)
        .await
        .unwrap()
        .unwrap();
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, region, source_id, text)
         VALUES ($1, $2, 'abnormal_vital', 'quthing', $3, $4)",
    )
    .bind(id)
    .bind(user)
    .bind(Uuid::now_v7())
    .bind(text)
    .execute(&central)
    .await
    .unwrap();
    central.close().await;
    id
}

async fn post(app: &TestApp, client: &Client, path: &str) -> (u16, Value) {
    let response = client.post(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_critical_vital_notifies_each_clinician_of_the_region_once_even_with_two_hmis_running() {
    let settings = project_databases().await;
    let app = launch(settings.clone()).await;
    let _second = launch(settings).await;
    let first = app.user("n.clin.one", "clinician", "quthing").await;
    let second = app.user("n.clin.two", "clinician", "quthing").await;
    let p = new_patient(&app, "Quthing").await;
    let pid = p["id"].as_str().unwrap();
    let (status, set) = record(&app, &app.client, pid, &CRITICAL_FEVER.parse().unwrap()).await;
    assert_eq!(status, 201, "{set}");
    let alert = set["alerts"][0]["id"].as_str().unwrap();
    for client in [&first, &second] {
        let body = at_least(&app, client, 1).await;
        let n = &body["items"][0];
        assert_eq!(n["kind"], "critical_vital", "{body}");
        assert_eq!(n["text"], "Critical temperature 41.2 Cel", "{body}");
        assert_eq!(
            (n["patient_id"].as_str(), n["source_id"].as_str()),
            (Some(pid), Some(alert))
        );
        assert_eq!(
            (n["region"].as_str(), &n["read_at"]),
            (Some("quthing"), &Value::Null)
        );
        assert_eq!(body["unread"], 1, "{body}");
    }
    // Both processes have read the log past the alert (they poll every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let central = app.central().await;
    let per_user: Vec<(String, i64)> = sqlx::query_as(
        "SELECT u.username, count(*) FROM notifications n JOIN users u ON u.id = n.user_id
         GROUP BY u.username ORDER BY 1",
    )
    .fetch_all(&central)
    .await
    .unwrap();
    let once = |u: &str| (u.to_owned(), 1);
    assert_eq!(per_user, vec![once("n.clin.one"), once("n.clin.two")]);
    central.close().await;
}

#[tokio::test]
async fn nobody_of_another_region_and_no_nurse_or_planner_is_notified_and_abnormal_values_are() {
    let app = spawn_app().await;
    let clinician = app.user("n.clin.q", "clinician", "quthing").await;
    let elsewhere = app.user("n.clin.m", "clinician", "maseru").await;
    let nurse = app.user("n.nurse.q", "nurse", "quthing").await;
    let planner = app.user("n.planner", "planner", "*").await;
    let p = new_patient(&app, "Quthing").await;
    let pid = p["id"].as_str().unwrap();
    let fast = json!({"vitals": [{"code": "8867-4", "value": 110, "unit": "/min"}]});
    let (status, set) = record(&app, &app.client, pid, &fast).await;
    assert_eq!(status, 201, "{set}");
    let (status, set) = record(&app, &app.client, pid, &CRITICAL_FEVER.parse().unwrap()).await;
    assert_eq!(status, 201, "{set}");
    let body = at_least(&app, &clinician, 2).await;
    let texts: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Critical temperature 41.2 Cel", "High heart rate 110 /min"]
    );
    assert_eq!(body["items"][1]["kind"], "abnormal_vital", "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for client in [&elsewhere, &nurse, &planner] {
        let body = page(&app, client, "").await;
        assert_eq!(body, json!({"items": [], "unread": 0, "next_cursor": null}));
    }
}

#[tokio::test]
async fn pages_come_newest_first_by_cursor_with_the_unread_count_and_bad_paging_is_named() {
    let app = spawn_app().await;
    let clinician = app.user("n.pager", "clinician", "quthing").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            stored(&app, "n.pager", &format!("reading {i}"))
                .await
                .to_string(),
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut query = "size=2".to_owned();
    loop {
        let body = page(&app, &clinician, &query).await;
        assert_eq!(body["unread"], 5, "{body}");
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => query = format!("size=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    for (query, field) in [
        ("size=0", "size"),
        ("size=101", "size"),
        ("cursor=abc", "cursor"),
        ("unread=maybe", "unread"),
    ] {
        let url = app.url(&format!("/api/v1/notifications?{query}"));
        let response = clinician.get(url).send().await.unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.unwrap();
        assert!(body.to_string().contains(field), "{query}: {body}");
    }
}

#[tokio::test]
async fn marking_one_and_then_all_read_lowers_the_unread_count_to_nothing() {
    let app = spawn_app().await;
    let clinician = app.user("n.reader", "clinician", "quthing").await;
    let first = stored(&app, "n.reader", "one").await;
    for text in ["two", "three"] {
        stored(&app, "n.reader", text).await;
    }
    let (status, body) = post(
        &app,
        &clinician,
        &format!("/api/v1/notifications/{first}/read"),
    )
    .await;
    assert_eq!((status, &body["unread"]), (200, &json!(2)), "{body}");
    assert!(body["notification"]["read_at"].is_string(), "{body}");
    let unread = page(&app, &clinician, "unread=true").await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 2, "{unread}");
    let (status, body) = post(&app, &clinician, "/api/v1/notifications/read-all").await;
    assert_eq!((status, body), (200, json!({"marked": 2, "unread": 0})));
    let all = page(&app, &clinician, "").await;
    assert_eq!(
        (all["items"].as_array().unwrap().len(), &all["unread"]),
        (3, &json!(0))
    );
    let (_, again) = post(&app, &clinician, "/api/v1/notifications/read-all").await;
    assert_eq!(again, json!({"marked": 0, "unread": 0}));
}

#[tokio::test]
async fn someone_elses_notification_is_404_and_stays_unread() {
    let app = spawn_app().await;
    let owner = app.user("n.owner", "clinician", "quthing").await;
    let other = app.user("n.other", "clinician", "quthing").await;
    let theirs = stored(&app, "n.owner", "theirs").await;
    let (status, body) = post(
        &app,
        &other,
        &format!("/api/v1/notifications/{theirs}/read"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(
        &app,
        &other,
        &format!("/api/v1/notifications/{}/read", Uuid::now_v7()),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(&app, &other, "/api/v1/notifications/not-an-id/read").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("id"), "{body}");
    let (_, all) = post(&app, &other, "/api/v1/notifications/read-all").await;
    assert_eq!(all["marked"], 0, "{all}");
    assert_eq!(page(&app, &owner, "").await["unread"], 1);
}

#[tokio::test]
async fn the_broadcast_carries_the_insert_and_the_read_with_the_unread_count() {
    let app = spawn_app().await;
    let clinician = app.user("n.pushed", "clinician", "quthing").await;
    let notices = Notices::default();
    let mut pushes = notices.subscribe();
    let listener = tokio::spawn(hmis::notices::listen(app.central().await, notices.clone()));
    // Its LISTEN is in place well within this.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let p = new_patient(&app, "Quthing").await;
    let pid = p["id"].as_str().unwrap();
    let (status, set) = record(&app, &app.client, pid, &CRITICAL_FEVER.parse().unwrap()).await;
    assert_eq!(status, 201, "{set}");
    let next = async |pushes: &mut tokio::sync::broadcast::Receiver<_>| {
        tokio::time::timeout(Duration::from_secs(10), pushes.recv())
            .await
            .expect("a push")
            .unwrap()
    };
    let (user, pushed): (std::sync::Arc<str>, Pushed) = next(&mut pushes).await;
    assert_eq!(&*user, "n.pushed");
    let Pushed::Created {
        notification,
        unread,
    } = pushed
    else {
        panic!("{pushed:?}");
    };
    assert_eq!(
        (notification.text.as_str(), unread),
        ("Critical temperature 41.2 Cel", 1)
    );
    let (status, _) = post(
        &app,
        &clinician,
        &format!("/api/v1/notifications/{}/read", notification.id),
    )
    .await;
    assert_eq!(status, 200);
    let (user, pushed) = next(&mut pushes).await;
    assert_eq!((&*user, pushed), ("n.pushed", Pushed::Read { unread: 0 }));
    listener.abort();
}
