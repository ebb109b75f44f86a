//! Authentication: login answers (token, CSRF token, cookies), the login audit, which
//! routes need a session, session expiry, logout and revocation across hmis processes,
//! `hmis users disable`, login throttling, CSRF for cookie sessions, and SQL injection
//! attempts in every string parameter.

use crate::helpers::{
    PASSWORD, TestApp, bearer_client, launch, patient, project_databases, spawn_app, spawn_app_with,
};
use hmis::config::Settings;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One HTTP answer, read completely.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts a problem+json answer with this status and `urn:hmis:problem:<kind>`.
    fn assert_problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(
            self.body["type"],
            format!("urn:hmis:problem:{kind}"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{}", self.body);
    }
}

/// One login attempt from the default address (127.0.0.1).
async fn attempt(app: &TestApp, username: &str, password: &str) -> Answer {
    attempt_with(&app.anon, app, username, password).await
}

async fn attempt_with(client: &reqwest::Client, app: &TestApp, user: &str, pw: &str) -> Answer {
    let body = json!({"username": user, "password": pw});
    let request = client.post(app.url("/api/v1/auth/login")).json(&body);
    Answer::of(request.send().await.unwrap()).await
}

/// The token of a successful login.
fn token(login: &Answer) -> String {
    assert_eq!(login.status, 200, "login failed: {}", login.body);
    login.body["token"].as_str().unwrap().to_owned()
}

/// The status of `GET /api/v1/auth/me` with `token` as a bearer token.
async fn me(app: &TestApp, token: &str) -> u16 {
    let request = app.anon.get(app.url("/api/v1/auth/me")).bearer_auth(token);
    request.send().await.unwrap().status().as_u16()
}

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

/// A user without any role, straight in the central database.
async fn add_user(app: &TestApp, username: &str) {
    let central = app.central().await;
    hmis::auth::users::create(&central, username, PASSWORD, username)
        .await
        .unwrap();
    central.close().await;
}

/// (username, outcome) of every login attempt of these users, oldest first.
async fn login_audit(app: &TestApp, usernames: &[&str]) -> Vec<(String, String)> {
    let central = app.central().await;
    let names: Vec<String> = usernames.iter().map(|u| u.to_string()).collect();
    let rows = sqlx::query_as(
        "SELECT username, outcome FROM login_audit WHERE username = ANY($1) ORDER BY id",
    )
    .bind(&names)
    .fetch_all(&central)
    .await
    .unwrap();
    central.close().await;
    rows
}

/// The `Set-Cookie` header setting `name`, split into its attributes.
fn set_cookie(headers: &HeaderMap, name: &str) -> Vec<String> {
    let prefix = format!("{name}=");
    let all: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let cookie = all
        .iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no Set-Cookie for {name} in {all:?}"));
    cookie.split(';').map(|a| a.trim().to_owned()).collect()
}

