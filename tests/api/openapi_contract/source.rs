//! What no request of these tests provokes (a stale If-Match, a missing one, a conflict
//! with a record's state, a bug's 500) is checked in the handlers' sources: a handler
//! that takes an extractor or calls a check listed here must name, in its
//! `#[utoipa::path]`, the response set of `src/http/openapi.rs` that documents it.

use std::path::Path;

/// (what the handler's signature or body contains, the sets of which its attribute must
/// name one).
const RULES: &[(&str, &[&str])] = &[
    ("ApiJson<", &["BadBody"]),
    ("ApiQuery<", &["BadQuery"]),
    ("Subject", &["Signed"]),
    ("actor: Actor", &["Signed"]),
    ("authorize(", &["Denied"]),
    ("require(", &["Denied"]),
    ("require_users(", &["Denied"]),
    ("open(", &["Denied", "ByPatient"]),
    ("locate(", &["ByPatient"]),
    ("if_match(", &["Versioned"]),
    ("PreconditionRequired", &["MatchRequired"]),
    ("ApiError::Conflict", &["Conflict"]),
    ("moving(", &["Conflict"]),
    ("merged(", &["Conflict"]),
    ("live(", &["Gone"]),
    ("writable(", &["Gone"]),
    ("ApiError::NotFound", &["Missing", "ByPatient"]),
    // A region's database asked: it may be down.
    ("ApiError::Shard", &["Unavailable", "ByPatient"]),
    ("db(shard)", &["Unavailable", "ByPatient"]),
    ("shard.conn()", &["Unavailable", "ByPatient"]),
];

/// Each `#[utoipa::path(...)]` with the function after it, up to its closing brace.
fn handlers(source: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("#[utoipa::path(") {
        let from = &rest[start..];
        let attr_end = from.find(")]\n").expect("an attribute ends") + 3;
        let body_end = from[attr_end..]
            .find("\n}\n")
            .map_or(from.len(), |e| attr_end + e + 3);
        out.push((&from[..attr_end], &from[attr_end..body_end]));
        rest = &from[body_end..];
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn every_handler_documents_the_statuses_its_extractors_and_checks_can_answer() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut failures = Vec::new();
    let mut seen = 0;
    for (file, source) in &files {
        for (attr, function) in handlers(source) {
            seen += 1;
            let name = function
                .split("fn ")
                .nth(1)
                .and_then(|f| f.split('(').next())
                .unwrap_or("?");
            for (cause, sets) in RULES {
                let names = |set: &&str| {
                    attr.contains(&format!("::{set},")) || attr.contains(&format!("::{set})"))
                };
                if function.contains(cause) && !sets.iter().any(names) {
                    failures.push(format!(
                        "{file} {name}: uses {cause} but documents none of {sets:?}"
                    ));
                }
            }
            let signed = function.contains("Subject") || function.contains("actor: Actor");
            if signed && !attr.contains("security(") {
                failures.push(format!(
                    "{file} {name}: needs a session but names no security"
                ));
            }
            if attr.contains("body = Problem") || attr.contains("body = super::Problem") {
                failures.push(format!(
                    "{file} {name}: a Problem outside the sets is served as application/json"
                ));
            }
        }
    }
    assert!(
        seen >= 30,
        "found only {seen} handlers: is the scan still right?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
