//! The OpenAPI document against the API it describes, so that a client generated from it
//! works and the two cannot drift apart: every parameter where the handler reads it
//! (here), every status a handler answers documented for its operation with the media
//! type it is served as (`statuses`, `region_down`), and the statuses no request here
//! can provoke checked against the handlers' sources (`source`).

mod region_down;
mod source;
mod statuses;

use crate::helpers::{TestApp, spawn_app};
use serde_json::Value;
use std::collections::BTreeSet;

/// A query parameter no handler accepts.
pub const UNKNOWN_PARAMETER: &str = "zz_not_a_parameter";

/// Operations whose query is free-form (any field of a record), so that no parameter is
/// unknown to them: they must still document the ones they name.
const FREE_FORM_QUERY: &[(&str, &str)] = &[("get", "/api/v1/routing/explain")];

/// One operation of the document.
pub struct Op {
    pub method: String,
    pub template: String,
    pub op: Value,
}

impl Op {
    pub fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.template)
    }

    /// The names of its parameters in `location` (`path`, `query`, `header`).
    pub fn params(&self, location: &str) -> BTreeSet<String> {
        self.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == location)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn secured(&self) -> bool {
        self.op["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    }

    pub fn has_body(&self) -> bool {
        self.op.get("requestBody").is_some()
    }

    /// Why an answer is not what the document says this operation answers, if it is not.
    pub fn undocumented(&self, status: u16, media: Option<&str>) -> Option<String> {
        let Some(response) = self.op["responses"].get(status.to_string()) else {
            return Some(format!("{status} is not documented"));
        };
        let media = media?;
        let content = response["content"].as_object();
        if content.is_some_and(|c| c.contains_key(media)) {
            return None;
        }
        let documented: Vec<&String> = content.into_iter().flat_map(|c| c.keys()).collect();
        Some(format!(
            "{status} is served as {media}, documented as {documented:?}"
        ))
    }

    /// The path with every `{name}` filled in by `fill`.
    pub fn path(&self, fill: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').unwrap() + start;
            out.push_str(&rest[..start]);
            out.push_str(&fill(&rest[start + 1..end]));
            rest = &rest[end + 1..];
        }
        out + rest
    }
}

pub async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    doc
}

pub fn operations(doc: &Value) -> Vec<Op> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.push(Op {
                    method: method.clone(),
                    template: template.clone(),
                    op: op.clone(),
                });
            }
        }
    }
    out
}

/// The names in `{...}` of a path template.
fn placeholders(template: &str) -> BTreeSet<String> {
    template
        .split('{')
        .skip(1)
        .map(|s| s.split('}').next().unwrap().to_owned())
        .collect()
}

/// The field names serde lists after "unknown field `x`, expected ...": none, `a`,
/// `a` or `b`, one of `a`, `b`, `c`.
fn expected_fields(detail: &str) -> Option<BTreeSet<String>> {
    let rest = detail
        .split(&format!("unknown field `{UNKNOWN_PARAMETER}`"))
        .nth(1)?;
    Some(
        rest.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect(),
    )
}

#[tokio::test]
async fn every_documented_parameter_is_where_the_handler_reads_it() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let id = app
        .create_patient(&crate::helpers::patient("Quthing"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut failures = Vec::new();
    for op in operations(&doc) {
        let (declared, named) = (op.params("path"), placeholders(&op.template));
        if declared != named {
            failures.push(format!(
                "{}: path parameters {declared:?}, path names {named:?}",
                op.name()
            ));
        }
        let required = op.op["parameters"].as_array().into_iter().flatten();
        for p in required.filter(|p| p["in"] == "path" && p["required"] != true) {
            failures.push(format!(
                "{}: path parameter {} is not required",
                op.name(),
                p["name"]
            ));
        }
        // A handler that parses its query names every field it accepts when refusing one.
        let path = op.path(|name| statuses::fill(name, &id));
        let url = app.url(&format!("{path}?{UNKNOWN_PARAMETER}=1"));
        let method = op.method.to_uppercase().parse().unwrap();
        let response = app.client.request(method, url).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let detail = body["detail"].as_str().unwrap_or("");
        let documented = op.params("query");
        let free = FREE_FORM_QUERY.contains(&(op.method.as_str(), op.template.as_str()));
        match expected_fields(detail) {
            Some(accepted) if status == 400 && accepted != documented => failures.push(format!(
                "{}: the handler accepts the query parameters {accepted:?}, the document says {documented:?}",
                op.name()
            )),
            Some(_) if status == 400 => {}
            _ if !documented.is_empty() && !free => failures.push(format!(
                "{}: documents the query parameters {documented:?} but did not refuse an unknown one ({status} {body})",
                op.name()
            )),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "the document's parameters are wrong:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_error_is_documented_as_problem_json_and_every_route_but_the_public_ones_needs_a_session()
 {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http", "{schemes}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["hmis_session"]["type"], "apiKey", "{schemes}");
    assert_eq!(schemes["hmis_session"]["in"], "cookie", "{schemes}");
    assert_eq!(schemes["hmis_session"]["name"], "hmis_session", "{schemes}");
    let public: BTreeSet<String> = ["POST /api/v1/auth/login", "GET /healthz", "GET /readyz"]
        .map(String::from)
        .into();
    let mut failures = Vec::new();
    for op in operations(&doc) {
        let name = op.name();
        if op.secured() == public.contains(&name) {
            failures.push(format!("{name}: security {}", op.op["security"]));
        }
        for (status, response) in op.op["responses"].as_object().unwrap() {
            let media: Vec<&String> = response["content"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.keys())
                .collect();
            // /readyz's 503 is its report, naming every region's state, not a problem.
            let report = name == "GET /readyz" && status == "503";
            if status.as_str() >= "400" && !report && media != ["application/problem+json"] {
                failures.push(format!("{name}: {status} documented as {media:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
