//! CSRF: a cookie session must send its own CSRF token in a header to change anything (the
//! CSRF cookie alone, the session token or another session's CSRF token will not do); GETs
//! and bearer tokens need none.

use super::{Answer, attempt, token};
use crate::helpers::{PASSWORD, bearer_client, patient, spawn_app};
use serde_json::Value;

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
