//! Login throttling: five wrong passwords throttle the account (from any address, even for
//! the right password), twenty failures throttle the address, and parallel guesses are
//! counted one by one.

use super::{add_user, attempt, attempt_with, login_audit};
use crate::helpers::{PASSWORD, spawn_app};

/// A client whose requests come from another loopback address.
fn from_address(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn five_wrong_passwords_throttle_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    add_user(&app, "t.victim").await;
    add_user(&app, "t.other").await;
    for i in 0..5 {
        let wrong = attempt(&app, "t.victim", &format!("guess-{i}")).await;
        wrong.assert_problem(401, "unauthenticated");
    }
    let sixth = attempt(&app, "t.victim", PASSWORD).await;
    sixth.assert_problem(429, "throttled");
    let retry: u64 = sixth
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After: {retry}");
    assert!(sixth.body.get("token").is_none());
    // The account is throttled, from any address.
    let elsewhere = attempt_with(&from_address("127.0.0.2"), &app, "t.victim", PASSWORD).await;
    elsewhere.assert_problem(429, "throttled");
    // Another account is not.
    assert_eq!(attempt(&app, "t.other", PASSWORD).await.status, 200);

    let outcomes: Vec<String> = login_audit(&app, &["t.victim"])
        .await
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        outcomes,
        [
            "failure",
            "failure",
            "failure",
            "failure",
            "failure",
            "throttled",
            "throttled"
        ]
    );
    let central = app.central().await;
    let (sessions,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.username = 't.victim'",
    )
    .fetch_one(&central)
    .await
    .unwrap();
    assert_eq!(sessions, 0, "a throttled login makes no session");
}

#[tokio::test]
async fn twenty_failures_from_one_address_throttle_every_login_from_it() {
    let app = spawn_app().await;
    add_user(&app, "t.real").await;
    for i in 0..20 {
        let failed = attempt(&app, &format!("t.ghost{i}"), "guess").await;
        failed.assert_problem(401, "unauthenticated");
    }
    let throttled = attempt(&app, "t.real", PASSWORD).await;
    throttled.assert_problem(429, "throttled");
    assert!(throttled.header("retry-after").is_some());
    // The same account from another address is fine: the limit was the address's.
    let elsewhere = attempt_with(&from_address("127.0.0.2"), &app, "t.real", PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
}

#[tokio::test]
async fn parallel_wrong_passwords_are_counted_one_by_one_so_no_more_than_five_are_tried() {
    let app = spawn_app().await;
    add_user(&app, "p.target").await;
    let guesses = (0..20).map(|i| {
        let app = &app;
        async move { attempt(app, "p.target", &format!("guess-{i}")).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((tried, throttled), (5, 15), "{statuses:?}");
}
