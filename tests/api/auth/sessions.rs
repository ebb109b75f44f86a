//! Session expiry: the idle limit (a busy session lives on, also when it is busy on another
//! hmis process) and the absolute limit, however busy the session is.

use super::{add_user, attempt, me, token};
use crate::helpers::{PASSWORD, launch, project_databases, spawn_app_with};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_session_unused_for_longer_than_the_idle_limit_is_refused_while_a_busy_one_lives_on() {
    let app = spawn_app_with(|s| s.file.auth.idle_seconds = 1).await;
    // Each token is used at once: a session unused for 1 s after login is already idle.
    let idle = token(&attempt(&app, "admin", PASSWORD).await);
    assert_eq!(me(&app, &idle).await, 200);
    let last_use = Instant::now();
    let busy = token(&attempt(&app, "admin", PASSWORD).await);
    assert_eq!(me(&app, &busy).await, 200);
    let mut every = tokio::time::interval(Duration::from_millis(400));
    every.tick().await;
    while last_use.elapsed() < Duration::from_millis(2500) {
        every.tick().await;
        assert_eq!(
            me(&app, &busy).await,
            200,
            "used every 0.4 s, refused after {:?}",
            last_use.elapsed()
        );
    }
    assert_eq!(me(&app, &idle).await, 401, "unused for 2.5 s");
    assert_eq!(me(&app, &idle).await, 401, "and it stays refused");
    assert_eq!(me(&app, &busy).await, 200);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_limit_however_busy() {
    let app = spawn_app_with(|s| s.file.auth.session_seconds = 2).await;
    // The session is made between these two instants.
    let before_login = Instant::now();
    let token = token(&attempt(&app, "admin", PASSWORD).await);
    let after_login = Instant::now();
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let mut first_refusal = None;
    while after_login.elapsed() < Duration::from_secs(3) {
        every.tick().await;
        let sent = before_login.elapsed();
        let status = me(&app, &token).await;
        if sent < Duration::from_millis(1800) {
            assert_eq!(status, 200, "refused {sent:?} after login");
        }
        if status == 401 && first_refusal.is_none() {
            first_refusal = Some(sent);
        }
        if first_refusal.is_some() {
            assert_eq!(status, 401, "accepted again after a refusal");
        }
    }
    assert!(first_refusal.is_some(), "still alive after 3 s of use");
    assert_eq!(me(&app, &token).await, 401);
}

#[tokio::test]
async fn a_session_busy_on_one_process_is_not_idle_on_another() {
    let mut settings = project_databases().await;
    settings.file.auth.idle_seconds = 2;
    let a = launch(settings.clone()).await;
    let b = launch(settings).await;
    add_user(&a, "busy.user").await;
    let t = token(&attempt(&a, "busy.user", PASSWORD).await);
    assert_eq!(me(&b, &t).await, 200, "B has seen the session");
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3200) {
        assert_eq!(me(&a, &t).await, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        me(&b, &t).await,
        200,
        "busy on A for longer than the idle limit"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(me(&b, &t).await, 401, "idle everywhere now");
}
