//! Request bodies from an operation's JSON schema: values of every declared type (the
//! words hmis knows among them, and a body it accepts to start from), then mutated (a field
//! dropped, retyped, nulled, made huge or nested deep, an unknown one added, the whole
//! body replaced), or bytes that are no JSON, or JSON under another content type.

use super::generate::{Fixtures, junk, words};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

/// A JSON value of `schema`, with `$ref`, `oneOf` and type lists (`["string", "null"]`).
fn from_schema(doc: &Value, schema: &Value, fx: &Fixtures, depth: u32) -> BoxedStrategy<Value> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return from_schema(doc, &doc["components"]["schemas"][name], fx, depth);
    }
    if let Some(alternatives) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let each: Vec<_> = alternatives
            .iter()
            .map(|a| from_schema(doc, a, fx, depth))
            .collect();
        return prop::sample::select((0..each.len()).collect::<Vec<_>>())
            .prop_flat_map(move |i| each[i].clone())
            .boxed();
    }
    if let Some(values) = schema["enum"].as_array() {
        return prop::sample::select(values.clone()).boxed();
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec!["string".into()],
    };
    let each: Vec<BoxedStrategy<Value>> = types
        .iter()
        .map(|t| of_type(doc, schema, t, fx, depth))
        .collect();
    // The first type listed is the real one; `null` is the alternative.
    let weights: Vec<u32> = (0..each.len())
        .map(|i| if i == 0 { 6 } else { 1 })
        .collect();
    let choices: Vec<(u32, BoxedStrategy<Value>)> = weights.into_iter().zip(each).collect();
    proptest::strategy::Union::new_weighted(choices).boxed()
}

fn of_type(
    doc: &Value,
    schema: &Value,
    t: &str,
    fx: &Fixtures,
    depth: u32,
) -> BoxedStrategy<Value> {
    match t {
        "null" => Just(Value::Null).boxed(),
        "boolean" => any::<bool>().prop_map(Value::from).boxed(),
        "integer" => prop_oneof![4 => (-2i64..200).prop_map(Value::from), 1 => any::<i64>().prop_map(Value::from)].boxed(),
        "number" => prop_oneof![
            4 => (-10.0f64..400.0).prop_map(|f| json!(f)),
            1 => any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(|f| json!(f)),
        ]
        .boxed(),
        "array" if depth < 3 => {
            let items = from_schema(doc, &schema["items"], fx, depth + 1);
            prop::collection::vec(items, 0..4).prop_map(Value::Array).boxed()
        }
        "array" => Just(json!([])).boxed(),
        "object" if depth < 3 => object(doc, schema, fx, depth),
        "object" => Just(json!({})).boxed(),
        _ => {
            let example = schema["example"].as_str().map(String::from);
            let mut pool = words(fx);
            pool.extend(example);
            prop_oneof![4 => prop::sample::select(pool), 1 => junk()]
                .prop_map(Value::String)
                .boxed()
        }
    }
}

/// Every required property, and each optional one four times in five.
fn object(doc: &Value, schema: &Value, fx: &Fixtures, depth: u32) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, p) in schema["properties"].as_object().into_iter().flatten() {
        let value = from_schema(doc, p, fx, depth + 1);
        let name = name.clone();
        let value = if required.contains(&name.as_str()) {
            value.prop_map(Some).boxed()
        } else {
            prop::option::weighted(0.8, value).boxed()
        };
        fields.push(
            value
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed(),
        );
    }
    fields
        .prop_map(|fs| Value::Object(fs.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

/// What to do to a generated body.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Drop(Index),
    Retype(Index, Value),
    Extra(String, Value),
    Whole(Value),
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("deep"), |v, i| {
        if i % 2 == 0 {
            json!([v])
        } else {
            json!({ "a": v })
        }
    })
}

fn mutation() -> BoxedStrategy<Mutation> {
    let wrong = prop_oneof![
        Just(Value::Null),
        Just(json!(5)),
        Just(json!(-1e300)),
        Just(json!(true)),
        Just(json!("five")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(["a", 1, null])),
        (1usize..70_000).prop_map(|n| json!("x".repeat(n))),
        (30usize..300).prop_map(nested),
        junk().prop_map(Value::String),
    ];
    prop_oneof![
        4 => Just(Mutation::None),
        2 => any::<Index>().prop_map(Mutation::Drop),
        4 => (any::<Index>(), wrong.clone()).prop_map(|(i, v)| Mutation::Retype(i, v)),
        1 => (junk(), wrong.clone()).prop_map(|(k, v)| Mutation::Extra(k, v)),
        1 => wrong.prop_map(Mutation::Whole),
    ]
    .boxed()
}

