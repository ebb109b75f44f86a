//! Login throttling: wrong passwords throttle an account at the address they came from,
//! guesses from many addresses are slowed without locking the owner out of her usual
//! workstation, failures behind one address do not lock out the nurses who log in there,
//! a lockout ends with its window whatever is tried meanwhile, `Retry-After` tells the
//! time left, and parallel guesses are counted one by one. Windows are seconds long here
//! (`auth.failure_window_seconds`), so nothing waits for minutes.

use super::{Answer, add_user, attempt, attempt_with, from_address, login_audit};
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use std::time::{Duration, Instant};

/// hmis with these bounds: per account at an address, per account, per address, and the
/// window in seconds.
async fn app_with_limits(pair: u32, account: u32, address: u32, window: u64) -> TestApp {
    spawn_app_with(|s| {
        let auth = &mut s.file.auth;
        auth.max_failures_per_account_at_address = pair;
        auth.max_failures_per_account = account;
        auth.max_failures_per_address = address;
        auth.failure_window_seconds = window;
    })
    .await
}

fn retry_after(answer: &Answer) -> u64 {
    answer.assert_problem(429, "throttled");
    answer
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap()
}

async fn fail(app: &TestApp, client: &reqwest::Client, username: &str, times: usize) {
    for i in 0..times {
        let wrong = attempt_with(client, app, username, &format!("guess-{i}")).await;
        wrong.assert_problem(401, "bad-credentials");
    }
}

