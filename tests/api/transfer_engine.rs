//! The transfer engine on its own, without HTTP: a `transfer::Ctx` built from a test's
//! databases, the steps driven by hand with fault points, and every table, the journal,
//! the forwarding and the audit trail read back with SQL.

use crate::helpers::project_databases;
use hmis::config::Settings;
use hmis::shards::Shards;
use hmis::transfer::{self, Ctx, Forwarding, POINTS, Point, State, Transfer, TransferError};
use sqlx::PgPool;
use uuid::Uuid;

/// What one hmis process holds: a restart is a new `Process` on the same databases.
struct Process {
    shards: Shards,
    central: PgPool,
    forwarding: Forwarding,
}

impl Process {
    async fn start(settings: &Settings) -> Process {
        let central = PgPool::connect(settings.file.central.url.expose());
        Process {
            shards: Shards::new(settings).unwrap(),
            central: central.await.unwrap(),
            forwarding: Forwarding::default(),
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            shards: &self.shards,
            central: &self.central,
            forwarding: &self.forwarding,
        }
    }
}

async fn region(settings: &Settings, name: &str) -> PgPool {
    let url = settings
        .region(name)
        .unwrap()
        .database_url
        .expose()
        .to_owned();
    PgPool::connect(&url).await.unwrap()
}

/// A Quthing patient with a critical heart rate (so an alert), amended once (so a
/// history row), and one read on the audit trail. Returns the patient's ID and number.
async fn patient_in_quthing(settings: &Settings) -> (Uuid, String) {
    let quthing = region(settings, "quthing").await;
    let id = Uuid::now_v7();
    let (hrn,): (String,) = sqlx::query_as(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district)
         VALUES ($1, 'Lineo', 'Mokoena', 'female', '1990-01-01', 'Quthing') RETURNING hrn",
    )
    .bind(id)
    .fetch_one(&quthing)
    .await
    .unwrap();
    let obs = Uuid::now_v7();
    for sql in [
        "INSERT INTO observations (id, patient_id, set_id, code, value, unit, entered_value,
             entered_unit, flag, taken_at, recorded_by)
         VALUES ($2, $1, gen_random_uuid(), '8867-4', 180, '/min', 180, '/min', 'critical',
             now(), 'nurse')",
        "INSERT INTO alerts (id, patient_id, observation_id, code, value, unit, reason)
         VALUES (gen_random_uuid(), $1, $2, '8867-4', 180, '/min', 'heart rate above 150')",
        "UPDATE observations SET value = 178, entered_value = 178, status = 'amended'
         WHERE id = $2 AND patient_id = $1",
        "INSERT INTO audit_log (actor, roles, action, object_kind, object_id, region, outcome)
         VALUES ('nurse', 'nurse', 'read', 'patient', $1, 'quthing', 'ok')",
    ] {
        sqlx::query(sql)
            .bind(id)
            .bind(obs)
            .execute(&quthing)
            .await
            .unwrap();
    }
    quthing.close().await;
    (id, hrn)
}

/// The journal row the API would write, to `to_region`.
async fn journaled(p: &Process, (id, hrn): &(Uuid, String), to_region: &str) -> Transfer {
    let t = Transfer {
        id: Uuid::now_v7(),
        patient_id: *id,
        hrn: hrn.clone(),
        from_region: "quthing".into(),
        to_region: to_region.into(),
        district: "Berea".into(),
        state: State::Started,
        reason: None,
        requested_by: "engine-test".into(),
        last_error: None,
    };
    assert!(transfer::journal::insert(&p.central, &t).await.unwrap());
    t
}

