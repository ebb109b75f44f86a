//! Robustness against bad input over the whole API: every operation of the OpenAPI
//! document is sent a few hundred generated requests (`generate`) as a user who may call
//! it, all regions up. No answer may be a 5xx; every 4xx is problem+json that says what
//! was wrong; hmis keeps answering `/healthz`; a refused request leaves no row in any
//! region and an accepted create leaves its row with its audit line (`ledger`). Seeded
//! per operation, so CI sends the same requests every run and a failure names the one
//! to replay.

mod bodies;
mod generate;
mod ledger;
mod regressions;

use crate::helpers::{PASSWORD, TestApp, bearer_client, patient, spawn_app_with};
use crate::openapi_contract::{Op, document, operations};
use generate::{Fixtures, Generated};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use sha2::Digest;

/// Requests per operation.
const PER_OPERATION: usize = 120;

/// What one request got.
struct Answer {
    status: u16,
    media: String,
    body: Value,
}

/// The request as it would be replayed by hand, shortened for a failure message.
fn describe(op: &Op, url: &str, g: &Generated) -> String {
    let cut = |s: &str| s.chars().take(300).collect::<String>();
    let body = g
        .body
        .as_ref()
        .map(|(t, b)| format!(" [{t}] {}", cut(&String::from_utf8_lossy(b))));
    format!(
        "{} {}{:?}{}",
        op.method.to_uppercase(),
        cut(url),
        g.headers,
        body.unwrap_or_default()
    )
}

async fn send(
    client: &reqwest::Client,
    op: &Op,
    url: &str,
    g: &Generated,
) -> Result<Answer, String> {
    let mut request = client.request(op.method.to_uppercase().parse().unwrap(), url);
    for (name, value) in &g.headers {
        request = request.header(name, value);
    }
    if let Some((content_type, bytes)) = &g.body {
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        request = request.body(bytes.clone());
    }
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), request.send()).await;
    let response = match answer {
        Err(_) => return Err("no answer within 10 s".into()),
        Ok(Err(e)) if e.is_builder() => return Err("unsendable".into()),
        Ok(Err(e)) => return Err(format!("no answer (a panic?): {e}")),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("body cut off: {e}"))?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer {
        status,
        media,
        body,
    })
}

/// Why a 4xx is not a problem document that names what was wrong, if it is not.
fn bare_problem(a: &Answer) -> Option<String> {
    let named = |k: &str| a.body[k].as_str().is_some_and(|s| !s.trim().is_empty());
    if !a.media.starts_with("application/problem+json") {
        return Some(format!("served as {:?}", a.media));
    }
    if a.body["status"] != a.status || !named("title") || !named("detail") {
        return Some(format!("problem names nothing: {}", a.body));
    }
    None
}

/// One failure per kind (operation and what went wrong), with how often it happened and
/// the first request that showed it.
fn kinds(failures: &[(String, String)]) -> String {
    let mut seen: Vec<(String, usize, &String)> = Vec::new();
    for (op, f) in failures {
        let why = f.rsplit(": ").next().unwrap_or(f);
        let why: String = why
            .chars()
            .filter(|c| !c.is_ascii_hexdigit())
            .take(40)
            .collect();
        let key = format!("{op} {why}");
        match seen.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => seen.push((key, 1, f)),
        }
    }
    let lines: Vec<String> = seen.iter().map(|(_, n, f)| format!("{n}x {f}")).collect();
    format!(
        "{} failures of {} kinds:\n{}",
        failures.len(),
        seen.len(),
        lines.join("\n")
    )
}

/// Whether the operation can touch a region's tables, so that rows are counted around
/// each of its requests; the others must leave every region as it was over all of them.
fn touches_regions(op: &Op) -> bool {
    [
        "/api/v1/patients",
        "/api/v1/query",
        "/api/v1/stats",
        "/api/v1/events",
    ]
    .iter()
    .any(|p| op.template.starts_with(p))
}

/// What is wrong with one answer, given the rows before and after it (when counted).
async fn judge(
    op: &Op,
    a: &Answer,
    rows: Option<(&ledger::Counts, &ledger::Counts)>,
    ledger: &ledger::Ledger,
) -> Vec<String> {
    let mut out = Vec::new();
    if a.status >= 500 {
        out.push(format!("{} {}", a.status, a.body));
    }
    if (400..500).contains(&a.status) {
        out.extend(bare_problem(a).map(|why| format!("{} {why}", a.status)));
    }
    let Some((before, after)) = rows else {
        return out;
    };
    let created = match op.name().as_str() {
        "POST /api/v1/patients" => Some(0),
        "POST /api/v1/patients/{id}/observations" => Some(1),
        _ => None,
    };
    if a.status >= 400 && before != after {
        if let Err(why) = ledger.refused_attempt_on_record(before, after).await {
            out.push(format!("refused with {}, but {why}", a.status));
        }
    } else if let (201, Some(table)) = (a.status, created)
        && let Err(why) = ledger::created_with_audit(before, after, table)
    {
        out.push(format!("created, but {why}"));
    }
    out
}

