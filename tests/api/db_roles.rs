//! The pgAdmin roles of `hmis::dbroles`, checked by logging in as them: a regional admin
//! works in its own region only and cannot change the audit trail, a read-only role cannot
//! write, planners see `planning` only, and re-running keeps what operators set.
//!
//! Roles are cluster-wide and their names are fixed by region, so these tests take
//! [`LOCK`]: a test sets a role's password and logs in with it, and another test must not
//! change it in between. Other tests never set passwords.

use crate::helpers::{pg, project_databases};
use hmis::config::Settings;
use hmis::dbroles::{ensure_central_roles, ensure_region_roles};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A password no other test uses, with a quote and a space to exercise the quoting.
fn password() -> String {
    format!("it's {}-{}", std::process::id(), pg::unique())
}

fn url<'a>(settings: &'a Settings, region: &str) -> &'a str {
    settings.region(region).unwrap().database_url.expose()
}

async fn superuser(url: &str) -> PgPool {
    PgPool::connect(url).await.unwrap()
}

/// Logs in to the database of `url` as `role` instead of the superuser.
async fn connect_as(url: &str, role: &str, password: &str) -> Result<PgConnection, sqlx::Error> {
    let opts: PgConnectOptions = url.parse().unwrap();
    PgConnection::connect_with(&opts.username(role).password(password)).await
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| format!("not a database error: {e}"))
}

/// `sql` run by `conn` must be refused by the grants. The message is checked too: the
/// append-only triggers of audit tables raise the same SQLSTATE, and they must not be what
/// stops a role here.
async fn assert_denied(conn: &mut PgConnection, sql: &str) {
    match sqlx::query(sql).execute(&mut *conn).await {
        Ok(_) => panic!("{sql}: allowed, expected permission denied"),
        Err(e) => {
            assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
            assert!(e.to_string().contains("permission denied"), "{sql}: {e}");
        }
    }
}

fn port(url: &str) -> u16 {
    url.parse::<PgConnectOptions>().unwrap().get_port()
}

/// Two regions whose test databases share a cluster (helpers spread regions over the shared
/// clusters by their sorted position), preferring quthing.
fn same_cluster_pair(settings: &Settings) -> (String, String) {
    let mut pairs = Vec::new();
    for a in &settings.regions {
        for b in &settings.regions {
            if a.name != b.name && port(a.database_url.expose()) == port(b.database_url.expose()) {
                pairs.push((a.name.clone(), b.name.clone()));
            }
        }
    }
    pairs.sort_by_key(|(a, _)| a != "quthing");
    pairs
        .into_iter()
        .next()
        .expect("two regions on one cluster")
}

async fn insert_patient(pool: &PgPool, given_name: &str) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, district)
         VALUES ($1, $2, 'Mokoena', 'female', '1990-04-12', 'Quthing')",
    )
    .bind(id)
    .bind(given_name)
    .execute(pool)
    .await
    .unwrap();
    id
}

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
async fn running_again_without_a_password_keeps_the_one_an_operator_set() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "quthing");
    let pool = superuser(url).await;
    let (first, operators) = (password(), password());
    ensure_region_roles(&pool, "quthing", Some(&first))
        .await
        .unwrap();
    ensure_region_roles(&pool, "quthing", Some(&first))
        .await
        .unwrap();
    let alter: String =
        sqlx::query_scalar("SELECT format('ALTER ROLE quthing_admin PASSWORD %L', $1::text)")
            .bind(&operators)
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query(&alter).execute(&pool).await.unwrap();
    ensure_region_roles(&pool, "quthing", None).await.unwrap();
    ensure_region_roles(&pool, "quthing", None).await.unwrap();

    connect_as(url, "quthing_admin", &operators)
        .await
        .expect("the operator's password still works");
    let refused = connect_as(url, "quthing_admin", &first).await.unwrap_err();
    assert_eq!(sqlstate(&refused), "28P01", "{refused}");
    connect_as(url, "quthing_readonly", &first)
        .await
        .expect("LOGIN kept on the role the operator did not touch");
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

#[tokio::test]
async fn new_roles_without_a_password_cannot_log_in_and_odd_names_are_quoted() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let url = url(&settings, "mafeteng");
    let pool = superuser(url).await;
    // A name of this test alone, with a '-' that must be quoted, so the roles are new.
    let region = format!("t{}-north", pg::unique());
    ensure_region_roles(&pool, &region, None).await.unwrap();
    let logins: Vec<(String, bool)> = sqlx::query_as(
        "SELECT rolname::text, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1",
    )
    .bind(vec![
        format!("{region}_admin"),
        format!("{region}_readonly"),
    ])
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        logins,
        [
            (format!("{region}_admin"), false),
            (format!("{region}_readonly"), false)
        ]
    );
    for bad in [
        "",
        "Quthing",
        "a\"b",
        "a b",
        "x;drop role hmis",
        &"x".repeat(60),
    ] {
        let e = ensure_region_roles(&pool, bad, None).await.unwrap_err();
        assert!(matches!(e, sqlx::Error::Configuration(_)), "{bad:?}: {e}");
    }
}

#[tokio::test]
async fn concurrent_runs_from_databases_sharing_a_cluster_all_succeed() {
    let _serial = LOCK.lock().await;
    let settings = project_databases().await;
    let (a, b) = same_cluster_pair(&settings);
    let pools = [
        superuser(url(&settings, &a)).await,
        superuser(url(&settings, &b)).await,
    ];
    // New roles, so that several runs race to create them as well as to grant.
    let region = format!("t{}-race", pg::unique());
    let pw = password();
    let runs = (0..6).map(|i| {
        let (pool, region, pw) = (&pools[i % 2], &region, &pw);
        async move { ensure_region_roles(pool, region, (i < 3).then_some(pw.as_str())).await }
    });
    for result in futures_util::future::join_all(runs).await {
        result.unwrap();
    }
    for name in [&a, &b] {
        connect_as(url(&settings, name), &format!("{region}_admin"), &pw)
            .await
            .unwrap();
    }
}

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
