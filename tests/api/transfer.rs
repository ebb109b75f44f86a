//! Patient transfer: everything moves, exactly once, whatever dies on the way.

use crate::clinical::{new_patient, of, record};
use crate::helpers::{
    TestApp, hmis_cli, launch, project_databases, region_on_own_cluster, spawn_app,
};
use hmis::transfer::{self, POINTS, Point, Transfer};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A Quthing patient with vitals (one critical, one amended) and reads on record.
async fn patient_with_history(app: &TestApp) -> Value {
    let p = new_patient(app, "Quthing").await;
    let id = p["id"].as_str().unwrap();
    let (_, set) = record(app, &app.client, id, &json!({"vitals": [
        {"code": "2708-6", "value": 85, "unit": "%"}, {"code": "8867-4", "value": 80, "unit": "/min"}]})).await;
    let obs = of(&set, "8867-4")["id"].as_str().unwrap().to_owned();
    let amend = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{id}/observations/{obs}")))
        .header("if-match", "\"1\"")
        .json(&json!({"value": 82, "reason": "recounted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(amend.status(), 200);
    app.get_json(&format!("/api/v1/patients/{id}")).await;
    p
}

/// Rows of the patient per table and region, straight from the shards.
async fn rows(app: &TestApp, id: &str) -> BTreeMap<(String, &'static str), i64> {
    let id: uuid::Uuid = id.parse().unwrap();
    let mut out = BTreeMap::new();
    for region in ["quthing", "maseru"] {
        let pool = app.shard(region).await;
        for (table, filter) in [
            ("patients", "id = $1"),
            ("observations", "patient_id = $1"),
            (
                "observation_history",
                "observation_id IN (SELECT id FROM observations WHERE patient_id = $1)",
            ),
            ("alerts", "patient_id = $1"),
        ] {
            let (n,): (i64,) =
                sqlx::query_as(&format!("SELECT count(*) FROM {table} WHERE {filter}"))
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            out.insert((region.to_owned(), table), n);
        }
        pool.close().await;
    }
    out
}

fn only_in_maseru(rows: &BTreeMap<(String, &'static str), i64>) -> bool {
    rows.iter()
        .all(|((region, table), n)| match (region.as_str(), *table) {
            ("quthing", _) => *n == 0,
            (_, "patients" | "observation_history" | "alerts") => *n == 1,
            (_, "observations") => *n == 2,
            _ => false,
        })
}

#[tokio::test]
async fn a_transferred_patient_moves_with_every_record_and_keeps_its_id_and_number() {
    let app = spawn_app().await;
    let p = patient_with_history(&app).await;
    let id = p["id"].as_str().unwrap();
    let r = transfer_as(
        &app,
        &app.client,
        id,
        json!({"district": "Berea", "reason": "moved to Berea"}),
    )
    .await;
    let status = r.status();
    let t: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (t["state"].as_str(), t["to_region"].as_str()),
        (Some("done"), Some("maseru"))
    );
    assert!(
        only_in_maseru(&rows(&app, id).await),
        "{:?}",
        rows(&app, id).await
    );
    let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(
        (read["region"].as_str(), read["district"].as_str()),
        (Some("maseru"), Some("Berea"))
    );
    assert_eq!(read["hrn"], p["hrn"]);
    let (_, found) = app
        .get_json(&format!(
            "/api/v1/patients?hrn={}",
            p["hrn"].as_str().unwrap()
        ))
        .await;
    assert_eq!(found["items"][0]["id"].as_str(), Some(id), "{found}");
    let (_, summary) = app
        .get_json(&format!("/api/v1/patients/{id}/summary"))
        .await;
    assert_eq!(
        (
            summary["counts"]["observations"].as_i64(),
            summary["alerts"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    // Observations go on landing with their patient: in the new region now.
    let (status, set) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
    )
    .await;
    assert_eq!((status, set["region"].as_str()), (201, Some("maseru")));
    let maseru = app.shard("maseru").await;
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE object_id = $1")
            .bind(id.parse::<uuid::Uuid>().unwrap())
            .fetch_all(&maseru)
            .await
            .unwrap();
    let actions: Vec<String> = actions.into_iter().map(|a| a.0).collect();
    assert!(
        actions.iter().any(|a| a == "create"),
        "the trail moved with the patient: {actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("transfer in")),
        "{actions:?}"
    );
    let quthing = app.shard("quthing").await;
    let (out,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_log WHERE object_id = $1 AND action LIKE 'transfer out%'",
    )
    .bind(id.parse::<uuid::Uuid>().unwrap())
    .fetch_one(&quthing)
    .await
    .unwrap();
    assert_eq!(out, 1, "the move is audited in both regions");
}

#[tokio::test]
async fn a_transfer_is_refused_for_a_district_of_the_same_region_or_without_the_right() {
    let app = spawn_app().await;
    let p = new_patient(&app, "Quthing").await;
    let id = p["id"].as_str().unwrap();
    let r = transfer_as(&app, &app.client, id, json!({"district": "Quthing"})).await;
    assert_eq!(r.status(), 409);
    let clerk = app.user("c.q", "records_clerk", "quthing").await;
    let r = transfer_as(&app, &clerk, id, json!({"district": "Berea"})).await;
    assert_eq!(
        r.status(),
        403,
        "a clerk of Quthing alone may not create in Maseru"
    );
    let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(read["region"], "quthing");
}

/// The journal row the API would write, for driving the steps by hand.
async fn journaled(app: &TestApp, p: &Value) -> Transfer {
    let t = Transfer {
        id: uuid::Uuid::now_v7(),
        patient_id: p["id"].as_str().unwrap().parse().unwrap(),
        hrn: p["hrn"].as_str().unwrap().into(),
        from_region: "quthing".into(),
        to_region: "maseru".into(),
        district: "Berea".into(),
        state: transfer::State::Started,
        reason: None,
        requested_by: "fault-test".into(),
        last_error: None,
    };
    let central = app.central().await;
    assert!(transfer::journal::insert(&central, &t).await.unwrap());
    t
}

#[tokio::test]
async fn whatever_step_a_crash_stops_a_transfer_at_every_row_ends_up_exactly_once_in_the_new_region()
 {
    let app = spawn_app().await;
    let engine = hmis::app::App::new(app.settings.clone()).await.unwrap();
    for point in POINTS {
        let p = patient_with_history(&app).await;
        let mut t = journaled(&app, &p).await;
        if point != Point::Journaled {
            let crash = move |at: Point| {
                if at == point {
                    Err(format!("crash at {at:?}"))
                } else {
                    Ok(())
                }
            };
            let stopped = transfer::drive(&engine.transfers(), &mut t, &crash).await;
            assert!(stopped.is_err(), "{point:?}");
        }
        // hmis restarts: a fresh process finishes what the journal says is unfinished.
        let restarted = hmis::app::App::new(app.settings.clone()).await.unwrap();
        assert_eq!(
            transfer::resume_all(&restarted.transfers()).await,
            0,
            "{point:?}"
        );
        let id = p["id"].as_str().unwrap();
        let counts = rows(&app, id).await;
        assert!(only_in_maseru(&counts), "{point:?}: {counts:?}");
        let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
        assert_eq!(read["district"], "Berea", "{point:?}");
    }
}

#[tokio::test]
async fn a_transfer_whose_connections_are_killed_at_any_step_is_finished_by_the_resumer() {
    let app = spawn_app().await;
    let engine = hmis::app::App::new(app.settings.clone()).await.unwrap();
    let urls: Vec<String> = ["quthing", "maseru"]
        .iter()
        .map(|r| {
            app.settings
                .region(r)
                .unwrap()
                .database_url
                .expose()
                .to_owned()
        })
        .collect();
    for point in POINTS.into_iter().skip(1) {
        let p = patient_with_history(&app).await;
        let mut t = journaled(&app, &p).await;
        let kill = |at: Point| {
            if at == point {
                // Every connection hmis holds to both regions dies, as in a network cut.
                for url in &urls {
                    let url = url.clone();
                    std::thread::spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                        rt.block_on(async {
                            let pool = sqlx::PgPool::connect(&url).await.unwrap();
                            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
                                .execute(&pool).await.unwrap();
                        })
                    }).join().unwrap();
                }
            }
            Ok(())
        };
        let _ = transfer::drive(&engine.transfers(), &mut t, &kill).await;
        for _ in 0..3 {
            if transfer::resume_all(&engine.transfers()).await == 0 {
                break;
            }
        }
        let counts = rows(&app, p["id"].as_str().unwrap()).await;
        assert!(only_in_maseru(&counts), "{point:?}: {counts:?}");
    }
}

#[tokio::test]
async fn a_transfer_to_a_region_that_is_down_waits_frozen_and_finishes_when_it_is_back() {
    let mut settings = project_databases().await;
    let mut maseru = region_on_own_cluster(&mut settings, "maseru").await;
    let app = launch(settings).await;
    let p = patient_with_history(&app).await;
    let id = p["id"].as_str().unwrap();
    maseru.kill().unwrap();
    let r = transfer_as(&app, &app.client, id, json!({"district": "Berea"})).await;
    assert_eq!(r.status(), 503);
    let (status, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(
        (status, read["region"].as_str()),
        (200, Some("quthing")),
        "still readable where it was"
    );
    let (status, problem) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
    )
    .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:transfer-in-progress"))
    );
    let (_, ready) = app.get_json("/readyz").await;
    assert_eq!(ready["transfers_unfinished"], 1, "{ready}");
    let listed = hmis_cli(&app.settings, &["transfers"]).await;
    assert_eq!(
        listed.status.code(),
        Some(2),
        "operators see it: {listed:?}"
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains(id));
    tokio::task::spawn_blocking(move || {
        maseru.start().unwrap();
        maseru
    })
    .await
    .unwrap();
    let resumed = hmis_cli(&app.settings, &["transfers", "--resume"]).await;
    assert_eq!(resumed.status.code(), Some(0), "{resumed:?}");
    assert!(only_in_maseru(&rows(&app, id).await));
}

#[tokio::test]
async fn every_shard_table_either_moves_with_its_patient_or_holds_no_patient_data() {
    let app = spawn_app().await;
    let pool = app.shard("quthing").await;
    let tables: Vec<(String,)> = sqlx::query_as("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        .fetch_all(&pool).await.unwrap();
    for (table,) in tables {
        let known = transfer::TABLES.iter().any(|t| t.name == table)
            || transfer::NOT_PATIENT_DATA.contains(&table.as_str());
        assert!(
            known,
            "table {table}: add it to transfer::TABLES (or NOT_PATIENT_DATA)"
        );
    }
}

/// Asks to move a patient with history to Maseru, which already holds a record with
/// their health record number, so that its database refuses the copy.
async fn transfer_maseru_refuses(app: &TestApp) -> (String, u16, Value) {
    let p = patient_with_history(app).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let maseru = app.shard("maseru").await;
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district, hrn)
         VALUES (gen_random_uuid(), 'Other', 'Person', 'male', '1970-01-01', 'Berea', $1)",
    )
    .bind(p["hrn"].as_str().unwrap())
    .execute(&maseru)
    .await
    .unwrap();
    let r = transfer_as(app, &app.client, &id, json!({"district": "Berea"})).await;
    let status = r.status().as_u16();
    (id, status, r.json().await.unwrap())
}

#[tokio::test]
async fn a_copy_the_new_region_refuses_rolls_the_transfer_back_and_unfreezes_the_record() {
    let app = spawn_app().await;
    let (id, status, problem) = transfer_maseru_refuses(&app).await;
    let id = id.as_str();
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("urn:hmis:problem:transfer-rolled-back")),
        "{problem}"
    );
    let (_, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(read["region"], "quthing");
    let (status, _) = record(
        &app,
        &app.client,
        id,
        &json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}),
    )
    .await;
    assert_eq!(status, 201, "writable again where it was");
    let central = app.central().await;
    let (state,): (String,) = sqlx::query_as("SELECT state FROM transfers WHERE patient_id = $1")
        .bind(id.parse::<uuid::Uuid>().unwrap())
        .fetch_one(&central)
        .await
        .unwrap();
    assert_eq!(state, "rolled_back");
}