fn mutate(mut body: Value, m: Mutation) -> Value {
    let Some(fields) = body.as_object_mut() else {
        return body;
    };
    let keys: Vec<String> = fields.keys().cloned().collect();
    match m {
        Mutation::None => {}
        Mutation::Drop(i) if !keys.is_empty() => {
            fields.remove(&keys[i.index(keys.len())]);
        }
        Mutation::Retype(i, v) if !keys.is_empty() => {
            fields.insert(keys[i.index(keys.len())].clone(), v);
        }
        Mutation::Drop(_) | Mutation::Retype(..) => {}
        Mutation::Extra(k, v) => {
            fields.insert(k, v);
        }
        Mutation::Whole(v) => return v,
    }
    body
}

/// A body the operation accepts (when the record allows it), for mutations to start from,
/// so that some requests get through validation to the writes.
pub fn seed(method: &str, template: &str, fx: &Fixtures) -> Option<BoxedStrategy<Value>> {
    let fixed = |v: Value| Some(Just(v).boxed());
    match (method, template) {
        ("post", "/api/v1/auth/login") => {
            fixed(json!({"username": fx.user, "password": crate::helpers::PASSWORD}))
        }
        ("post", "/api/v1/patients") => {
            let district = prop::sample::select(vec!["Quthing", "Maseru", "Berea", "Leribe"]);
            let person = (
                "[A-Z][a-z]{3,9}",
                "[A-Z][a-z]{3,9}",
                1940i32..2025,
                1u32..13,
                1u32..29,
            );
            Some(
                (person, district)
                    .prop_map(|((given, family, y, m, d), district)| {
                        json!({"given_name": given, "family_name": family, "sex": "female",
                               "birth_date": format!("{y}-{m:02}-{d:02}"), "district": district})
                    })
                    .boxed(),
            )
        }
        ("patch", "/api/v1/patients/{id}") => fixed(json!({"village": "Ha Fuzz"})),
        ("post", "/api/v1/patients/{id}/observations") => {
            fixed(json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]}))
        }
        ("patch", "/api/v1/patients/{id}/observations/{observation_id}") => {
            fixed(json!({"value": 71, "reason": "fuzz"}))
        }
        ("post", "/api/v1/patients/{id}/merge") => {
            fixed(json!({"duplicate": fx.patients[1], "reason": "fuzz"}))
        }
        ("post", "/api/v1/patients/{id}/unmerge") => fixed(json!({"reason": "fuzz"})),
        ("post", "/api/v1/patients/{id}/transfer") => fixed(json!({"district": "Maseru"})),
        ("post", "/api/v1/query") => fixed(json!({"sql": "SELECT count(*) AS n FROM patients"})),
        ("post", "/api/v1/admin/users") => {
            fixed(json!({"username": "fuzz.new", "password": "long-enough-password"}))
        }
        (_, "/api/v1/admin/users/{username}/grants") => {
            fixed(json!({"role": "nurse", "region": "quthing"}))
        }
        (_, "/api/v1/admin/policies") => {
            fixed(json!({"role": "nurse", "kind": "patient", "action": "read", "condition": "any"}))
        }
        _ => None,
    }
}

/// A body for an operation that takes one: mostly JSON from its schema, mutated; else
/// bytes that are no JSON, nesting past any parser's limit, or the wrong content type.
pub fn body(
    doc: &Value,
    schema: &Value,
    seed: Option<BoxedStrategy<Value>>,
    fx: &Fixtures,
) -> BoxedStrategy<Option<(String, Vec<u8>)>> {
    let json_type = "application/json".to_owned();
    let base = match seed {
        Some(seed) => prop_oneof![from_schema(doc, schema, fx, 0), seed].boxed(),
        None => from_schema(doc, schema, fx, 0),
    };
    let generated =
        (base, mutation()).prop_map(|(v, m)| serde_json::to_vec(&mutate(v, m)).unwrap());
    let types = prop::sample::select(vec![
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
        "application/jsonx",
        "multipart/form-data",
        "",
    ]);
    prop_oneof![
        8 => generated.clone().prop_map(move |b| Some((json_type.clone(), b))),
        1 => (types, generated).prop_map(|(t, b)| Some((t.to_owned(), b))),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| Some(("application/json".into(), b))),
        1 => prop_oneof![Just("{]"), Just("{\"a\":"), Just(""), Just("null"), Just("{\"a\":1,\"a\":2}")]
            .prop_map(|s| Some(("application/json".into(), s.as_bytes().to_vec()))),
        1 => (100usize..5000).prop_map(|n| Some(("application/json".into(), format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()))),
        1 => Just(None),
    ]
    .boxed()
}
