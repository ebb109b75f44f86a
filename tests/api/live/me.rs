//! `user:me`: a clinician's own notifications arrive on her socket as they are created,
//! and reading them on another device pushes the new unread count (the badge). On the
//! long-poll they are read by position (carried in the cursor): one created while a poll
//! waits wakes it, one created while nobody polls comes with the next poll from the
//! earlier cursor, and none comes twice.

use super::connect;
use super::longpoll::poll_as;
use super::subscriptions::{next_event, subscribe};
use crate::clinical::{new_patient, record};
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CRITICAL_FEVER: &str = r#"{"vitals": [{"code": "8310-5", "value": 41.2, "unit": "Cel"}]}"#;

#[tokio::test]
async fn a_clinician_following_user_me_is_pushed_her_notification_and_the_badge_after_reading() {
    let app = spawn_app().await;
    let browser = app.user("me.clin", "clinician", "quthing").await;
    let mut ws = connect(&app, &app.login("me.clin", PASSWORD).await).await;
    assert!(subscribe(&mut ws, &["user:me"], None).await.is_empty());

    let p = new_patient(&app, "Quthing").await;
    let pid = p["id"].as_str().unwrap();
    let fever: Value = CRITICAL_FEVER.parse().unwrap();
    let (status, set) = record(&app, &app.client, pid, &fever).await;
    assert_eq!(status, 201, "{set}");

    let pushed = next_event(&mut ws).await;
    assert_eq!(pushed["topic"], "user:me", "{pushed}");
    assert_eq!(pushed["kind"], "notification", "{pushed}");
    assert_eq!(pushed["data"]["unread"], 1, "{pushed}");
    let notification = &pushed["data"]["notification"];
    assert_eq!(notification["text"], "Critical temperature 41.2 Cel");
    assert_eq!(notification["patient_id"], pid);

    // Read on another device (her browser session): this socket's badge follows.
    let read = browser
        .post(app.url("/api/v1/notifications/read-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let pushed = next_event(&mut ws).await;
    assert_eq!(pushed["kind"], "notifications_read", "{pushed}");
    assert_eq!(pushed["data"]["unread"], 0, "{pushed}");
}

/// Records a critical fever for a new Quthing patient: its clinicians get a notification.
async fn critical_fever(app: &TestApp) -> String {
    let p = new_patient(app, "Quthing").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let fever: Value = CRITICAL_FEVER.parse().unwrap();
    let (status, set) = record(app, &app.client, &pid, &fever).await;
    assert_eq!(status, 201, "{set}");
    pid
}

#[tokio::test]
async fn a_long_poll_on_user_me_is_woken_by_a_notification_created_while_it_waits() {
    let app = spawn_app().await;
    let clinician = app.user("lp.clin", "clinician", "quthing").await;
    let waiting = {
        let (app_url, client) = (app.url("/api/v1/events"), clinician.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let r = client
                .get(app_url)
                .query(&[("topics", "user:me")])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let pid = critical_fever(&app).await;
    let (status, body, took) = waiting.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["topic"], "user:me", "{body}");
    assert_eq!(events[0]["kind"], "notification", "{body}");
    assert_eq!(events[0]["data"]["unread"], 1, "{body}");
    assert_eq!(
        events[0]["data"]["notification"]["patient_id"],
        pid.as_str()
    );
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(15),
        "answered after {took:?}: it must wait for the notification, not for 25 s"
    );
}

#[tokio::test]
async fn a_notification_made_while_nobody_polls_comes_with_the_next_poll_from_the_earlier_cursor_once()
 {
    let app = spawn_app_with(|s| s.file.live.long_poll_seconds = 1).await;
    let clinician = app.user("lp.later", "clinician", "quthing").await;
    // Fetch the list, then follow from its cursor.
    let r = clinician
        .get(app.url("/api/v1/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cursor = r.headers()["x-hmis-cursor"].to_str().unwrap().to_owned();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"], json!([]), "{page}");

    let pid = critical_fever(&app).await;
    // Nobody polls meanwhile: wait until it is stored.
    let started = Instant::now();
    loop {
        let page: Value = clinician
            .get(app.url("/api/v1/notifications"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["unread"] == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // (A transaction elsewhere on the cluster may hold the horizon back a moment.)
    let (events, after) = poll_me_for(&app, &clinician, &cursor).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "notification", "{events:?}");
    assert_eq!(
        events[0]["data"]["notification"]["patient_id"],
        pid.as_str()
    );

    // Nothing repeated from the answer's cursor.
    let (status, rest) = poll_as(&app, &clinician, "user:me", Some(&after)).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["events"], json!([]), "{rest}");

    // Reading them (on another device) comes as the badge, from that cursor.
    let read = clinician
        .post(app.url("/api/v1/notifications/read-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let (events, _) = poll_me_for(&app, &clinician, &after).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "notifications_read", "{events:?}");
    assert_eq!(events[0]["data"]["unread"], 0, "{events:?}");
}

/// Long-polls `user:me` from `cursor` until an answer has events (or 20 s passed).
async fn poll_me_for(
    app: &TestApp,
    client: &reqwest::Client,
    cursor: &str,
) -> (Vec<Value>, String) {
    let started = Instant::now();
    let mut cursor = cursor.to_owned();
    loop {
        let (status, body) = poll_as(app, client, "user:me", Some(&cursor)).await;
        assert_eq!(status, 200, "{body}");
        cursor = body["cursor"].as_str().unwrap().to_owned();
        let events = body["events"].as_array().unwrap().clone();
        if !events.is_empty() || started.elapsed() > Duration::from_secs(20) {
            return (events, cursor);
        }
    }
}
