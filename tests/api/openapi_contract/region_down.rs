//! With a region that cannot be reached, every operation that asks it (by a patient's ID,
//! by placing a new patient there, or across regions with `consistency=strict`) answers
//! only what its document says: 503 where the region was needed.

use super::statuses::{check, fill, send, valid_body, valid_query};
use super::{document, operations};
use crate::helpers::{patient, spawn_app_with};
use hmis::config::DatabaseUrl;

#[tokio::test]
async fn a_region_that_is_down_gives_only_documented_answers() {
    let app = spawn_app_with(|s| {
        let maseru = s.regions.iter_mut().find(|r| r.name == "maseru").unwrap();
        // Nothing listens on port 1: every connection is refused at once.
        maseru.database_url =
            DatabaseUrl::new("postgresql://hmis@127.0.0.1:1/hmis_maseru".to_owned());
    })
    .await;
    let doc = document(&app).await;
    let code = app.settings.region("maseru").unwrap().code;
    let maseru_id = hmis::domain::PatientId::new(code).to_string();
    let other = hmis::domain::PatientId::new(code).to_string();
    let mut failures = Vec::new();
    let mut asked = 0;
    for op in operations(&doc) {
        let by_id = op.template.contains("{id}");
        let strict = op.params("query").contains("consistency");
        let creates = op.method == "post" && op.template == "/api/v1/patients";
        let planning = op.template == "/api/v1/query";
        if !(by_id || strict || creates || planning) {
            continue;
        }
        let mut path = op.path(|n| fill(n, &maseru_id)) + valid_query(&op);
        if strict {
            path.push_str(if path.contains('?') { "&" } else { "?" });
            path.push_str("consistency=strict");
        }
        let mut body = valid_body(&op, &other);
        if creates {
            body = patient("Maseru");
        }
        let method = op.method.to_uppercase().parse().unwrap();
        let mut request = app.client.request(method, app.url(&path));
        if op.has_body() {
            request = request.json(&body);
        }
        let seen = send(&op, "its region down", request.header("if-match", "\"1\"")).await;
        asked += usize::from(seen.status == 503);
        check(&op, &[(seen, None)], &mut failures);
    }
    assert!(asked > 0, "no operation found the region down");
    assert!(
        failures.is_empty(),
        "answers the document does not describe:\n{}",
        failures.join("\n")
    );
}
