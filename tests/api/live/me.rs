//! `user:me`: a clinician's own notifications arrive on her socket as they are created,
//! and reading them on another device pushes the new unread count (the badge).

use super::connect;
use super::subscriptions::{next_event, subscribe};
use crate::clinical::{new_patient, record};
use crate::helpers::{PASSWORD, spawn_app};
use serde_json::Value;

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
