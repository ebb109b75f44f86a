//! The central `planner` role: it reads the `planning` schema (tables made before and after
//! the first run) but not patient forwarding, cannot write, and cannot connect to a region;
//! a regional admin cannot connect to central either.

use super::{LOCK, assert_denied, connect_as, password, port, sqlstate, superuser};
use crate::helpers::project_databases;
use hmis::dbroles::{ensure_central_roles, ensure_region_roles};

#[tokio::test]
async fn a_planner_reads_planning_tables_but_not_patient_forwarding() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let central_url = settings.file.central.url.expose();
    let central = superuser(central_url).await;
    // One table from before the first run, one from after (default privileges).
    sqlx::query("CREATE SCHEMA IF NOT EXISTS planning")
        .execute(&central)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE planning.test_before (district text, patients int)")
        .execute(&central)
        .await
        .unwrap();
    let pw = password();
    ensure_central_roles(&central, Some(&pw)).await.unwrap();
    ensure_central_roles(&central, None).await.unwrap();
    sqlx::query("CREATE TABLE planning.test_after (month date, visits int)")
        .execute(&central)
        .await
        .unwrap();
    sqlx::query("INSERT INTO planning.test_before VALUES ('Quthing', 12)")
        .execute(&central)
        .await
        .unwrap();

    let mut planner = connect_as(central_url, "planner", &pw).await.unwrap();
    let total: i32 =
        sqlx::query_scalar("SELECT patients FROM planning.test_before WHERE district = 'Quthing'")
            .fetch_one(&mut planner)
            .await
            .unwrap();
    assert_eq!(total, 12);
    sqlx::query("SELECT count(*) FROM planning.test_after")
        .fetch_one(&mut planner)
        .await
        .unwrap();
    assert_denied(&mut planner, "SELECT * FROM patient_forwarding").await;
    assert_denied(
        &mut planner,
        "INSERT INTO planning.test_after VALUES (now(), 1)",
    )
    .await;
    assert_denied(&mut planner, "CREATE TABLE planning.mine (x int)").await;

    // Central and some regions share a cluster in the tests: neither side gets in.
    let neighbour = settings
        .regions
        .iter()
        .find(|r| port(r.database_url.expose()) == port(central_url))
        .expect("a region on the central cluster");
    let region_pool = superuser(neighbour.database_url.expose()).await;
    ensure_region_roles(&region_pool, &neighbour.name, Some(&pw))
        .await
        .unwrap();
    let refused = connect_as(neighbour.database_url.expose(), "planner", &pw)
        .await
        .expect_err("planner connected to a region");
    assert_eq!(sqlstate(&refused), "42501", "{refused}");
    let refused = connect_as(central_url, &format!("{}_admin", neighbour.name), &pw)
        .await
        .expect_err("a regional admin connected to central");
    assert_eq!(sqlstate(&refused), "42501", "{refused}");
}
