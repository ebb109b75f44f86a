//! Running the role setup again and again: it keeps a password an operator set, new roles
//! without a password cannot log in, odd region names are quoted or refused, and concurrent
//! runs from databases sharing a cluster all succeed.

use super::{LOCK, connect_as, password, same_cluster_pair, sqlstate, superuser, url};
use crate::helpers::{pg, project_databases};
use hmis::dbroles::ensure_region_roles;

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
