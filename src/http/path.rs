//! Path parameters whose rejection is problem+json naming the parameter. axum's own `Path`
//! answers a malformed `{observation_id}` with a plain-text 400 that quotes its parser.

use super::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `Path<T>` with a 400 that names the parameter and the type it must have.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                // A tuple of parameters is rejected by position or by value; the route's
                // raw parameters say which name that is.
                let raw: Vec<(String, String)> = RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|p| {
                        p.iter()
                            .map(|(n, v)| (n.to_owned(), v.to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Err(refusal(&rejection, &raw))
            }
        }
    }
}

fn refusal(rejection: &PathRejection, raw: &[(String, String)]) -> ApiError {
    let named = |value: &str| {
        raw.iter()
            .find(|(_, v)| v == value)
            .map(|(name, _)| name.clone())
    };
    let (field, detail) = match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => (Some(key.clone()), must_be(expected_type)),
            ErrorKind::ParseErrorAtIndex {
                index,
                expected_type,
                ..
            } => (
                raw.get(*index).map(|(n, _)| n.clone()),
                must_be(expected_type),
            ),
            ErrorKind::ParseError {
                value,
                expected_type,
            } => (named(value), must_be(expected_type)),
            // A type's own parser refused the value (a UUID, say); its message stays in
            // the log, not in the answer.
            ErrorKind::DeserializeError { key, message, .. } => {
                tracing::debug!(parameter = %key, %message, "path parameter refused");
                (Some(key.clone()), must_be(&rejection_type(key)))
            }
            ErrorKind::InvalidUtf8InPathParam { key } => {
                (Some(key.clone()), "must be valid UTF-8".into())
            }
            _ => (
                None,
                "the path does not have the form this route needs".into(),
            ),
        },
        _ => (
            None,
            "the path does not have the form this route needs".into(),
        ),
    };
    ApiError::BadRequest { field, detail }
}

/// What a parameter refused by its type's parser must be: hmis's typed parameters are the
/// IDs of observations and alerts, all UUIDs.
fn rejection_type(key: &str) -> String {
    if key.ends_with("_id") {
        "Uuid".into()
    } else {
        "valid value".into()
    }
}

/// `uuid::Uuid` reads better as "a UUID" than as its Rust type name.
fn must_be(expected_type: &str) -> String {
    if expected_type.ends_with("Uuid") {
        "must be a UUID".into()
    } else {
        let short = expected_type.rsplit("::").next().unwrap_or(expected_type);
        format!("must be a {short}")
    }
}
