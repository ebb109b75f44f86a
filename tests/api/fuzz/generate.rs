//! Requests generated from the OpenAPI document: path parameters that are the test's
//! records, other IDs or junk; query parameters of the right type, the wrong one, huge,
//! unicode, control characters percent-encoded, repeated or unknown; JSON bodies built
//! from each schema (with the words hmis knows, so some get past validation) and then
//! mutated (a field dropped, retyped, nulled, huge, nested deep, added), or bytes that
//! are no JSON, or the wrong content type (`bodies`).

use super::bodies::{body, seed};
use proptest::prelude::*;
use serde_json::Value;

/// What the generated requests may name: the test's own records and users.
pub struct Fixtures {
    pub patients: Vec<String>,
    pub observation: String,
    pub user: String,
}

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `{name}` to its (percent-encoded) value.
    pub path: Vec<(String, String)>,
    /// The query string, without `?`, percent-encoded.
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// Content type (none when empty) and bytes.
    pub body: Option<(String, Vec<u8>)>,
}

/// The words hmis gives meaning to, so that generated values reach past the first check.
pub fn words(fx: &Fixtures) -> Vec<String> {
    let mut out: Vec<String> = [
        "Quthing",
        "Maseru",
        "Berea",
        "Mokhotlong",
        "quthing",
        "Nowhere",
        "maseru",
        "mafeteng",
        "leribe",
        "atlantis",
        "*",
        "female",
        "male",
        "other",
        "unknown",
        "Palesa",
        "Mokoena",
        "1990-04-12",
        "2090-01-01",
        "1899-12-31",
        "1990-02-30",
        "2026-11-23T10:00:00+02:00",
        "5812 3456",
        "+266 5812 3456",
        "8867-4",
        "/min",
        "8310-5",
        "Cel",
        "[degF]",
        "kg",
        "nurse",
        "clinician",
        "records_clerk",
        "regional_admin",
        "planner",
        "patient",
        "patient_audit",
        "read",
        "create",
        "any",
        "own",
        "region",
        "district",
        "sex",
        "name",
        "-name",
        "created_at",
        "strong",
        "eventual",
        "entered-in-error",
        "fuzz",
        "jsonl",
        "csv",
        "SELECT count(*) AS n FROM patients",
        "SELECT 1",
        "DELETE FROM patients",
        "long-enough-password",
        "test-password",
        "no.such.user",
        "0190a0b0-0000-7000-8000-00000000ffff",
    ]
    .map(String::from)
    .to_vec();
    out.extend(fx.patients.iter().cloned());
    out.push(fx.observation.clone());
    out.push(fx.user.clone());
    out
}

/// Text that breaks naive code: any unicode, controls, quotes, sizes up to over the limit.
pub fn junk() -> BoxedStrategy<String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[ -~]{0,40}",
        1 => "[\\x00-\\x1f\\x7f]{1,8}",
        1 => Just("\u{202e}\u{0301}\u{fffd}😷".to_owned()),
        1 => (1usize..70_000).prop_map(|n| "a".repeat(n)),
        1 => Just(String::new()),
    ]
    .boxed()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A path parameter: the test's records, IDs no region has, and junk (some of it
/// percent-encoded wrongly on purpose). Never the admin the test runs as.
fn path_value(name: &str, fx: &Fixtures) -> BoxedStrategy<String> {
    let known: Vec<String> = match name {
        "id" => fx.patients.clone(),
        "observation_id" => vec![fx.observation.clone()],
        "username" => vec![fx.user.clone(), "no.such.user".into()],
        _ => vec![uuid::Uuid::now_v7().to_string()],
    };
    prop_oneof![
        4 => prop::sample::select(known),
        1 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        2 => junk().prop_filter("not the admin", |s| !s.eq_ignore_ascii_case("admin")).prop_map(|s| encode(&s)),
        1 => prop::sample::select(vec!["%zz", "%", "%C0%AF", "%FF%FE", "%00", "..", "%2F", "%2e%2e"])
            .prop_map(String::from),
    ]
    .boxed()
}

fn query_value(schema: &Value, fx: &Fixtures) -> BoxedStrategy<String> {
    let typed = match schema["type"].as_str() {
        Some("integer") => prop_oneof![
            (-5i64..300).prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("99999999999999999999999".to_owned()),
            Just("1.5".to_owned()),
        ]
        .boxed(),
        Some("boolean") => prop::sample::select(vec!["true", "false", "1", "yes", ""])
            .prop_map(String::from)
            .boxed(),
        _ => prop::sample::select(words(fx)).boxed(),
    };
    prop_oneof![3 => typed, 1 => junk()].boxed()
}

/// The query: some documented parameters (some repeated), sometimes an unknown one.
fn query(op: &Value, fx: &Fixtures) -> BoxedStrategy<String> {
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .collect();
    let mut parts: Vec<BoxedStrategy<Vec<(String, String)>>> = Vec::new();
    for p in params {
        let name = p["name"].as_str().unwrap().to_owned();
        let one = query_value(&p["schema"], fx);
        // Mostly absent or once, sometimes repeated.
        let count = prop_oneof![5 => Just(0usize), 5 => Just(1), 1 => 2usize..4];
        parts.push(
            count
                .prop_flat_map(move |n| prop::collection::vec(one.clone(), n))
                .prop_map(move |values| values.into_iter().map(|v| (name.clone(), v)).collect())
                .boxed(),
        );
    }
    let unknown =
        prop::option::weighted(0.1, (junk(), junk())).prop_map(|kv| kv.into_iter().collect());
    parts.push(unknown.boxed());
    parts
        .prop_map(|lists| {
            lists
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{}={}", encode(&k), encode(&v)))
                .collect::<Vec<_>>()
                .join("&")
        })
        .boxed()
}

/// Header parameters (`Idempotency-Key`, `If-Match`): absent, plausible, or junk that is
/// still a legal header value.
fn headers(op: &Value) -> BoxedStrategy<Vec<(String, String)>> {
    let names: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let value = prop_oneof![
        Just("\"1\"".to_owned()),
        Just("\"0\"".to_owned()),
        Just("*".to_owned()),
        Just("W/\"1\"".to_owned()),
        Just("\"99999999999999999999\"".to_owned()),
        "[ -~]{0,80}",
        (1usize..9000).prop_map(|n| "k".repeat(n)),
    ];
    let each: Vec<_> = names
        .into_iter()
        .map(|n| prop::option::of(value.clone()).prop_map(move |v| v.map(|v| (n.clone(), v))))
        .collect();
    each.prop_map(|hs| hs.into_iter().flatten().collect())
        .boxed()
}

/// The requests of one operation of the document.
pub fn requests(
    doc: &Value,
    method: &str,
    template: &str,
    op: &Value,
    fx: &Fixtures,
) -> BoxedStrategy<Generated> {
    let names: Vec<String> = template
        .split('{')
        .skip(1)
        .map(|s| s.split('}').next().unwrap().to_owned())
        .collect();
    let path: Vec<_> = names
        .into_iter()
        .map(|n| path_value(&n, fx).prop_map(move |v| (n.clone(), v)))
        .collect();
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    let body = if schema.is_null() {
        // A body where none is expected must be ignored or refused, never trip anything.
        prop_oneof![9 => Just(None), 1 => Just(Some(("application/json".to_owned(), b"{\"x\":1}".to_vec())))].boxed()
    } else {
        body(doc, schema, seed(method, template, fx), fx)
    };
    (path, query(op, fx), headers(op), body)
        .prop_map(|(path, query, headers, body)| Generated {
            path,
            query,
            headers,
            body,
        })
        .boxed()
}