#[tokio::test]
async fn five_wrong_passwords_from_one_address_throttle_that_account_there_even_for_the_right_password()
 {
    let app = spawn_app().await;
    add_user(&app, "t.victim").await;
    add_user(&app, "t.other").await;
    fail(&app, &app.anon, "t.victim", 5).await;
    let sixth = attempt(&app, "t.victim", PASSWORD).await;
    let retry = retry_after(&sixth);
    assert!((1..=15 * 60).contains(&retry), "Retry-After: {retry}");
    assert!(sixth.body.get("token").is_none());
    // Only there: five guesses do not lock the account out everywhere.
    let elsewhere = attempt_with(&from_address("127.0.0.2"), &app, "t.victim", PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
    // Nor another account at the same address.
    assert_eq!(attempt(&app, "t.other", PASSWORD).await.status, 200);

    let outcomes: Vec<String> = login_audit(&app, &["t.victim"])
        .await
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    let expected = ["failure"; 5].into_iter().chain(["throttled", "success"]);
    assert!(
        outcomes.iter().map(String::as_str).eq(expected),
        "{outcomes:?}"
    );
    let central = app.central().await;
    let (sessions,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.username = 't.victim'",
    )
    .fetch_one(&central)
    .await
    .unwrap();
    assert_eq!(
        sessions, 1,
        "the throttled login made no session, the other one did"
    );
}

#[tokio::test]
async fn a_lockout_ends_when_its_window_ends_however_often_it_is_tried_meanwhile() {
    let app = app_with_limits(3, 50, 100, 4).await;
    add_user(&app, "a.nurse").await;
    // The lockout ends 4 s after the first failure: after `before` + 4 s, before `start` + 4 s.
    let before = Instant::now();
    fail(&app, &app.anon, "a.nurse", 3).await;
    let start = Instant::now();
    let mut last = (start, 0);
    while before.elapsed() < Duration::from_millis(3300) {
        let at = Instant::now();
        last = (at, retry_after(&attempt(&app, "a.nurse", PASSWORD).await));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (at, retry) = last;
    assert!(
        at + Duration::from_secs(retry) <= start + Duration::from_secs(5),
        "the last Retry-After ({retry} s, {:?} after the lockout began) points past its end",
        at - start
    );
    let end = start + Duration::from_millis(4200);
    tokio::time::sleep(end.saturating_duration_since(Instant::now())).await;
    let after = attempt(&app, "a.nurse", PASSWORD).await;
    assert_eq!(
        after.status,
        200,
        "still throttled {:?} after the lockout began: {}",
        start.elapsed(),
        after.body
    );
}

#[tokio::test]
async fn retry_after_is_the_time_left_of_the_lockout_not_the_whole_window() {
    let app = app_with_limits(3, 50, 100, 60).await;
    add_user(&app, "r.nurse").await;
    let start = Instant::now();
    fail(&app, &app.anon, "r.nurse", 3).await;
    let first = retry_after(&attempt(&app, "r.nurse", PASSWORD).await);
    let first_at = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = retry_after(&attempt(&app, "r.nurse", PASSWORD).await);
    let later_at = start.elapsed().as_secs_f64();
    // The lockout ends 60 s after the first failure, which came after `start`: Retry-After
    // is at least what is left of 60 s since `start`, never more than the window, and it
    // falls as the lockout runs out.
    for (retry, at) in [(first, first_at), (later, later_at)] {
        assert!(
            (retry as f64) >= 60.0 - at && retry <= 60,
            "Retry-After {retry} {at:.1} s into a 60 s window"
        );
    }
    assert!(later as f64 <= first as f64 - 1.5, "{later} after {first}");
}

#[tokio::test]
async fn guessing_a_nurse_from_many_addresses_is_slowed_but_she_still_logs_in_at_her_workstation() {
    let app = app_with_limits(3, 6, 100, 60).await;
    add_user(&app, "b.nurse").await;
    assert_eq!(attempt(&app, "b.nurse", PASSWORD).await.status, 200);
    for ip in ["127.0.0.2", "127.0.0.3"] {
        let guesser = from_address(ip);
        fail(&app, &guesser, "b.nurse", 3).await;
        retry_after(&attempt_with(&guesser, &app, "b.nurse", "guess-4").await);
    }
    // Six failures of the account in all: every new address is held off...
    let fresh = attempt_with(&from_address("127.0.0.4"), &app, "b.nurse", PASSWORD).await;
    let retry = retry_after(&fresh);
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    // ...but not her own workstation.
    let at_work = attempt(&app, "b.nurse", PASSWORD).await;
    assert_eq!(at_work.status, 200, "{}", at_work.body);
}

#[tokio::test]
async fn failures_behind_a_clinic_address_do_not_lock_out_the_nurses_who_log_in_there() {
    let app = app_with_limits(3, 50, 5, 60).await;
    for name in ["c.nurse1", "c.nurse2", "c.newcomer"] {
        add_user(&app, name).await;
    }
    for name in ["c.nurse1", "c.nurse2"] {
        assert_eq!(attempt(&app, name, PASSWORD).await.status, 200);
    }
    for i in 0..5 {
        fail(&app, &app.anon, &format!("c.ghost{i}"), 1).await;
    }
    // One nurse mistyping until she is throttled does not touch her colleague.
    fail(&app, &app.anon, "c.nurse1", 3).await;
    retry_after(&attempt(&app, "c.nurse1", PASSWORD).await);
    let colleague = attempt(&app, "c.nurse2", PASSWORD).await;
    assert_eq!(colleague.status, 200, "{}", colleague.body);
    // Spraying names from the address is stopped for accounts never seen there...
    retry_after(&attempt(&app, "c.newcomer", PASSWORD).await);
    // ...and only there.
    let elsewhere = attempt_with(&from_address("127.0.0.2"), &app, "c.newcomer", PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
}

#[tokio::test]
async fn successful_logins_never_count_against_their_address() {
    let app = app_with_limits(2, 2, 2, 60).await;
    for name in ["s.one", "s.two", "s.three", "s.late"] {
        add_user(&app, name).await;
    }
    for _ in 0..4 {
        for name in ["s.one", "s.two", "s.three"] {
            assert_eq!(attempt(&app, name, PASSWORD).await.status, 200);
        }
    }
    // Twelve logins from this address, and one failure: an account it never saw still
    // logs in, with the address bound at two failures.
    fail(&app, &app.anon, "s.ghost", 1).await;
    let late = attempt(&app, "s.late", PASSWORD).await;
    assert_eq!(late.status, 200, "{}", late.body);
}

#[tokio::test]
async fn a_success_clears_the_mistakes_made_before_it_at_that_address() {
    let app = app_with_limits(3, 50, 100, 60).await;
    add_user(&app, "m.nurse").await;
    for _ in 0..3 {
        fail(&app, &app.anon, "m.nurse", 2).await;
        let login = attempt(&app, "m.nurse", PASSWORD).await;
        assert_eq!(login.status, 200, "{}", login.body);
    }
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
