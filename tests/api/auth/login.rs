//! Login: a successful login answers a bearer token, a CSRF token and strict HttpOnly
//! cookies; a wrong password and an unknown user get the same 401 (`bad-credentials`),
//! and every attempt is in the login audit with its address and request id.

use super::{
    Answer, add_user, attempt, attempt_with, from_address, login_audit, set_cookie, token,
};
use crate::helpers::{PASSWORD, spawn_app};
use serde_json::json;

#[tokio::test]
async fn login_answers_a_bearer_token_a_csrf_token_and_strict_http_only_cookies() {
    let app = spawn_app().await;
    app.user("l.nurse", "nurse", "quthing").await;
    app.user("l.nurse", "clinician", "maseru").await;
    let login = attempt(&app, "l.nurse", PASSWORD).await;
    let token = token(&login);
    let csrf = login.body["csrf_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40, "a long random token: {token}");
    assert!(!csrf.is_empty() && csrf != token);
    assert!(login.body["expires_at"].is_string(), "{}", login.body);
    assert_eq!(login.body["user"]["username"], "l.nurse");

    let session = set_cookie(&login.headers, "hmis_session");
    assert_eq!(session[0], format!("hmis_session={token}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            session.iter().any(|a| a == attribute),
            "{attribute} missing: {session:?}"
        );
    }
    assert!(
        !session.iter().any(|a| a == "Secure"),
        "secure_cookies is off by default: {session:?}"
    );
    let csrf_cookie = set_cookie(&login.headers, "hmis_csrf");
    assert_eq!(csrf_cookie[0], format!("hmis_csrf={csrf}"));
    for attribute in ["SameSite=Strict", "Path=/"] {
        assert!(
            csrf_cookie.iter().any(|a| a == attribute),
            "{attribute} missing: {csrf_cookie:?}"
        );
    }
    assert!(
        !csrf_cookie.iter().any(|a| a == "HttpOnly"),
        "the page's script must be able to read the CSRF cookie: {csrf_cookie:?}"
    );

    let response = app
        .anon
        .get(app.url("/api/v1/auth/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let me = Answer::of(response).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["username"], "l.nurse");
    assert_eq!(
        me.body["grants"],
        json!([
            {"role": "clinician", "region": "maseru"},
            {"role": "nurse", "region": "quthing"},
        ])
    );
    assert_eq!(me.body["regions"], json!(["maseru", "quthing"]));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401_and_every_attempt_is_audited() {
    let app = spawn_app().await;
    add_user(&app, "w.user").await;
    let good = attempt(&app, "w.user", PASSWORD).await;
    assert_eq!(good.status, 200, "{}", good.body);
    let wrong = attempt(&app, "w.user", "not-the-password").await;
    let unknown = attempt(&app, "w.nobody", PASSWORD).await;
    wrong.assert_problem(401, "bad-credentials");
    unknown.assert_problem(401, "bad-credentials");
    // Said as what happened, to someone who is logging in: not "send a session cookie".
    assert_eq!(wrong.body["detail"], "unknown user or wrong password");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.body["title"], unknown.body["title"]);
    assert!(wrong.body.get("token").is_none());
    assert!(wrong.headers.get("set-cookie").is_none());

    assert_eq!(
        login_audit(&app, &["w.user", "w.nobody"]).await,
        [
            ("w.user".to_owned(), "success".to_owned()),
            ("w.user".to_owned(), "failure".to_owned()),
            ("w.nobody".to_owned(), "failure".to_owned()),
        ]
    );
    let central = app.central().await;
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT username, address, request_id FROM login_audit
         WHERE username IN ('w.user', 'w.nobody') ORDER BY id",
    )
    .fetch_all(&central)
    .await
    .unwrap();
    for ((username, address, request_id), answer) in rows.iter().zip([&good, &wrong, &unknown]) {
        assert_eq!(address.as_deref(), Some("127.0.0.1"), "{username}");
        assert_eq!(
            request_id.as_deref(),
            answer.header("x-request-id"),
            "the audit row names the request"
        );
    }
}

#[tokio::test]
async fn logins_that_find_no_free_connection_to_the_user_database_get_503_with_retry_after() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.file.central.pool_size = 1;
        s.file.server.shard_timeout_ms = 300;
    })
    .await;
    add_user(&app, "nurse.busy").await;
    add_user(&app, "nurse.next").await;
    // Another session holds nurse.busy's login lock: her login waits for it holding hmis's
    // one central connection, and a login of another account from another address (which
    // nothing in this process queues behind hers) finds no connection.
    let central = app.central().await;
    let holder = login_lock(&central, "nurse.busy").await;
    let (first, second) = (from_address("127.0.0.2"), from_address("127.0.0.3"));
    let waiting = attempt_with(&first, &app, "nurse.busy", PASSWORD);
    let starved = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        attempt_with(&second, &app, "nurse.next", PASSWORD).await
    };
    // Past the pool's acquire timeout (300 ms) the lock is let go, so the waiting login
    // finishes.
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        holder.rollback().await.unwrap();
    };
    let (waited, busy, ()) = tokio::join!(waiting, starved, release);
    central.close().await;
    assert_eq!(waited.status, 200, "{}", waited.body);
    busy.assert_problem(503, "central-unavailable");
    assert_eq!(busy.header("retry-after"), Some("5"));
}

#[tokio::test]
async fn parallel_logins_of_one_account_wait_in_line_without_taking_every_central_connection() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.file.central.pool_size = 2;
        s.file.server.shard_timeout_ms = 300;
    })
    .await;
    add_user(&app, "nurse.queued").await;
    let central = app.central().await;
    let holder = login_lock(&central, "nurse.queued").await;
    // Four logins of one account, held well past the pool's acquire timeout: they queue in
    // hmis holding nothing, so none is refused for want of a connection.
    let attempts =
        futures_util::future::join_all((0..4).map(|_| attempt(&app, "nurse.queued", PASSWORD)));
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        holder.rollback().await.unwrap();
    };
    let (answers, ()) = tokio::join!(attempts, release);
    central.close().await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200]);
}

/// Another session's hold on `username`'s login lock (the advisory lock every login of the
/// account takes), until the transaction ends.
async fn login_lock(
    central: &sqlx::PgPool,
    username: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut holder = central.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("login-user:{username}"))
        .execute(&mut *holder)
        .await
        .unwrap();
    holder
}
