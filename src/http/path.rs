//! Path parameters whose rejection is problem+json naming the parameter. axum's own `Path`
//! answers a malformed `{observation_id}` with a plain-text 400 that quotes its parser.

use super::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `Path<T>` with a 400 that names the parameter and what it must be.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(refusal(&rejection)),
        }
    }
}

fn refusal(rejection: &PathRejection) -> ApiError {
    let (field, detail) = match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => (Some(key.clone()), must_be(expected_type)),
            // A type's own parser refused the value (a UUID in a tuple of parameters, say);
            // its message stays in the log, not in the answer.
            ErrorKind::DeserializeError { key, message, .. } => {
                tracing::debug!(parameter = %key, %message, "path parameter refused");
                let expected = if key.ends_with("_id") {
                    "Uuid"
                } else {
                    "valid value"
                };
                (Some(key.clone()), must_be(expected))
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

/// `uuid::Uuid` reads better as "a UUID" than as its Rust type name. hmis's typed path
/// parameters (`*_id`) are all UUIDs.
fn must_be(expected_type: &str) -> String {
    if expected_type.ends_with("Uuid") {
        "must be a UUID".into()
    } else {
        let short = expected_type.rsplit("::").next().unwrap_or(expected_type);
        format!("must be a {short}")
    }
}
