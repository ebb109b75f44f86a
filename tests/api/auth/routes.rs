//! What needs a session: every route in the API description but login and the health
//! checks refuses a request without credentials (or with a made-up token), and the refused
//! requests write nothing.

use super::{Answer, attempt, me};
use crate::helpers::{PASSWORD, patient, spawn_app};

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
            let other = uuid::Uuid::now_v7().to_string();
            let concrete = path
                .replace("{id}", &id)
                .replace("{username}", "admin")
                .replace("{observation_id}", &other)
                .replace("{alert_id}", &other);
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
    let page = app.anon.get(app.url("/")).send().await.unwrap();
    assert!(
        page.headers()["content-type"]
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
