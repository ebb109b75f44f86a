//! Extractors whose rejections are problem+json naming the field: a clerk's app should be
//! able to put the reason next to the input box it belongs to.

use super::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

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
    fn malformed_json_is_a_bad_request() {
        let (field, reason) = problem_field(r#"{"name": "x""#);
        assert_eq!(field, "(none)");
        assert!(reason.starts_with("malformed JSON"), "{reason}");
    }
}
