//! The central database (users, sessions, the policy) killed with SIGKILL. The regions
//! hold the patients, and each process caches the sessions it has seen and the whole
//! policy, so users already working keep reading and writing their regions; what needs
//! the central database (a login, a session this process never saw) fails clearly with
//! 503 `central-unavailable` and Retry-After; nothing waits past the bound; and once it is
//! back, logins work again.

use super::{ANSWER_BOUND, bounded, bounded_bearer, problem, restart, sigkill_cluster};
use crate::helpers::{
    PASSWORD, TestApp, central_on_own_cluster, launch, patient, project_databases,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CENTRAL_UNAVAILABLE: &str = "urn:hmis:problem:central-unavailable";

/// Sends `request`, asserting it is answered within the bound; the answer and its time.
async fn timed(request: reqwest::RequestBuilder) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let response = request.send().await.expect("an answer within the bound");
    let took = started.elapsed();
    assert!(took < ANSWER_BOUND, "answered after {took:?}");
    (response, took)
}

fn login(app: &TestApp, username: &str) -> reqwest::RequestBuilder {
    bounded(reqwest::Client::builder())
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
}

/// What a nurse at work does: registers a patient, reads them, records their vitals.
async fn a_nurses_round(app: &TestApp, nurse: &reqwest::Client) -> Duration {
    let (created, t1) = timed(
        nurse
            .post(app.url("/api/v1/patients"))
            .json(&patient("Maseru")),
    )
    .await;
    let status = created.status();
    let created: Value = created.json().await.unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (read, t2) = timed(nurse.get(app.url(&format!("/api/v1/patients/{id}")))).await;
    assert_eq!(read.status(), 200);
    let vitals = json!({"vitals": [{"code": "8867-4", "value": 72, "unit": "/min"}]});
    let url = app.url(&format!("/api/v1/patients/{id}/observations"));
    let (recorded, t3) = timed(nurse.post(url).json(&vitals)).await;
    assert_eq!(recorded.status(), 201);
    t1.max(t2).max(t3)
}

#[tokio::test]
async fn with_the_central_database_killed_logged_in_users_keep_working_logins_fail_with_503_and_work_again_once_it_is_back()
 {
    let mut settings = project_databases().await;
    let central = central_on_own_cluster(&mut settings).await;
    let app = launch(settings).await;
    app.user("n.central", "nurse", "maseru").await;
    let token = app.login("n.central", PASSWORD).await;
    let nurse = bounded_bearer(&token);
    // Logged in, but never seen by this process since: its session is not cached.
    let unseen = bounded_bearer(&app.login("n.central", PASSWORD).await);
    a_nurses_round(&app, &nurse).await;
    let admin = bounded_bearer(&app.login("admin", PASSWORD).await);
    let leaving = bounded_bearer(&app.login("n.central", PASSWORD).await);
    for client in [&admin, &leaving] {
        let (me, _) = timed(client.get(app.url("/api/v1/auth/me"))).await;
        assert_eq!(me.status(), 200);
    }

    let central = tokio::task::spawn_blocking(move || {
        sigkill_cluster(&central);
        central
    })
    .await
    .unwrap();
    let down = Instant::now();
    let (mut rounds, mut slowest_round) = (0, Duration::ZERO);
    // Rounds over a few seconds: also after the auth listener has noticed the loss.
    while down.elapsed() < Duration::from_secs(3) {
        slowest_round = slowest_round.max(a_nurses_round(&app, &nurse).await);
        rounds += 1;
    }
    let mut slowest = Duration::ZERO;
    let (me, _) = timed(nurse.get(app.url("/api/v1/auth/me"))).await;
    assert_eq!(me.status(), 200, "who the session is comes from the caches");

    let (refused, took) = timed(login(&app, "n.central")).await;
    slowest = slowest.max(took);
    let retry_after = refused.headers().get("retry-after").cloned();
    let body = problem(refused, 503).await;
    assert_eq!(body["type"], CENTRAL_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some(), "a refused login says when to retry");

    // A clinic's morning: several people log in at once, from one address.
    let app_ref = &app;
    let logins = (0..6).map(|i| async move {
        let (response, took) = timed(login(app_ref, &format!("n.morning{i}"))).await;
        assert_eq!(response.status(), 503);
        took
    });
    slowest = slowest.max(
        futures_util::future::join_all(logins)
            .await
            .into_iter()
            .max()
            .unwrap(),
    );

    let (unknown, took) = timed(unseen.get(app.url("/api/v1/auth/me"))).await;
    slowest = slowest.max(took);
    let retry_after = unknown.headers().get("retry-after").cloned();
    let body = problem(unknown, 503).await;
    assert_eq!(body["type"], CENTRAL_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some());

    // What reads or writes the user database itself cannot work, but says so.
    let (users, took) = timed(admin.get(app.url("/api/v1/admin/users"))).await;
    slowest = slowest.max(took);
    let body = problem(users, 503).await;
    assert_eq!(body["type"], CENTRAL_UNAVAILABLE, "{body}");
    let (logout, took) = timed(leaving.post(app.url("/api/v1/auth/logout"))).await;
    slowest = slowest.max(took);
    let body = problem(logout, 503).await;
    assert_eq!(body["type"], CENTRAL_UNAVAILABLE, "{body}");

    let central = restart(central).await;
    let back = Instant::now();
    loop {
        let (response, _) = timed(login(&app, "n.central")).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "logins still fail {:?} after the restart",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login_back = back.elapsed();
    let (me, _) = timed(unseen.get(app.url("/api/v1/auth/me"))).await;
    assert_eq!(
        me.status(),
        200,
        "the unseen session is found once it is back"
    );
    a_nurses_round(&app, &nurse).await;
    central.stop().unwrap();
    eprintln!(
        "faults::central_down: {rounds} rounds of create, read and vitals while it was down, \
         slowest request {slowest_round:?}; slowest refusal (503) {slowest:?}; logins back \
         {login_back:?} after the restart"
    );
}
