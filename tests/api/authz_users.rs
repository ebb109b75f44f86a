//! Who may manage which users. One table says what is allowed: every role against the
//! user-admin actions on a user of its own region (quthing), one of another region (maseru)
//! and a user that does not exist. A regional admin gets the same answer for a user of
//! another region as for one that does not exist, so the API tells her nothing about
//! users elsewhere. And users and roles are kept apart: a user named like a role (`planner`,
//! `system_admin`, ...) holds nothing but the roles it was given.

use crate::admin::send;
use crate::helpers::{PASSWORD, bearer_client, patient, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// What each role may do to a user: (role, region it holds, own region user, other region
/// user, unknown user). Allowed actions answer 204; anything else the status given.
const TABLE: &[(&str, &str, u16, u16, u16)] = &[
    ("nurse", "quthing", 403, 403, 403),
    ("clinician", "quthing", 403, 403, 403),
    ("records_clerk", "quthing", 403, 403, 403),
    ("planner", "*", 403, 403, 403),
    ("regional_admin", "quthing", 204, 404, 404),
    ("system_admin", "*", 204, 204, 404),
];

/// The user-admin actions, in an order that leaves the user as it was when all succeed.
const ACTIONS: &[(&str, &str, &str)] = &[
    (
        "POST",
        "grants",
        r#"{"role": "clinician", "region": "quthing"}"#,
    ),
    (
        "DELETE",
        "grants",
        r#"{"role": "clinician", "region": "quthing"}"#,
    ),
    ("POST", "disable", "null"),
    ("POST", "enable", "null"),
];

#[tokio::test]
async fn each_role_manages_exactly_the_users_the_table_allows_and_learns_nothing_of_others() {
    let app = spawn_app().await;
    app.user("own.nurse", "nurse", "quthing").await;
    app.user("far.nurse", "nurse", "maseru").await;
    let targets = ["own.nurse", "far.nurse", "no.such.user"];
    let mut failures = Vec::new();
    for &(role, region, own, other, unknown) in TABLE {
        let client = app.user(&format!("sub.{role}"), role, region).await;
        // The body of each refusal, with the name asked for taken out, per action.
        let mut refusals: Vec<Vec<(u16, String)>> = vec![Vec::new(); ACTIONS.len()];
        for (target, expected) in targets.into_iter().zip([own, other, unknown]) {
            for (i, (method, action, body)) in ACTIONS.iter().enumerate() {
                let path = format!("/api/v1/admin/users/{target}/{action}");
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let body: Value = serde_json::from_str(body).unwrap();
                let (status, answer) = send(&app, &client, method.clone(), &path, body).await;
                if status != expected {
                    failures.push(format!(
                        "{role}: {method} {path}: {status}, not {expected}: {answer}"
                    ));
                }
                refusals[i].push((status, answer.to_string().replace(target, "NAME")));
            }
        }
        if other == unknown {
            for (i, answers) in refusals.iter().enumerate() {
                if answers[1] != answers[2] {
                    failures.push(format!(
                        "{role} tells a user of another region from an unknown one on {:?}: {:?} / {:?}",
                        ACTIONS[i], answers[1], answers[2]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_user_named_like_a_role_gets_nothing_but_its_grants() {
    let app = spawn_app().await;
    let radmin = app.user("q.radmin", "regional_admin", "quthing").await;
    let quthing = app.create_patient(&patient("Quthing")).await;
    let maseru = app.create_patient(&patient("Maseru")).await;
    let nurse_grant = json!([{"role": "nurse", "region": "quthing"}]);
    for name in [
        "*",
        "role:system_admin",
        "user:admin",
        "system_admin:",
        "Planner",
    ] {
        let new = json!({"username": name, "password": PASSWORD, "grants": nurse_grant});
        let (status, body) = send(&app, &radmin, Method::POST, "/api/v1/admin/users", new).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["errors"][0]["field"], "username", "{body}");
    }
    // Every role hmis knows, from the one list, so that a role added later is tried too.
    for &name in hmis::authz::policy::ROLES {
        let new = json!({"username": name, "password": PASSWORD, "grants": nurse_grant});
        let (status, body) = send(&app, &radmin, Method::POST, "/api/v1/admin/users", new).await;
        assert_eq!(status, 201, "{name}: {body}");
        let client = bearer_client(&app.login(name, PASSWORD).await);
        let (_, me) = send(&app, &client, Method::GET, "/api/v1/auth/me", Value::Null).await;
        assert_eq!(me["grants"], nurse_grant, "{name}");
        let get = |p: &Value| format!("/api/v1/patients/{}", p["id"].as_str().unwrap());
        for (path, expected) in [
            (get(&quthing), 200),
            (get(&maseru), 403),
            ("/api/v1/patients?region=maseru".to_owned(), 403),
            ("/api/v1/patients".to_owned(), 200),
            (format!("{}/audit", get(&quthing)), 403),
            ("/api/v1/admin/users".to_owned(), 403),
            ("/api/v1/admin/policies".to_owned(), 403),
        ] {
            let (status, body) = send(&app, &client, Method::GET, &path, Value::Null).await;
            assert_eq!(status, expected, "a user named {name}: GET {path}: {body}");
        }
        let line = json!({"role": "nurse", "kind": "*", "action": "*", "condition": "any"});
        let (status, _) = send(&app, &client, Method::POST, "/api/v1/admin/policies", line).await;
        assert_eq!(status, 403, "a user named {name} edits the policy");
    }
    // The audit line of a user named planner who is a planner names the role.
    let (status, body) = send(
        &app,
        &app.client,
        Method::POST,
        "/api/v1/admin/users/planner/grants",
        json!({"role": "planner", "region": "*"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let planner = bearer_client(&app.login("planner", PASSWORD).await);
    let path = format!("/api/v1/patients/{}", maseru["id"].as_str().unwrap());
    let (status, _) = send(&app, &planner, Method::GET, &path, Value::Null).await;
    assert_eq!(status, 200, "a planner reads every region");
    let (_, trail) = app.get_json(&format!("{path}/audit")).await;
    let roles: Vec<&Value> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "planner" && e["outcome"] == "ok")
        .map(|e| &e["roles"])
        .collect();
    assert_eq!(roles, [&json!("planner")], "{trail}");
}

#[tokio::test]
async fn policy_and_grants_written_with_bare_names_keep_their_meaning_after_the_migration() {
    let settings = crate::helpers::project_databases().await;
    let central = sqlx::PgPool::connect(settings.file.central.url.expose())
        .await
        .unwrap();
    // The table as the previous version wrote it: bare role and user names.
    sqlx::query("DELETE FROM casbin_rule")
        .execute(&central)
        .await
        .unwrap();
    let insert = "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, '', '')";
    let mut rows: Vec<[&str; 5]> = hmis::authz::policy::DEFAULT_POLICY
        .iter()
        .map(|[r, o, a, c]| ["p", r, o, a, c])
        .collect();
    rows.push(["g", "old.nurse", "nurse", "quthing", ""]);
    rows.push(["g", "system_admin", "nurse", "quthing", ""]);
    for name in ["old.nurse", "system_admin"] {
        hmis::auth::users::create(&central, name, PASSWORD, name)
            .await
            .unwrap();
    }
    for [ptype, a, b, c, d] in rows {
        let q = sqlx::query(insert)
            .bind(ptype)
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d);
        q.execute(&central).await.unwrap();
    }
    let migration = include_str!("../../migrations/central/0004_casbin_namespaces.sql");
    for _ in 0..2 {
        sqlx::raw_sql(migration).execute(&central).await.unwrap();
    }
    let bare: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM casbin_rule WHERE (ptype = 'p' AND v0 NOT LIKE 'role:%')
            OR (ptype = 'g' AND (v0 NOT LIKE 'user:%' OR v1 NOT LIKE 'role:%'))",
    )
    .fetch_one(&central)
    .await
    .unwrap();
    assert_eq!(
        bare, 0,
        "every row is in its namespace, once, after two runs"
    );
    central.close().await;
    let app = crate::helpers::launch(settings).await;
    let quthing = app.create_patient(&patient("Quthing")).await;
    let maseru = app.create_patient(&patient("Maseru")).await;
    let get = |p: &Value| format!("/api/v1/patients/{}", p["id"].as_str().unwrap());
    for name in ["old.nurse", "system_admin"] {
        let client = bearer_client(&app.login(name, PASSWORD).await);
        let (status, _) = send(&app, &client, Method::GET, &get(&quthing), Value::Null).await;
        assert_eq!(status, 200, "{name} is still a Quthing nurse");
        let (status, _) = send(&app, &client, Method::GET, &get(&maseru), Value::Null).await;
        assert_eq!(status, 403, "{name} is nothing more");
    }
}
