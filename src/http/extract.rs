//! Extractors whose rejections are problem+json naming the field: a clerk's app should be
//! able to put the reason next to the input box it belongs to.
//!
//! They are also where control characters are refused, once for every route: in any string
//! of a JSON body (keys too), any query parameter, any path parameter and the headers that
//! are stored, each a 422 naming the field (`vitals[0].unit`, `reason`, `q`, `username`,
//! `Idempotency-Key`). A NUL would otherwise reach PostgreSQL and fail as a 500. Tab and
//! line breaks are kept in the multi-line fields of [`text::MULTILINE_FIELDS`].

use super::ApiError;
use crate::domain::{FieldError, text};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::{header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body. Unknown fields, wrong types and malformed JSON are 400/422 with the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The configured body limit, put in request extensions so rejections can quote it.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Parses a JSON object body. Anything but an object is refused up front: serde would
/// otherwise read an array as a struct's fields in order, and blame the wrong field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|&b| b != b'{') {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    // Malformed JSON falls through to the typed parse, which words the error.
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let mut errors = Vec::new();
        plain_strings(&value, &mut String::new(), &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest {
                field: None,
                detail: format!("malformed JSON: {inner}"),
            };
        }
        ApiError::field(&field_name(&path, &message), message)
    })
}

/// Query parameters, with the parameter named when one does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let errors: Vec<FieldError> = form_urlencoded_parse(query)
            .filter_map(|(name, value)| plain(&name, &name, false).or(plain(&name, &value, false)))
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                ApiError::BadRequest {
                    field: Some(field_name(&path, &message)),
                    detail: message,
                }
            })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// Collects a [`FieldError`] for every string in `value` (and every key) holding control
/// characters, named by its JSON path as serde_path_to_error spells it (`vitals[0].unit`).
fn plain_strings(value: &Value, path: &mut String, errors: &mut Vec<FieldError>) {
    let len = path.len();
    match value {
        Value::String(s) => {
            let last = path.rsplit(['.', ']']).next().unwrap_or("");
            let multiline = text::MULTILINE_FIELDS.contains(&last);
            errors.extend(plain(path, s, multiline));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                plain_strings(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match plain(path, key, false) {
                    Some(e) => errors.push(e),
                    None => plain_strings(item, path, errors),
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The error for `field` if `s` holds control characters. A field name that holds them
/// itself is shown escaped, so the problem document stays printable.
fn plain(field: &str, s: &str, multiline: bool) -> Option<FieldError> {
    let reason = text::no_control_chars(s, multiline).err()?;
    Some(FieldError::new(field.escape_debug().to_string(), reason))
}

/// Middleware for every route: refuses path parameters (percent-decoded) and the stored
/// headers (`Idempotency-Key`, `If-Match`) holding control characters, before any handler
/// or `Path` extractor sees them.
pub async fn plain_path_and_headers(
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    // A path that does not decode is left to the route's own `Path` rejection.
    let mut errors: Vec<FieldError> = params
        .iter()
        .flat_map(|p| p.iter())
        .filter_map(|(name, value)| plain(name, value, false))
        .collect();
    for name in ["idempotency-key", "if-match"] {
        let bytes = req.headers().get(name).map_or(&[][..], |v| v.as_bytes());
        if bytes.iter().any(|b| b.is_ascii_control()) {
            let reason = "must not contain control characters";
            let canonical = if name == "if-match" {
                "If-Match"
            } else {
                "Idempotency-Key"
            };
            errors.push(FieldError::new(canonical, reason));
        }
    }
    if errors.is_empty() {
        next.run(req).await
    } else {
        ApiError::Validation(errors).into_response()
    }
}

/// serde names unknown and missing fields inside the message, not in the path.
fn field_name(path: &str, message: &str) -> String {
    if path != "." && !path.is_empty() {
        return path.to_owned();
    }
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.split(marker).nth(1) {
            return rest.split('`').next().unwrap_or("").to_owned();
        }
    }
    "body".to_owned()
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Form {
        name: Option<String>,
        age: Option<u32>,
    }

    fn problem_field(body: &str) -> (String, String) {
        match parse_json::<Form>(body.as_bytes()).unwrap_err() {
            ApiError::Validation(errors) => (errors[0].field.clone(), errors[0].reason.clone()),
            ApiError::BadRequest { detail, .. } => ("(none)".into(), detail),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let (field, reason) = problem_field(r#"{"name": 5}"#);
        assert_eq!(field, "name");
        assert!(reason.contains("expected a string"), "{reason}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        assert_eq!(problem_field(r#"{"nmae": "x"}"#).0, "nmae");
    }

    #[test]
    fn control_characters_anywhere_in_a_body_are_refused_naming_each_path() {
        let body = r#"{"vitals": [{"unit": "k\u0000g", "code": "ok"}], "reason": "a\n\tb",
                      "note": "a\nb", "x\u001b": 1, "given_name": "\u0001"}"#;
        let ApiError::Validation(errors) = parse_json::<Value>(body.as_bytes()).unwrap_err() else {
            panic!("not a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["given_name", "note", "vitals[0].unit", "x\\u{1b}"]);
        assert!(
            errors[2].reason.contains("U+0000 at character 2"),
            "{errors:?}"
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let (field, reason) = problem_field(r#"{"name": "x""#);
        assert_eq!(field, "(none)");
        assert!(reason.starts_with("malformed JSON"), "{reason}");
    }
}
