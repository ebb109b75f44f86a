//! The regional admin role: it reads and updates patients in its own region, cannot connect
//! to another region's database on the same cluster, and can read the audit log but never
//! change it.

use super::{
    LOCK, assert_denied, connect_as, insert_patient, password, same_cluster_pair, sqlstate,
    superuser, url,
};
use crate::helpers::project_databases;
use hmis::dbroles::ensure_region_roles;

#[tokio::test]
async fn a_regional_admin_reads_and_updates_patients_in_its_own_region() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "quthing");
    let pool = superuser(url).await;
    let id = insert_patient(&pool, "Palesa").await;
    let pw = password();
    ensure_region_roles(&pool, "quthing", Some(&pw))
        .await
        .unwrap();

    let mut admin = connect_as(url, "quthing_admin", &pw).await.unwrap();
    let name: String = sqlx::query_scalar("SELECT given_name FROM patients WHERE id = $1")
        .bind(id)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(name, "Palesa");
    let updated = sqlx::query("UPDATE patients SET given_name = 'Lerato' WHERE id = $1")
        .bind(id)
        .execute(&mut admin)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let name: String = sqlx::query_scalar("SELECT given_name FROM patients WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Lerato");
    // It edits records, not hmis's bookkeeping.
    assert_denied(&mut admin, "UPDATE shard_identity SET code = code").await;
    assert_denied(&mut admin, "DELETE FROM _sqlx_migrations").await;
    assert_denied(&mut admin, "TRUNCATE patients").await;
}

#[tokio::test]
async fn a_regional_admin_cannot_connect_to_another_region_on_the_same_cluster() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let (mine, other) = same_cluster_pair(&settings);
    let pw = password();
    for region in [&mine, &other] {
        let pool = superuser(url(&settings, region)).await;
        ensure_region_roles(&pool, region, Some(&pw)).await.unwrap();
    }
    for role in ["admin", "readonly"] {
        let role = format!("{mine}_{role}");
        connect_as(url(&settings, &mine), &role, &pw)
            .await
            .unwrap_or_else(|e| panic!("{role} into its own region: {e}"));
        // Same server, same password that works next door: only CONNECT keeps it out.
        let refused = connect_as(url(&settings, &other), &role, &pw)
            .await
            .expect_err("connected to another region's database");
        assert_eq!(sqlstate(&refused), "42501", "{refused}");
    }
}

#[tokio::test]
async fn a_regional_admin_can_read_the_audit_log_but_never_change_it() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "quthing");
    let pool = superuser(url).await;
    let pw = password();
    ensure_region_roles(&pool, "quthing", Some(&pw))
        .await
        .unwrap();
    // Made after the first run when the migrations do not have it yet, so the default
    // privileges grant it like any new table and the next run must take the writes back.
    sqlx::query("CREATE TABLE IF NOT EXISTS audit_log (id bigserial PRIMARY KEY, note text)")
        .execute(&pool)
        .await
        .unwrap();
    ensure_region_roles(&pool, "quthing", None).await.unwrap();
    let column: String = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'audit_log' ORDER BY ordinal_position",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let mut admin = connect_as(url, "quthing_admin", &pw).await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_denied(&mut admin, "INSERT INTO audit_log DEFAULT VALUES").await;
    assert_denied(
        &mut admin,
        &format!("UPDATE audit_log SET \"{column}\" = \"{column}\""),
    )
    .await;
    assert_denied(&mut admin, "DELETE FROM audit_log").await;
    assert_denied(&mut admin, "TRUNCATE audit_log").await;
}