/// Records of this operation's own: earlier operations may have deleted, moved or merged
/// the previous ones.
async fn fixtures(app: &TestApp) -> Fixtures {
    let mut patients = Vec::new();
    for district in ["Quthing", "Quthing", "Maseru"] {
        patients.push(
            app.create_patient(&patient(district)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let vitals = json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]});
    let recorded: Value = app
        .client
        .post(app.url(&format!("/api/v1/patients/{}/observations", patients[0])))
        .json(&vitals)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let observation = recorded["observations"][0]["id"]
        .as_str()
        .expect("recorded")
        .to_owned();
    Fixtures {
        patients,
        observation,
        user: "fuzz.target".into(),
    }
}

/// The same requests for an operation on every run, whatever other operations exist.
fn runner(op: &Op) -> TestRunner {
    let seed = sha2::Sha256::digest(op.name().as_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

#[tokio::test]
async fn generated_requests_to_every_operation_get_no_5xx_no_bare_4xx_and_leave_no_partial_write() {
    let app = spawn_app_with(|s| {
        // A long-poll answers at once and a planner's query gives up soon: the test is
        // about what is sent, not about waiting.
        s.file.live.long_poll_seconds = 0;
        s.file.server.query_timeout_ms = 2000;
    })
    .await;
    let doc = document(&app).await;
    let central = app.central().await;
    for user in ["fuzz.target", "fuzz.logout"] {
        hmis::auth::users::create(&central, user, PASSWORD, user)
            .await
            .unwrap();
    }
    let ledger = ledger::Ledger::open(&app).await;
    let started = std::time::Instant::now();
    let (mut failures, mut sent, mut summary) = (Vec::new(), 0, Vec::new());
    for op in operations(&doc) {
        let fx = fixtures(&app).await;
        let strategy = generate::requests(&doc, &op.method, &op.template, &op.op, &fx);
        let mut runner = runner(&op);
        // Logging out ends the session it is sent with: that one gets a session of its own.
        let logout = op.template == "/api/v1/auth/logout";
        let mut client = match (logout, op.secured()) {
            (true, _) => bearer_client(&app.login("fuzz.logout", PASSWORD).await),
            (false, true) => app.client.clone(),
            (false, false) => app.anon.clone(),
        };
        let (per_request, mut relogins) = (touches_regions(&op), 0);
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let first = ledger.counts().await;
        let mut before = first.clone();
        for _ in 0..PER_OPERATION {
            let g = strategy.new_tree(&mut runner).unwrap().current();
            let path = op.path(|name| g.path.iter().find(|(n, _)| n == name).unwrap().1.clone());
            let mut url = app.url(&path);
            if !g.query.is_empty() {
                url = format!("{url}?{}", g.query);
            }
            let what = describe(&op, &url, &g);
            let answer = match send(&client, &op, &url, &g).await {
                Err(e) if e == "unsendable" => continue,
                Err(e) => {
                    failures.push((op.name(), format!("{what}: {e}")));
                    continue;
                }
                Ok(a) => a,
            };
            sent += 1;
            *statuses.entry(answer.status).or_default() += 1;
            let after = match (per_request, answer.status < 300 && op.method != "get") {
                (false, _) => None,
                (true, true) => Some(ledger.settled().await),
                (true, false) => Some(ledger.counts().await),
            };
            let rows = after.as_ref().map(|a| (&before, a));
            for why in judge(&op, &answer, rows, &ledger).await {
                failures.push((op.name(), format!("{what}: {why}")));
            }
            // Each login costs a password hash: after a few, the dead session is fuzzed too.
            if logout && answer.status < 300 && relogins < 10 {
                relogins += 1;
                client = bearer_client(&app.login("fuzz.logout", PASSWORD).await);
            }
            before = after.unwrap_or(before);
        }
        if !per_request && ledger.counts().await != first {
            failures.push((op.name(), "wrote rows in a region".into()));
        }
        let health = app.anon.get(app.url("/healthz")).send().await;
        if !health.is_ok_and(|r| r.status() == 200) {
            failures.push((op.name(), "/healthz stopped answering after it".into()));
        }
        summary.push(format!("{}: {statuses:?}", op.name()));
    }
    println!(
        "{sent} requests in {:.1} s:\n{}",
        started.elapsed().as_secs_f64(),
        summary.join("\n")
    );
    assert!(failures.is_empty(), "{}", kinds(&failures));
}