/// Rows of the patient per table in `region`: patients, observations, observation
/// history, alerts, audit lines other than the engine's, `transfer in`, `transfer out`.
async fn rows(settings: &Settings, name: &str, id: Uuid) -> [i64; 7] {
    let pool = region(settings, name).await;
    let sql = "SELECT (SELECT count(*) FROM patients WHERE id = $1),
        (SELECT count(*) FROM observations WHERE patient_id = $1),
        (SELECT count(*) FROM observation_history h JOIN observations o ON o.id = h.observation_id
            WHERE o.patient_id = $1),
        (SELECT count(*) FROM alerts WHERE patient_id = $1),
        (SELECT count(*) FROM audit_log WHERE object_id = $1 AND action NOT LIKE 'transfer %'),
        (SELECT count(*) FROM audit_log WHERE object_id = $1
            AND action = 'transfer in (quthing to maseru)'),
        (SELECT count(*) FROM audit_log WHERE object_id = $1
            AND action = 'transfer out (quthing to maseru)')";
    let r: (i64, i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(sql).bind(id).fetch_one(&pool).await.unwrap();
    pool.close().await;
    [r.0, r.1, r.2, r.3, r.4, r.5, r.6]
}

/// Everything, once, in Maseru; in Quthing only its audit trail, which stays.
const MOVED: ([i64; 7], [i64; 7]) = ([0, 0, 0, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1, 0]);
/// Nothing moved.
const UNMOVED: ([i64; 7], [i64; 7]) = ([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0]);

async fn where_rows_are(settings: &Settings, id: Uuid) -> ([i64; 7], [i64; 7]) {
    (
        rows(settings, "quthing", id).await,
        rows(settings, "maseru", id).await,
    )
}

/// The journal's state and last error of transfer `id`.
async fn journal_row(p: &Process, id: Uuid) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, last_error FROM transfers WHERE id = $1")
        .bind(id)
        .fetch_one(&p.central)
        .await
        .unwrap()
}

/// The source record's freeze (`transfer_id`), if the source still has the record.
async fn frozen_by(settings: &Settings, id: Uuid) -> Option<Option<Uuid>> {
    let quthing = region(settings, "quthing").await;
    let row: Option<(Option<Uuid>,)> =
        sqlx::query_as("SELECT transfer_id FROM patients WHERE id = $1")
            .bind(id)
            .fetch_optional(&quthing)
            .await
            .unwrap();
    quthing.close().await;
    row.map(|r| r.0)
}

/// Where the central forwarding table, and a process that reloads it, send the patient.
async fn forwarded_to(p: &Process, id: Uuid, hrn: &str) -> (Option<String>, Option<String>) {
    let fresh = Forwarding::default();
    fresh.reload(&p.central).await.unwrap();
    assert_eq!(
        fresh.region_of(&id),
        fresh.region_of_hrn(hrn),
        "by ID and by number"
    );
    let row: Option<(String,)> =
        sqlx::query_as("SELECT region FROM patient_forwarding WHERE patient_id = $1")
            .bind(id)
            .fetch_optional(&p.central)
            .await
            .unwrap();
    (row.map(|r| r.0), fresh.region_of(&id))
}

#[tokio::test]
async fn a_clean_run_moves_every_row_once_forwards_the_patient_and_audits_both_sides() {
    let settings = project_databases().await;
    let p = Process::start(&settings).await;
    let patient = patient_in_quthing(&settings).await;
    let (id, hrn) = (patient.0, patient.1.clone());
    let mut t = journaled(&p, &patient, "maseru").await;
    transfer::drive(&p.ctx(), &mut t, &transfer::no_faults)
        .await
        .unwrap();
    assert_eq!(t.state, State::Done);
    assert_eq!(where_rows_are(&settings, id).await, MOVED);
    assert_eq!(journal_row(&p, t.id).await, ("done".to_owned(), None));
    assert_eq!(p.forwarding.region_of(&id).as_deref(), Some("maseru"));
    assert_eq!(p.forwarding.region_of_hrn(&hrn).as_deref(), Some("maseru"));
    let maseru = Some("maseru".to_owned());
    assert_eq!(forwarded_to(&p, id, &hrn).await, (maseru.clone(), maseru));
    let target = region(&settings, "maseru").await;
    let (district, frozen): (String, Option<Uuid>) =
        sqlx::query_as("SELECT district, transfer_id FROM patients WHERE id = $1")
            .bind(id)
            .fetch_one(&target)
            .await
            .unwrap();
    assert_eq!((district.as_str(), frozen), ("Berea", None));
    assert_eq!(
        transfer::resume_all(&p.ctx()).await,
        0,
        "nothing left to do"
    );
}

