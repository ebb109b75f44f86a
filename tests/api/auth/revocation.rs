//! Logout and revocation: logout ends one session and `?everywhere=true` every session of
//! the user, a logout on one hmis process is refused by another within a second, and
//! `hmis users disable` ends the user's sessions in every process at once.

use super::{Answer, add_user, attempt, login_audit, me, set_cookie, token};
use crate::helpers::{PASSWORD, TestApp, hmis_cli, launch, project_databases, spawn_app};
use std::time::{Duration, Instant};

/// Polls `GET /api/v1/auth/me` every 50 ms for up to 1 s; how long until it was refused.
async fn refused_within_a_second(app: &TestApp, token: &str) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if me(app, token).await == 401 {
            return Some(start.elapsed());
        }
        if start.elapsed() >= Duration::from_secs(1) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn logout_ends_that_session_only_and_logout_everywhere_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    add_user(&app, "o.user").await;
    let first = token(&attempt(&app, "o.user", PASSWORD).await);
    let second = token(&attempt(&app, "o.user", PASSWORD).await);
    assert_eq!(
        (me(&app, &first).await, me(&app, &second).await),
        (200, 200)
    );

    let out = app
        .anon
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    let out = Answer::of(out).await;
    assert_eq!(out.status, 204, "{}", out.body);
    let cleared = set_cookie(&out.headers, "hmis_session");
    assert_eq!(cleared[0], "hmis_session=");
    assert!(cleared.iter().any(|a| a == "Max-Age=0"), "{cleared:?}");
    assert_eq!(me(&app, &first).await, 401);
    assert_eq!(me(&app, &second).await, 200, "the other session lives on");

    let third = token(&attempt(&app, "o.user", PASSWORD).await);
    let everywhere = app
        .anon
        .post(app.url("/api/v1/auth/logout?everywhere=true"))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), 204);
    assert_eq!(
        (me(&app, &second).await, me(&app, &third).await),
        (401, 401)
    );
    let (status, _) = app.get_json("/api/v1/auth/me").await;
    assert_eq!(status, 200, "another user's session is not touched");

    let central = app.central().await;
    let (live,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.username = 'o.user' AND s.revoked_at IS NULL",
    )
    .fetch_one(&central)
    .await
    .unwrap();
    assert_eq!(live, 0);
    // And a new login works again.
    assert_eq!(
        me(&app, &token(&attempt(&app, "o.user", PASSWORD).await)).await,
        200
    );
}

#[tokio::test]
async fn a_logout_on_one_hmis_process_is_refused_by_another_within_a_second() {
    let settings = project_databases().await;
    let a = launch(settings.clone()).await;
    let b = launch(settings).await;
    add_user(&a, "x.user").await;
    let ended = token(&attempt(&a, "x.user", PASSWORD).await);
    let kept = token(&attempt(&a, "x.user", PASSWORD).await);
    // Both processes have seen (and cached) both sessions.
    for app in [&a, &b] {
        assert_eq!(me(app, &ended).await, 200);
        assert_eq!(me(app, &kept).await, 200);
    }
    let out = a
        .anon
        .post(a.url("/api/v1/auth/logout"))
        .bearer_auth(&ended)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(me(&a, &ended).await, 401);
    let took = refused_within_a_second(&b, &ended).await;
    assert!(
        took.is_some(),
        "process B still accepts a token logged out on A"
    );
    assert_eq!(me(&b, &kept).await, 200, "only that session ended");

    // Logout everywhere on B reaches A too.
    let out = b
        .anon
        .post(b.url("/api/v1/auth/logout?everywhere=true"))
        .bearer_auth(&kept)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let took = refused_within_a_second(&a, &kept).await;
    assert!(
        took.is_some(),
        "A still accepts a token logged out everywhere on B"
    );
}

#[tokio::test]
async fn disabling_a_user_with_the_command_line_ends_their_sessions_in_every_process_at_once() {
    let settings = project_databases().await;
    let a = launch(settings.clone()).await;
    let b = launch(settings.clone()).await;
    add_user(&a, "d.user").await;
    let on_a = token(&attempt(&a, "d.user", PASSWORD).await);
    let on_b = token(&attempt(&b, "d.user", PASSWORD).await);
    for app in [&a, &b] {
        for t in [&on_a, &on_b] {
            assert_eq!(me(app, t).await, 200);
        }
    }
    let out = hmis_cli(&settings, &["users", "disable", "d.user"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let polls = [(&a, &on_a), (&a, &on_b), (&b, &on_a), (&b, &on_b)]
        .map(|(app, t)| refused_within_a_second(app, t));
    let took = futures_util::future::join_all(polls).await;
    assert!(
        took.iter().all(Option::is_some),
        "refused within 1 s (A/a, A/b, B/a, B/b): {took:?}"
    );
    for app in [&a, &b] {
        attempt(app, "d.user", PASSWORD)
            .await
            .assert_problem(401, "bad-credentials");
        let (status, _) = app.get_json("/api/v1/auth/me").await;
        assert_eq!(status, 200, "the admin's session is not touched");
    }
    assert_eq!(
        login_audit(&a, &["d.user"]).await,
        [
            ("d.user".to_owned(), "success".to_owned()),
            ("d.user".to_owned(), "success".to_owned()),
            ("d.user".to_owned(), "disabled".to_owned()),
            ("d.user".to_owned(), "disabled".to_owned()),
        ]
    );
}
