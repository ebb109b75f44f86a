//! The notifications the shards' triggers send decode into hmis's one vocabulary
//! (`hmis::domain::notify`), which the real-time layer builds on.

use super::{new_patient, of, record};
use crate::helpers::spawn_app;
use hmis::domain::notify::{self, Note};
use serde_json::json;

#[tokio::test]
async fn the_alert_triggers_payload_decodes_into_an_alert_note_naming_the_reading() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Mafeteng").await;
    let mut listener = super::events_of(&app, "mafeteng").await;
    let id = p["id"].as_str().unwrap();
    let body = json!({"vitals": [{"code": "2708-6", "value": 85, "unit": "%"}]});
    let (status, set) = record(&app, &app.client, id, &body).await;
    assert_eq!(status, 201, "{set}");
    let note = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification")
        .unwrap();
    let decoded = notify::decode(note.payload());
    let Ok(Note::Alert(alert)) = decoded else {
        panic!("{decoded:?}: {}", note.payload());
    };
    assert_eq!(alert.region, "mafeteng");
    assert_eq!(alert.patient_id.to_string(), id);
    assert_eq!(
        alert.alert_id.to_string(),
        set["alerts"][0]["id"].as_str().unwrap()
    );
    let reading = of(&set, "2708-6");
    assert_eq!(
        alert.observation_id.to_string(),
        reading["id"].as_str().unwrap()
    );
    assert_eq!(
        (alert.code.as_str(), alert.value, alert.unit.as_str()),
        ("2708-6", 85.0, "%")
    );
    assert!(alert.reason.contains("90"), "{}", alert.reason);
    assert!((chrono::Utc::now() - alert.raised_at).num_seconds().abs() < 60);
}