/// What the journal, the source's freeze and the forwarding say after a crash at `point`.
fn after_crash_at(point: Point, t: Uuid) -> (&'static str, Option<Option<Uuid>>, bool) {
    match point {
        Point::Journaled => ("started", Some(None), false),
        Point::Frozen | Point::Copied => ("started", Some(Some(t)), false),
        Point::CopyRecorded => ("copied", Some(Some(t)), false),
        Point::Switched => ("switched", Some(Some(t)), true),
        Point::SourceDeleted => ("switched", None, true),
    }
}

#[tokio::test]
async fn a_crash_at_any_point_is_finished_by_a_restarted_process_with_every_row_once_in_the_new_region()
 {
    let settings = project_databases().await;
    for point in POINTS {
        let crashed = Process::start(&settings).await;
        let patient = patient_in_quthing(&settings).await;
        let (id, hrn) = (patient.0, patient.1.clone());
        let mut t = journaled(&crashed, &patient, "maseru").await;
        if point != Point::Journaled {
            let crash = move |at: Point| {
                if at == point {
                    Err(format!("crash at {at:?}"))
                } else {
                    Ok(())
                }
            };
            let stopped = transfer::drive(&crashed.ctx(), &mut t, &crash).await;
            assert!(
                matches!(stopped, Err(TransferError::Stopped(_))),
                "{point:?}: {stopped:?}"
            );
        }
        let (state, frozen, forwarded) = after_crash_at(point, t.id);
        assert_eq!(journal_row(&crashed, t.id).await.0, state, "{point:?}");
        assert_eq!(frozen_by(&settings, id).await, frozen, "{point:?}");
        let central = forwarded_to(&crashed, id, &hrn).await.0;
        assert_eq!(central.is_some(), forwarded, "{point:?}");
        drop(crashed);

        let restarted = Process::start(&settings).await;
        assert_eq!(transfer::resume_all(&restarted.ctx()).await, 0, "{point:?}");
        assert_eq!(where_rows_are(&settings, id).await, MOVED, "{point:?}");
        assert_eq!(
            journal_row(&restarted, t.id).await,
            ("done".to_owned(), None),
            "{point:?}"
        );
        let maseru = Some("maseru".to_owned());
        assert_eq!(
            forwarded_to(&restarted, id, &hrn).await,
            (maseru.clone(), maseru),
            "{point:?}"
        );
    }
}

#[tokio::test]
async fn a_copy_the_target_refuses_is_rolled_back_and_the_source_unfrozen_with_nothing_moved() {
    let settings = project_databases().await;
    let p = Process::start(&settings).await;
    let patient = patient_in_quthing(&settings).await;
    let (id, hrn) = (patient.0, patient.1.clone());
    // Maseru holds another record with this health record number: the copy must fail.
    let maseru = region(&settings, "maseru").await;
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district, hrn)
         VALUES (gen_random_uuid(), 'Other', 'Person', 'male', '1970-01-01', 'Berea', $1)",
    )
    .bind(&hrn)
    .execute(&maseru)
    .await
    .unwrap();
    let mut t = journaled(&p, &patient, "maseru").await;
    let refused = transfer::drive(&p.ctx(), &mut t, &transfer::no_faults).await;
    assert!(
        matches!(refused, Err(TransferError::RolledBack(_))),
        "{refused:?}"
    );
    assert_eq!(t.state, State::RolledBack);
    assert_eq!(where_rows_are(&settings, id).await, UNMOVED);
    let (state, error) = journal_row(&p, t.id).await;
    assert_eq!(state, "rolled_back");
    assert!(
        error.is_some_and(|e| e.contains("maseru")),
        "the reason is journaled"
    );
    assert_eq!(frozen_by(&settings, id).await, Some(None), "writable again");
    assert_eq!(forwarded_to(&p, id, &hrn).await, (None, None));
    assert_eq!(p.forwarding.region_of(&id), None);
    assert_eq!(
        transfer::resume_all(&p.ctx()).await,
        0,
        "a rollback is finished"
    );
}