#[tokio::test]
async fn a_refused_transfer_tells_the_region_and_the_reason_word_but_no_postgresql_text() {
    let app = spawn_app().await;
    let (_, status, problem) = transfer_maseru_refuses(&app).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["detail"],
        "the transfer was rolled back: region maseru (error); nothing moved"
    );
    let body = problem.to_string().to_lowercase();
    for said in [
        "duplicate",
        "constraint",
        "sqlstate",
        "database error",
        "patients_hrn",
    ] {
        assert!(
            !body.contains(said),
            "{said:?} reached the client: {problem}"
        );
    }
}

#[tokio::test]
async fn a_patient_half_way_through_a_transfer_is_listed_once_across_regions() {
    let app = spawn_app().await;
    let engine = hmis::app::App::new(app.settings.clone()).await.unwrap();
    let p = patient_with_history(&app).await;
    let id = p["id"].as_str().unwrap();
    for (stop, region) in [(Point::Copied, "quthing"), (Point::Switched, "maseru")] {
        let mut t = journaled(&app, &p).await;
        let crash = move |at: Point| {
            if at == stop {
                Err("crash".to_owned())
            } else {
                Ok(())
            }
        };
        assert!(
            transfer::drive(&engine.transfers(), &mut t, &crash)
                .await
                .is_err()
        );
        // Both regions hold a copy now; the list shows the one reads by ID reach.
        let mut page = listed(&app, &p).await;
        for _ in 0..50 {
            let ours: Vec<&Value> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["id"] == id)
                .collect();
            if ours.len() == 1 && ours[0]["region"] == region {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            page = listed(&app, &p).await;
        }
        let ours: Vec<&Value> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["id"] == id)
            .collect();
        assert_eq!(ours.len(), 1, "{stop:?}: {page}");
        assert_eq!(ours[0]["region"], region, "{stop:?}");
        transfer::resume_all(&engine.transfers()).await;
        if stop == Point::Copied {
            // Back to where it was, for the second round: undo by moving it home again.
            let r = transfer_as(&app, &app.client, id, json!({"district": "Quthing"})).await;
            assert_eq!(r.status(), 200);
        }
    }
}

/// Every region's patients with the family name of `p`, as the admin lists them.
async fn listed(app: &TestApp, p: &Value) -> Value {
    let path = format!("/api/v1/patients?q={}", p["family_name"].as_str().unwrap());
    app.get_json(&path).await.1
}

/// Asks `client` to transfer patient `id`.
async fn transfer_as(
    app: &TestApp,
    client: &reqwest::Client,
    id: &str,
    body: Value,
) -> reqwest::Response {
    let path = format!("/api/v1/patients/{id}/transfer");
    client
        .post(app.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap()
}
