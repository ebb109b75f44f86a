//! The read-only role reads but cannot write, and tables added by later migrations get the
//! same grants for both regional roles without a second run.

use super::{LOCK, assert_denied, connect_as, insert_patient, password, superuser, url};
use crate::helpers::project_databases;
use hmis::dbroles::ensure_region_roles;

#[tokio::test]
async fn a_readonly_role_reads_but_cannot_write() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "quthing");
    let pool = superuser(url).await;
    let id = insert_patient(&pool, "Palesa").await;
    let pw = password();
    ensure_region_roles(&pool, "quthing", Some(&pw))
        .await
        .unwrap();

    let mut readonly = connect_as(url, "quthing_readonly", &pw).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM patients WHERE id = $1")
        .bind(id)
        .fetch_one(&mut readonly)
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert_denied(
        &mut readonly,
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district)
         VALUES (gen_random_uuid(), 'A', 'B', 'male', '1990-01-01', 'Quthing')",
    )
    .await;
    assert_denied(&mut readonly, "UPDATE patients SET given_name = 'X'").await;
    assert_denied(&mut readonly, "DELETE FROM patients").await;
    assert_denied(&mut readonly, "TRUNCATE patients").await;
    assert_denied(&mut readonly, "CREATE TABLE public.mine (x int)").await;
}

#[tokio::test]
async fn tables_added_by_later_migrations_get_the_same_grants() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "quthing");
    let pool = superuser(url).await;
    let pw = password();
    ensure_region_roles(&pool, "quthing", Some(&pw))
        .await
        .unwrap();
    // As a later migration would, run by the service role, with no second run yet.
    sqlx::query("CREATE TABLE added_later (id bigserial PRIMARY KEY, pulse int)")
        .execute(&pool)
        .await
        .unwrap();

    let mut admin = connect_as(url, "quthing_admin", &pw).await.unwrap();
    sqlx::query("INSERT INTO added_later (pulse) VALUES (72)")
        .execute(&mut admin)
        .await
        .expect("admin writes a new table, sequence included");
    let mut readonly = connect_as(url, "quthing_readonly", &pw).await.unwrap();
    let pulse: i32 = sqlx::query_scalar("SELECT pulse FROM added_later")
        .fetch_one(&mut readonly)
        .await
        .unwrap();
    assert_eq!(pulse, 72);
    assert_denied(&mut readonly, "DELETE FROM added_later").await;
}