#[tokio::test]
async fn a_transfer_to_a_region_no_longer_configured_is_rolled_back_and_the_source_unfrozen() {
    let settings = project_databases().await;
    let p = Process::start(&settings).await;
    let patient = patient_in_quthing(&settings).await;
    let (id, hrn) = (patient.0, patient.1.clone());
    let mut t = journaled(&p, &patient, "atlantis").await;
    let refused = transfer::drive(&p.ctx(), &mut t, &transfer::no_faults).await;
    assert!(
        matches!(refused, Err(TransferError::RolledBack(_))),
        "{refused:?}"
    );
    let (state, error) = journal_row(&p, t.id).await;
    assert_eq!(state, "rolled_back");
    assert_eq!(
        error.as_deref(),
        Some("region atlantis is no longer configured")
    );
    assert_eq!(where_rows_are(&settings, id).await, UNMOVED);
    assert_eq!(frozen_by(&settings, id).await, Some(None), "writable again");
    assert_eq!(forwarded_to(&p, id, &hrn).await, (None, None));
}

#[tokio::test]
async fn a_copied_transfer_whose_target_is_no_longer_configured_waits_unfinished_and_unswitched() {
    let settings = project_databases().await;
    let p = Process::start(&settings).await;
    let patient = patient_in_quthing(&settings).await;
    let (id, hrn) = (patient.0, patient.1.clone());
    let mut t = journaled(&p, &patient, "maseru").await;
    let crash = |at: Point| match at {
        Point::CopyRecorded => Err("crash".to_owned()),
        _ => Ok(()),
    };
    assert!(transfer::drive(&p.ctx(), &mut t, &crash).await.is_err());
    // hmis restarts with Maseru taken out of its regions.
    let mut without = settings.clone();
    without.regions.retain(|r| r.name != "maseru");
    let restarted = Process::start(&without).await;
    assert_eq!(
        transfer::resume_all(&restarted.ctx()).await,
        1,
        "still unfinished"
    );
    let (state, error) = journal_row(&p, t.id).await;
    assert_eq!(state, "copied");
    assert_eq!(
        error.as_deref(),
        Some("region maseru is no longer configured")
    );
    assert_eq!(
        forwarded_to(&p, id, &hrn).await,
        (None, None),
        "not forwarded"
    );
    assert_eq!(
        frozen_by(&settings, id).await,
        Some(Some(t.id)),
        "still there, frozen"
    );
}

#[tokio::test]
async fn a_journal_row_in_a_state_this_hmis_does_not_know_is_reported_unfinished_and_left_alone() {
    let settings = project_databases().await;
    let p = Process::start(&settings).await;
    let patient = patient_in_quthing(&settings).await;
    let t = journaled(&p, &patient, "maseru").await;
    // As a newer hmis with a step of its own (`paused`) would have written it.
    sqlx::query("ALTER TABLE transfers DROP CONSTRAINT transfers_state_check")
        .execute(&p.central)
        .await
        .unwrap();
    sqlx::query("UPDATE transfers SET state = 'paused' WHERE id = $1")
        .bind(t.id)
        .execute(&p.central)
        .await
        .unwrap();
    let pending = transfer::journal::unfinished(&p.central).await.unwrap();
    assert!(
        matches!(&pending[..], [Err(u)] if u.id == t.id && u.state.0 == "paused"),
        "{pending:?}"
    );
    assert_eq!(
        transfer::resume_all(&p.ctx()).await,
        1,
        "not counted finished"
    );
    assert_eq!(
        journal_row(&p, t.id).await,
        ("paused".to_owned(), None),
        "row untouched"
    );
    assert_eq!(where_rows_are(&settings, patient.0).await, UNMOVED);
    assert_eq!(
        frozen_by(&settings, patient.0).await,
        Some(None),
        "no step ran"
    );
}
