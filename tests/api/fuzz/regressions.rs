//! Inputs the generated requests found, kept as named tests so that they stay fixed
//! whatever the generator draws next.

use crate::helpers::{patient, spawn_app};
use crate::openapi_contract::{document, operations};

/// Found by the fuzz test: `%C0%AF` decodes to bytes that are no UTF-8, and the routes
/// that took their `{id}` or `{username}` with axum's own `Path` answered a plain-text 400.
#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_is_refused_as_problem_json_naming_it_on_every_route() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let id = app.create_patient(&patient("Quthing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut failures = Vec::new();
    for op in operations(&doc)
        .into_iter()
        .filter(|op| op.template.contains('{'))
    {
        for bad in op.params("path") {
            let path = op.path(|name| {
                match name {
                    n if n == bad => "%C0%AF",
                    "id" => id.as_str(),
                    "username" => "no.such.user",
                    _ => "0190a0b0-0000-7000-8000-00000000ffff",
                }
                .to_owned()
            });
            let method = op.method.to_uppercase().parse().unwrap();
            let response = app
                .client
                .request(method, app.url(&path))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let media = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let named = body["errors"].to_string().contains(&bad)
                || body["detail"].to_string().contains(&bad);
            if status != 400 || media != "application/problem+json" || !named {
                failures.push(format!("{} ({bad}): {status} {media} {body}", op.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