/// Runs the real `hmis` binary against the test's databases.
async fn hmis_cli(settings: &Settings, args: &[&str]) -> std::process::Output {
    let mut envs = vec![(
        "HMIS_CENTRAL_URL".to_owned(),
        settings.file.central.url.expose().to_owned(),
    )];
    for r in &settings.regions {
        envs.push((
            format!("HMIS_REGION_{}_DATABASE_URL", r.name.to_uppercase()),
            r.database_url.expose().to_owned(),
        ));
    }
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
            .args(args)
            .envs(envs)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

// 1. Login.

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
    wrong.assert_problem(401, "unauthenticated");
    unknown.assert_problem(401, "unauthenticated");
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

// 2. What needs a session.

#[tokio::test]
async fn every_described_route_but_login_and_health_refuses_a_request_without_credentials() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const PUBLIC: &[&str] = &["/api/v1/auth/login", "/healthz", "/readyz"];
    let mut refused = Vec::new();
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let Ok(verb) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&verb.as_str()) {
                continue;
            }
            if PUBLIC.contains(&path.as_str()) {
                public.push(format!("{method} {path}"));
                continue;
            }
            let concrete = path.replace("{id}", &id).replace("{username}", "admin");
            assert!(
                !concrete.contains('{'),
                "{path}: a path parameter this test does not know; teach it"
            );
            // Requests that would succeed with credentials, so a 401 is about them alone.
            let query = match path.as_str() {
                "/api/v1/patients" => "?region=quthing",
                "/api/v1/routing/explain" => "?entity=patient&district=Quthing",
                _ => "",
            };
            let mut request = app
                .anon
                .request(verb.clone(), app.url(&format!("{concrete}{query}")));
            if matches!(verb.as_str(), "POST" | "PUT" | "PATCH") {
                request = request
                    .json(&patient("Quthing"))
                    .header("if-match", "\"1\"");
            }
            let answer = Answer::of(request.send().await.unwrap()).await;
            assert_eq!(answer.status, 401, "{method} {path}: {}", answer.body);
            answer.assert_problem(401, "unauthenticated");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
            refused.push(format!("{method} {path}"));
        }
    }
    for route in [
        "get /api/v1/auth/me",
        "post /api/v1/auth/logout",
        "get /api/v1/patients",
        "post /api/v1/patients",
        "get /api/v1/patients/{id}",
        "patch /api/v1/patients/{id}",
        "delete /api/v1/patients/{id}",
        "get /api/v1/patients/{id}/audit",
        "get /api/v1/routing/explain",
    ] {
        assert!(
            refused.iter().any(|r| r == route),
            "{route} not checked: {refused:?}"
        );
    }
    public.sort();
    assert_eq!(
        public,
        ["get /healthz", "get /readyz", "post /api/v1/auth/login"]
    );

    // Nothing was written or deleted by the refused requests.
    let (status, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!((status, read["version"].as_i64()), (200, Some(1)), "{read}");
    assert_eq!(app.patients_per_region().await["quthing"], vec![id.clone()]);

    // The public ones answer without credentials; the API description does not.
    for path in ["/healthz", "/readyz", "/"] {
        let response = app.anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let landing = app.anon.get(app.url("/")).send().await.unwrap();
    assert!(
        landing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let login = attempt(&app, "admin", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let spec = app.anon.get(app.url("/api/v1/openapi.json")).send().await;
    assert_eq!(spec.unwrap().status(), 401);

    // A made-up token, as bearer or cookie, is no better than none.
    let forged = hmis::auth::sessions::new_token();
    assert_eq!(me(&app, &forged).await, 401);
    let by_cookie = app
        .anon
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("hmis_session={forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 401);
}

// 3. Expiry.

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

// 4. Logout and revocation.

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
            .assert_problem(401, "unauthenticated");
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

// 5. Throttling.

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

// 6. CSRF.

#[tokio::test]
async fn a_cookie_session_must_send_the_csrf_token_to_change_anything_and_a_bearer_need_not() {
    let app = spawn_app().await;
    let login = attempt(&app, "admin", PASSWORD).await;
    let token = token(&login);
    let csrf = login.body["csrf_token"].as_str().unwrap().to_owned();
    let cookie = format!("hmis_session={token}");
    let post = |cookie: String, csrf: Option<&str>| {
        let mut request = app
            .anon
            .post(app.url("/api/v1/patients"))
            .header("cookie", cookie)
            .json(&patient("Quthing"));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        async move { Answer::of(request.send().await.unwrap()).await }
    };

    post(cookie.clone(), None).await.assert_problem(403, "csrf");
    // The CSRF cookie alone proves nothing: a browser sends it on its own.
    post(format!("{cookie}; hmis_csrf={csrf}"), None)
        .await
        .assert_problem(403, "csrf");
    post(cookie.clone(), Some(&token))
        .await
        .assert_problem(403, "csrf");
    let other = attempt(&app, "admin", PASSWORD).await;
    let other_csrf = other.body["csrf_token"].as_str().unwrap().to_owned();
    post(cookie.clone(), Some(&other_csrf))
        .await
        .assert_problem(403, "csrf");
    assert!(
        app.patients_per_region()
            .await
            .values()
            .all(|ids| ids.is_empty()),
        "a refused request writes nothing"
    );

    let created = post(cookie.clone(), Some(&csrf)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/v1/patients/{id}"));

    let read = app.anon.get(&url).header("cookie", &cookie).send().await;
    assert_eq!(read.unwrap().status(), 200, "a GET needs no CSRF token");
    let me = app
        .anon
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "admin");

    let delete = app.anon.delete(&url).header("cookie", &cookie).send().await;
    Answer::of(delete.unwrap())
        .await
        .assert_problem(403, "csrf");
    assert_eq!(app.get_json(&format!("/api/v1/patients/{id}")).await.0, 200);

    let by_bearer = bearer_client(&token)
        .post(app.url("/api/v1/patients"))
        .json(&patient("Quthing"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_bearer.status(),
        201,
        "a bearer token needs no CSRF token"
    );
    assert_eq!(app.patients_per_region().await["quthing"].len(), 2);
}

// 7. SQL injection.

#[tokio::test]
async fn sql_injection_attempts_in_every_string_parameter_are_harmless() {
    let app = spawn_app().await;
    let mut answers: Vec<(String, u16)> = Vec::new();
    let mut note = |what: &str, status: u16| answers.push((what.to_owned(), status));

    // Login.
    for (username, password) in [
        ("admin' OR '1'='1", "x' OR '1'='1"),
        ("admin'--", PASSWORD),
        ("admin", "' OR '1'='1"),
        ("admin", "anything' OR 1=1; --"),
        ("'; DROP TABLE users; --", "x"),
    ] {
        let answer = attempt(&app, username, password).await;
        answer.assert_problem(401, "unauthenticated");
        note(&format!("login {username:?}"), answer.status);
    }

    // A patient whose fields look like SQL is stored and read back literally.
    let mut body = patient("Quthing");
    body["given_name"] = json!("Robert'); DROP TABLE patients;--");
    body["family_name"] = json!("O'Brien\"; DELETE FROM patients WHERE ''='");
    body["village"] = json!("x'); DELETE FROM audit_log;--");
    body["facility"] = json!("$$; DROP TABLE patients; $$");
    let created = app.create_patient(&body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, read) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    note("read back", status);
    assert_eq!(status, 200, "{read}");
    for field in ["given_name", "family_name", "village", "facility"] {
        assert_eq!(read[field], body[field], "{field}");
    }
    let quthing = app.shard("quthing").await;
    let (stored,): (String,) =
        sqlx::query_as("SELECT given_name FROM patients WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&quthing)
            .await
            .unwrap();
    assert_eq!(stored, "Robert'); DROP TABLE patients;--");

    // Fields that do not parse are refused by validation, not by the database.
    for (field, value) in [
        ("district", "Quthing'; DROP TABLE patients;--"),
        ("sex", "female' OR '1'='1"),
        ("birth_date", "1990-01-01'; DROP TABLE patients;--"),
        ("phone", "5812'; DROP TABLE patients;--"),
        ("national_id", "LS-1' OR '1'='1"),
    ] {
        let mut bad = patient("Quthing");
        bad[field] = json!(value);
        let answer = Answer::of(app.post_patient(&bad).await).await;
        answer.assert_problem(422, "validation");
        note(&format!("create with {field}"), answer.status);
    }

    // Query parameters.
    let get = |path: String| {
        let request = app.client.get(app.url(&path));
        async move { Answer::of(request.send().await.unwrap()).await }
    };
    let encode = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    for q in [
        "'; DROP TABLE patients; --",
        "%' OR '1'='1",
        "x' UNION SELECT * FROM patients --",
        "\\'; DROP TABLE patients; --",
    ] {
        let answer = get(format!("/api/v1/patients?region=quthing&q={}", encode(q))).await;
        assert_eq!(answer.status, 200, "q={q:?}: {}", answer.body);
        assert_eq!(
            answer.body["total"], 0,
            "q={q:?} matches nothing: {}",
            answer.body
        );
        note(&format!("q {q:?}"), answer.status);
    }
    let answer = get(format!(
        "/api/v1/patients?region=quthing&q={}",
        encode("Robert');")
    ))
    .await;
    assert_eq!(
        answer.body["total"], 1,
        "the literal name is found: {}",
        answer.body
    );
    for region in ["quthing' OR '1'='1", "quthing'; DROP TABLE patients; --"] {
        let answer = get(format!("/api/v1/patients?region={}", encode(region))).await;
        answer.assert_problem(400, "bad-request");
        note(&format!("region {region:?}"), answer.status);
    }
    for (name, value) in [("page", "1; DROP TABLE patients"), ("size", "1' OR '1'='1")] {
        let answer = get(format!(
            "/api/v1/patients?region=quthing&{name}={}",
            encode(value)
        ))
        .await;
        answer.assert_problem(400, "bad-request");
        note(&format!("{name} {value:?}"), answer.status);
    }
    for query in [
        format!("entity={}&district=Quthing", encode("patient' OR '1'='1")),
        format!(
            "entity=patient&district={}",
            encode("Quthing'; DROP TABLE patients; --")
        ),
        format!(
            "entity=patient&{}=1",
            encode("district'; DROP TABLE patients; --")
        ),
    ] {
        let answer = get(format!("/api/v1/routing/explain?{query}")).await;
        assert!(answer.status < 500, "explain?{query}: {}", answer.body);
        note(&format!("explain {query}"), answer.status);
    }
    let answer = get(format!(
        "/api/v1/patients/{id}/audit?limit={}",
        encode("1; DROP TABLE audit_log")
    ))
    .await;
    answer.assert_problem(400, "bad-request");
    note("audit limit", answer.status);

    // The {id} path segment, on every method.
    for injected in [
        "1' OR '1'='1",
        "'; DROP TABLE patients; --",
        &format!("{id}' OR '1'='1"),
    ] {
        let segment = encode(injected).replace('+', "%20");
        let url = app.url(&format!("/api/v1/patients/{segment}"));
        for request in [
            app.client.get(&url),
            app.client
                .patch(&url)
                .header("if-match", "\"1\"")
                .json(&json!({"village": "x"})),
            app.client.delete(&url),
            app.client
                .get(app.url(&format!("/api/v1/patients/{segment}/audit"))),
        ] {
            let answer = Answer::of(request.send().await.unwrap()).await;
            answer.assert_problem(400, "bad-request");
            note(&format!("id {injected:?}"), answer.status);
        }
    }

    // Headers.
    let replay = app
        .client
        .post(app.url("/api/v1/patients"))
        .header("idempotency-key", "'; DROP TABLE idempotency_keys; --")
        .json(&patient("Quthing"))
        .send()
        .await
        .unwrap();
    note("idempotency key", replay.status().as_u16());
    assert_eq!(replay.status(), 201);
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .header("if-match", "\"1' OR '1'='1\"")
        .json(&json!({"village": "x"}))
        .send()
        .await
        .unwrap();
    note("if-match", patched.status().as_u16());
    assert_eq!(patched.status(), 400);

    // A logout parameter (on a session of its own, should it be taken as a logout).
    let spare = token(&attempt(&app, "admin", PASSWORD).await);
    let out = app
        .anon
        .post(app.url(&format!(
            "/api/v1/auth/logout?everywhere={}",
            encode("true' OR '1'='1")
        )))
        .bearer_auth(&spare)
        .send()
        .await
        .unwrap();
    note("logout everywhere", out.status().as_u16());
    assert_eq!(out.status(), 400);

    let server_errors: Vec<_> = answers.iter().filter(|(_, s)| *s >= 500).collect();
    assert!(server_errors.is_empty(), "{server_errors:?}");

    // Everything is still there.
    for r in &app.settings.regions {
        let pool = app.shard(&r.name).await;
        let (exists,): (Option<String>,) = sqlx::query_as("SELECT to_regclass('patients')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(exists.is_some(), "patients of {} is gone", r.name);
        pool.close().await;
    }
    assert_eq!(app.patients_per_region().await["quthing"].len(), 2);
    let central = app.central().await;
    for table in ["users", "sessions", "login_audit"] {
        let (exists,): (Option<String>,) = sqlx::query_as("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&central)
            .await
            .unwrap();
        assert!(exists.is_some(), "central {table} is gone");
    }
    let (status, _) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        me(&app, &token(&attempt(&app, "admin", PASSWORD).await)).await,
        200
    );
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
