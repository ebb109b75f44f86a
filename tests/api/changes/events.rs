//! What the triggers append: one event per changed row, with its kind, operation and
//! patient, whoever made the change, and never a name.

use super::{insert_patient, read_until, shards};
use crate::clinical::{new_patient, of, record};
use crate::helpers::{project_databases, spawn_app};
use hmis::changes::{self, Event, Op};
use serde_json::json;
use uuid::Uuid;

fn of_entity(events: &[Event], id: Uuid) -> Vec<(String, Op, Option<Uuid>)> {
    events
        .iter()
        .filter(|e| e.entity_id == id)
        .map(|e| (e.kind.clone(), e.op, e.patient_id))
        .collect()
}

#[tokio::test]
async fn a_direct_sql_update_as_from_pgadmin_appends_an_event() {
    let settings = project_databases().await;
    let shards = shards(&settings);
    let quthing = shards.get("quthing").unwrap();
    let db = sqlx::PgPool::connect(quthing.settings.database_url.expose())
        .await
        .unwrap();
    let id = insert_patient(&db, "Quthing").await;
    let mark = changes::head(quthing).await.unwrap();

    sqlx::query("UPDATE patients SET village = 'Ha Sekake' WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await
        .unwrap();

    let (events, _) = read_until(quthing, mark, |e| !e.is_empty()).await;
    assert_eq!(
        of_entity(&events, id),
        [("patient".to_owned(), Op::Update, Some(id))]
    );
    assert_eq!(events[0].region, "quthing");
}

#[tokio::test]
async fn a_patients_insert_update_and_delete_each_append_one_event_and_no_name() {
    let app = spawn_app().await;
    let shards = shards(&app.settings);
    let quthing = shards.get("quthing").unwrap();
    let mark = changes::head(quthing).await.unwrap();

    let p = app
        .create_patient(&crate::helpers::patient("Quthing"))
        .await;
    let id: Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let url = app.url(&format!("/api/v1/patients/{id}"));
    let patched = app.client.patch(&url).header("if-match", "\"1\"");
    let r = patched
        .json(&json!({"village": "Ha Sekake"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.client.delete(&url).send().await.unwrap().status(), 204);

    let (events, _) = read_until(quthing, mark, |e| e.len() >= 3).await;
    let patient = |op| ("patient".to_owned(), op, Some(id));
    assert_eq!(
        of_entity(&events, id),
        [
            patient(Op::Insert),
            patient(Op::Update),
            patient(Op::Delete)
        ]
    );
    let db = app.shard("quthing").await;
    let rows: Vec<String> = sqlx::query_scalar("SELECT to_jsonb(c)::text FROM change_log c")
        .fetch_all(&db)
        .await
        .unwrap();
    for name in [&p["given_name"], &p["family_name"], &p["hrn"]] {
        let name = name.as_str().unwrap();
        assert!(rows.iter().all(|r| !r.contains(name)), "{name} in {rows:?}");
    }
}

#[tokio::test]
async fn an_observations_insert_amendment_and_delete_each_append_one_event_of_its_patient() {
    let app = spawn_app().await;
    let shards = shards(&app.settings);
    let quthing = shards.get("quthing").unwrap();
    let p = new_patient(&app, "Quthing").await;
    let patient: Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let mark = changes::head(quthing).await.unwrap();

    let body = json!({"vitals": [{"code": "8310-5", "value": 36.8, "unit": "Cel"}]});
    let (status, set) = record(&app, &app.client, &patient.to_string(), &body).await;
    assert_eq!(status, 201, "{set}");
    let obs: Uuid = of(&set, "8310-5")["id"].as_str().unwrap().parse().unwrap();
    let amend = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{patient}/observations/{obs}")))
        .header("if-match", "\"1\"")
        .json(&json!({"value": 37.1, "reason": "misread"}))
        .send()
        .await
        .unwrap();
    assert_eq!(amend.status(), 200, "{}", amend.text().await.unwrap());
    // Observations are deleted only when their patient moves region.
    let db = app.shard("quthing").await;
    let mut tx = db.begin().await.unwrap();
    sqlx::query("SET LOCAL hmis.transfer = 'on'")
        .execute(&mut *tx)
        .await
        .unwrap();
    for table in [
        "observation_history WHERE observation_id",
        "observations WHERE id",
    ] {
        sqlx::query(&format!("DELETE FROM {table} = $1"))
            .bind(obs)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let (events, _) = read_until(quthing, mark, |e| of_entity(e, obs).len() >= 3).await;
    let observation = |op| ("observation".to_owned(), op, Some(patient));
    assert_eq!(
        of_entity(&events, obs),
        [
            observation(Op::Insert),
            observation(Op::Update),
            observation(Op::Delete)
        ]
    );
}

#[tokio::test]
async fn an_alerts_insert_and_acknowledgement_each_append_one_event_with_its_region_and_no_name() {
    let app = spawn_app().await;
    let shards = shards(&app.settings);
    let quthing = shards.get("quthing").unwrap();
    let p = new_patient(&app, "Quthing").await;
    let patient: Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let mark = changes::head(quthing).await.unwrap();

    // An oxygen saturation of 85 % is critical: the set raises an alert.
    let body = json!({"vitals": [{"code": "2708-6", "value": 85, "unit": "%"}]});
    let (status, set) = record(&app, &app.client, &patient.to_string(), &body).await;
    assert_eq!(status, 201, "{set}");
    let alert: Uuid = set["alerts"][0]["id"].as_str().unwrap().parse().unwrap();
    let (events, after_insert) =
        read_until(quthing, mark, |e| !of_entity(e, alert).is_empty()).await;
    let raised = events.iter().find(|e| e.entity_id == alert).unwrap();
    assert_eq!(raised.region, "quthing");

    let clinician = app.user("c.qut", "clinician", "quthing").await;
    let ack = clinician
        .post(app.url(&format!(
            "/api/v1/patients/{patient}/alerts/{alert}/acknowledge"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 200, "{}", ack.text().await.unwrap());
    let (later, _) = read_until(quthing, after_insert, |e| !of_entity(e, alert).is_empty()).await;

    let alert_event = |op| ("alert".to_owned(), op, Some(patient));
    assert_eq!(of_entity(&events, alert), [alert_event(Op::Insert)]);
    assert_eq!(of_entity(&later, alert), [alert_event(Op::Update)]);
    assert!(later.iter().all(|e| e.region == "quthing"));
    let db = app.shard("quthing").await;
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT to_jsonb(c)::text FROM change_log c WHERE entity_id = $1")
            .bind(alert)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for name in [
        &p["given_name"],
        &p["family_name"],
        &p["hrn"],
        &json!("c.qut"),
    ] {
        let name = name.as_str().unwrap();
        assert!(rows.iter().all(|r| !r.contains(name)), "{name} in {rows:?}");
    }
}
