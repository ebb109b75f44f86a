//! Every request that spans regions decides which ones the same way
//! (`hmis::records::regions`): unknown names first (400 for a query parameter, 422 for a
//! body field, nothing audited), then permission (403 naming every refused region, a
//! denied line in each), and without names, silently the permitted ones. One table, the
//! same expectations for patient lists, statistics, planners' queries and registration.

use crate::helpers::{TestApp, patient, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

/// The cross-region endpoints, and how each names the regions asked.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    List,
    Stats,
    Query,
}

/// What a request answered: its status, its body, and the regions it asked.
struct Answer {
    status: u16,
    body: Value,
    asked: Vec<String>,
}

impl Endpoint {
    /// The field that names regions, and the denied line's action.
    fn field_and_action(self) -> (&'static str, &'static str) {
        match self {
            Endpoint::List => ("region", "read"),
            Endpoint::Stats => ("region", "read stats"),
            Endpoint::Query => ("regions", "run query"),
        }
    }

    async fn ask(self, app: &TestApp, client: &Client, regions: Option<&[&str]>) -> Answer {
        let param = regions.map_or(String::new(), |r| format!("?region={}", r.join(",")));
        let request = match self {
            Endpoint::List => client.get(app.url(&format!("/api/v1/patients{param}"))),
            Endpoint::Stats => client.get(app.url(&format!("/api/v1/stats/patients{param}"))),
            Endpoint::Query => {
                let mut body = json!({"sql": "SELECT 1 AS one"});
                if let Some(r) = regions {
                    body["regions"] = json!(r);
                }
                client.post(app.url("/api/v1/query")).json(&body)
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get("x-hmis-regions")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        // A query streams JSON lines; its header lists the regions asked.
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let asked = match header {
            Some(h) if status == 200 => h.split(',').map(str::to_owned).collect(),
            _ => body["regions_ok"].as_array().map_or(Vec::new(), |r| {
                r.iter().map(|r| r.as_str().unwrap().to_owned()).collect()
            }),
        };
        Answer {
            status,
            body,
            asked,
        }
    }
}

/// Each region's denied lines of `actor`, as actions.
async fn denied_lines(app: &TestApp, actor: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for region in ["quthing", "maseru", "mafeteng", "leribe"] {
        let pool = app.shard(region).await;
        let actions: Vec<(String,)> = sqlx::query_as(
            "SELECT action FROM audit_log WHERE actor = $1 AND outcome = 'denied' ORDER BY id",
        )
        .bind(actor)
        .fetch_all(&pool)
        .await
        .unwrap();
        out.extend(actions.into_iter().map(|(a,)| (region.to_owned(), a)));
        pool.close().await;
    }
    out.sort();
    out
}

/// The denied lines once `expected` many are there (they are written after the answer).
async fn denied_after(app: &TestApp, actor: &str, expected: usize) -> Vec<(String, String)> {
    for _ in 0..60 {
        let lines = denied_lines(app, actor).await;
        if lines.len() >= expected {
            // A moment more, so that a line too many would show too.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return denied_lines(app, actor).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    denied_lines(app, actor).await
}

fn lines(regions: &[&str], action: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = regions
        .iter()
        .map(|r| ((*r).to_owned(), action.to_owned()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn lists_statistics_and_queries_check_unknown_regions_then_permission_and_audit_refusals_alike()
 {
    let app = spawn_app().await;
    for (i, endpoint) in [Endpoint::List, Endpoint::Stats, Endpoint::Query]
        .into_iter()
        .enumerate()
    {
        // A regional admin of Quthing may do everything there, and nothing elsewhere.
        let name = format!("ra.table{i}");
        let admin = app.user(&name, "regional_admin", "quthing").await;
        let (field, action) = endpoint.field_and_action();
        let unknown_status = if field == "regions" { 422 } else { 400 };
        let unknown_type = if field == "regions" {
            "urn:hmis:problem:validation"
        } else {
            "urn:hmis:problem:bad-request"
        };
        let case = |what: &str| format!("{endpoint:?}, {what}");

        // Unknown names come first, even beside a refused region: all of them named,
        // nothing audited.
        let a = endpoint
            .ask(&app, &admin, Some(&["maseru", "atlantis", "nowhere"]))
            .await;
        let what = case("unknown");
        assert_eq!(a.status, unknown_status, "{what}: {}", a.body);
        assert_eq!(a.body["type"], unknown_type, "{what}: {}", a.body);
        assert_eq!(a.body["errors"][0]["field"], field, "{what}: {}", a.body);
        let reason = a.body["errors"][0]["reason"].as_str().unwrap();
        assert!(
            reason.contains("\"atlantis\", \"nowhere\""),
            "{what}: {reason}"
        );

        // Refused regions: every one named, and a denied line in each, none elsewhere.
        let a = endpoint
            .ask(&app, &admin, Some(&["quthing", "maseru", "leribe"]))
            .await;
        let what = case("refused");
        assert_eq!(a.status, 403, "{what}: {}", a.body);
        assert_eq!(a.body["type"], "urn:hmis:problem:forbidden", "{what}");
        assert_eq!(a.body["errors"][0]["field"], field, "{what}: {}", a.body);
        let detail = a.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("regions maseru, leribe"),
            "{what}: {detail}"
        );
        assert!(!detail.contains("quthing"), "{what}: {detail}");
        assert_eq!(
            denied_after(&app, &name, 2).await,
            lines(&["maseru", "leribe"], action),
            "{what}: the unknown case audited nothing, the refusal audited where refused"
        );

        // Permitted, named: asked exactly.
        let a = endpoint.ask(&app, &admin, Some(&["quthing"])).await;
        assert_eq!(a.status, 200, "{}: {}", case("permitted"), a.body);
        assert_eq!(a.asked, ["quthing"], "{}", case("permitted"));

        // None named: silently the permitted ones.
        let a = endpoint.ask(&app, &admin, None).await;
        assert_eq!(a.status, 200, "{}: {}", case("none named"), a.body);
        assert_eq!(a.asked, ["quthing"], "{}", case("none named"));
        assert_eq!(
            denied_lines(&app, &name).await.len(),
            2,
            "nothing more denied"
        );
    }
}

#[tokio::test]
async fn statistics_and_queries_nobody_may_ask_anywhere_are_refused_and_audited_in_every_region() {
    let app = spawn_app().await;
    // A nurse reads patients, but neither statistics nor planners' queries.
    let nurse = app.user("n.nowhere", "nurse", "quthing").await;
    let every = ["quthing", "maseru", "mafeteng", "leribe"];
    let mut expected = Vec::new();
    for endpoint in [Endpoint::Stats, Endpoint::Query] {
        let a = endpoint.ask(&app, &nurse, None).await;
        assert_eq!(a.status, 403, "{endpoint:?}: {}", a.body);
        assert_eq!(a.body["type"], "urn:hmis:problem:forbidden");
        let detail = a.body["detail"].as_str().unwrap();
        assert!(detail.contains("in any region"), "{endpoint:?}: {detail}");
        expected.extend(lines(&every, endpoint.field_and_action().1));
    }
    expected.sort();
    assert_eq!(denied_after(&app, "n.nowhere", 8).await, expected);
}

#[tokio::test]
async fn registration_is_refused_and_audited_outside_the_clerks_regions_and_checks_duplicates_only_inside()
 {
    let app = spawn_app().await;
    let admin = app.user("ra.register", "regional_admin", "quthing").await;
    let post = |body: Value| {
        let admin = admin.clone();
        let url = app.url("/api/v1/patients");
        async move {
            let r = admin.post(url).json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Refused: a region she may not create in; 403, audited there.
    let (status, body) = post(patient("Maseru")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["type"], "urn:hmis:problem:forbidden");
    assert_eq!(
        denied_after(&app, "ra.register", 1).await,
        lines(&["maseru"], "create")
    );
    // The duplicate check asks the regions she may read, and no other, without a word:
    // the same person registered in Maseru is not hers to see; in Quthing it is.
    let person = patient("Maseru");
    app.create_patient(&person).await;
    let mut again = person.clone();
    again["district"] = json!("Quthing");
    let (status, body) = post(again.clone()).await;
    assert_eq!(status, 201, "Maseru was not asked: {body}");
    let (status, body) = post(again).await;
    assert_eq!(status, 409, "Quthing was asked: {body}");
    assert_eq!(body["type"], "urn:hmis:problem:possible-duplicates");
    assert_eq!(denied_lines(&app, "ra.register").await.len(), 1);
}
