//! One error type for every handler, rendered as RFC 7807 `application/problem+json`.
//! Anything a client can cause is a 4xx naming the field and the reason; a 5xx means a
//! region is down (503) or a bug (500, logged with the request id, details withheld).

use crate::domain::FieldError;
use crate::fanout::FanoutError;
use crate::routing::RouteError;
use crate::shards::ShardError;
use crate::transfer::TransferError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest {
        field: Option<String>,
        detail: String,
    },
    #[error("log in first: send the session cookie or an Authorization: Bearer token")]
    Unauthenticated,
    /// A login with an unknown username, a wrong password or a disabled user: one answer
    /// for all three, so that it tells nobody which usernames exist.
    #[error("unknown user or wrong password")]
    BadCredentials,
    #[error("send the X-CSRF-Token header with the token given at login")]
    Csrf,
    #[error("{0}")]
    Forbidden(String),
    /// A refusal caused by one parameter the reader has no right to use (403 naming it).
    #[error("{detail}")]
    ForbiddenField { field: String, detail: String },
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Gone(String),
    #[error("{1}")]
    Conflict(ConflictKind, String),
    #[error("send If-Match with the ETag of the version you edited")]
    PreconditionRequired,
    #[error("the record changed since you read it (now version {current})")]
    PreconditionFailed { current: i32 },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    Unroutable(String),
    /// Registration found records that may be the same person (`candidates` in the body).
    #[error(
        "this person may already be registered: check the candidates; if none of them is this \
         person, send their IDs in not_duplicate_of"
    )]
    PossibleDuplicates(serde_json::Value),
    /// The central database (users, sessions) could not be reached or had no connection
    /// free in time: 503 with Retry-After, never a 500 for what is load or an outage.
    #[error("the user database is busy or unreachable; try again shortly")]
    CentralUnavailable,
    /// `consistency=strict` and these regions (with their reason words) did not answer.
    #[error("consistency=strict and these regions did not answer: {failed}")]
    RegionsFailed { first: String, failed: String },
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The problem document. `errors` lists every field at fault.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// For `possible-duplicates`: the records that may be this person, best match first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub candidates: Option<serde_json::Value>,
}

/// Why a request conflicts with the state of what it names (409): the last part of the
/// problem's `type`, `urn:hmis:problem:<kind>`, which clients match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    Derived,
    DifferentRegions,
    DisableSelf,
    EnteredInError,
    GrantExists,
    HasMergedRecords,
    IdempotencyKeyReused,
    LastSystemAdmin,
    Merged,
    NotMerged,
    PolicyExists,
    RegionChange,
    SameRegion,
    TransferInProgress,
    TransferRolledBack,
    UserExists,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Derived => "derived",
            ConflictKind::DifferentRegions => "different-regions",
            ConflictKind::DisableSelf => "disable-self",
            ConflictKind::EnteredInError => "entered-in-error",
            ConflictKind::GrantExists => "grant-exists",
            ConflictKind::HasMergedRecords => "has-merged-records",
            ConflictKind::IdempotencyKeyReused => "idempotency-key-reused",
            ConflictKind::LastSystemAdmin => "last-system-admin",
            ConflictKind::Merged => "merged",
            ConflictKind::NotMerged => "not-merged",
            ConflictKind::PolicyExists => "policy-exists",
            ConflictKind::RegionChange => "region-change",
            ConflictKind::SameRegion => "same-region",
            ConflictKind::TransferInProgress => "transfer-in-progress",
            ConflictKind::TransferRolledBack => "transfer-rolled-back",
            ConflictKind::UserExists => "user-exists",
        }
    }
}

impl ApiError {
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, reason)])
    }

    /// A parameter the reader may not use at all (planners searching by identity): 403
    /// naming it.
    pub fn forbidden_field(field: &str, detail: impl Into<String>) -> Self {
        ApiError::ForbiddenField {
            field: field.to_owned(),
            detail: detail.into(),
        }
    }

    /// A query parameter or header that makes no sense: 400 naming it.
    pub fn bad(field: &str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// A central database error: 503 when the database is out of reach or out of free
    /// connections (logged), else a bug (500).
    pub fn central(e: sqlx::Error) -> Self {
        if central_unreachable(&e) {
            tracing::warn!(error = %e, "central database unavailable");
            return ApiError::CentralUnavailable;
        }
        ApiError::Internal(e.into())
    }

    /// An internal error that is in fact the central database out of reach, from a path
    /// that wrapped it as `anyhow` (the admin API, logout): the 503 it is. Only the central
    /// database speaks sqlx while serving (the shards speak tokio-postgres).
    fn reclassified(self) -> Self {
        match self {
            ApiError::Internal(e) if e.downcast_ref().is_some_and(central_unreachable) => {
                tracing::warn!(error = %e, "central database unavailable");
                ApiError::CentralUnavailable
            }
            other => other,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::Validation(_) => (S::UNPROCESSABLE_ENTITY, "validation", "Invalid fields"),
            ApiError::BadRequest { .. } => (S::BAD_REQUEST, "bad-request", "Bad request"),
            ApiError::Unauthenticated => (S::UNAUTHORIZED, "unauthenticated", "Not logged in"),
            ApiError::BadCredentials => (S::UNAUTHORIZED, "bad-credentials", "Login failed"),
            ApiError::Csrf => (S::FORBIDDEN, "csrf", "CSRF token missing or wrong"),
            ApiError::Forbidden(_) | ApiError::ForbiddenField { .. } => {
                (S::FORBIDDEN, "forbidden", "Forbidden")
            }
            ApiError::TooManyAttempts { .. } => {
                (S::TOO_MANY_REQUESTS, "throttled", "Too many attempts")
            }
            ApiError::NotFound(_) => (S::NOT_FOUND, "not-found", "Not found"),
            ApiError::Gone(_) => (S::GONE, "deleted", "Deleted"),
            ApiError::Conflict(kind, _) => (S::CONFLICT, kind.as_str(), "Conflict"),
            ApiError::PreconditionRequired => (
                S::PRECONDITION_REQUIRED,
                "if-match-required",
                "If-Match required",
            ),
            ApiError::PreconditionFailed { .. } => (
                S::PRECONDITION_FAILED,
                "version-mismatch",
                "Edited by someone else",
            ),
            ApiError::PayloadTooLarge { .. } => {
                (S::PAYLOAD_TOO_LARGE, "too-large", "Body too large")
            }
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "media-type",
                "Unsupported media type",
            ),
            ApiError::Unroutable(_) => (S::UNPROCESSABLE_ENTITY, "unroutable", "No rule places it"),
            ApiError::PossibleDuplicates(_) => (
                S::CONFLICT,
                "possible-duplicates",
                "Possibly registered already",
            ),
            ApiError::Shard(ShardError::Unavailable { .. }) | ApiError::RegionsFailed { .. } => (
                S::SERVICE_UNAVAILABLE,
                "region-unavailable",
                "Region unavailable",
            ),
            ApiError::CentralUnavailable => (
                S::SERVICE_UNAVAILABLE,
                "central-unavailable",
                "User database unavailable",
            ),
            ApiError::Shard(_) | ApiError::Internal(_) => {
                (S::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
        }
    }

    fn problem(&self) -> Problem {
        let (status, kind, title) = self.parts();
        let errors = match self {
            ApiError::Validation(errors) => errors.clone(),
            ApiError::BadRequest {
                field: Some(f),
                detail,
            }
            | ApiError::ForbiddenField { field: f, detail } => vec![FieldError::new(f, detail)],
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::Shard(ShardError::Query { region, .. }) => {
                format!("region {region} could not answer; the error is logged")
            }
            // The pool's or driver's own words stay in the log.
            ApiError::Shard(ShardError::Unavailable { region, .. }) => {
                format!("region {region} is unavailable; try again shortly")
            }
            _ => self.to_string(),
        };
        let region = match self {
            ApiError::Shard(
                ShardError::Unavailable { region, .. } | ShardError::Query { region, .. },
            ) => Some(region.clone()),
            ApiError::RegionsFailed { first, .. } => Some(first.clone()),
            _ => None,
        };
        Problem {
            kind: format!("urn:hmis:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail,
            errors,
            region,
            candidates: match self {
                ApiError::PossibleDuplicates(c) => Some(c.clone()),
                _ => None,
            },
        }
    }
}

impl From<FanoutError> for ApiError {
    fn from(e: FanoutError) -> Self {
        match e {
            FanoutError::BadConsistency(_) => ApiError::BadRequest {
                field: Some("consistency".into()),
                detail: e.to_string(),
            },
            FanoutError::RegionsFailed { first, failed } => {
                ApiError::RegionsFailed { first, failed }
            }
        }
    }
}

/// A rolled-back transfer is a 409 naming the region and the reason's word, never the
/// database's text (the caller logs it); a region's failure is the region's 503.
impl From<TransferError> for ApiError {
    fn from(e: TransferError) -> Self {
        match e {
            TransferError::RolledBack(refusal) => ApiError::Conflict(
                ConflictKind::TransferRolledBack,
                format!(
                    "the transfer was rolled back: region {} ({}); nothing moved",
                    refusal.region, refusal.reason
                ),
            ),
            TransferError::Region(e) => ApiError::Shard(e),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> Self {
        ApiError::Unroutable(e.to_string())
    }
}

fn central_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = self.reclassified();
        match &this {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::Shard(e) => tracing::warn!(error = %e, "shard error"),
            _ => {}
        }
        let problem = this.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let headers = response.headers_mut();
        match this {
            ApiError::Shard(ShardError::Unavailable { .. })
            | ApiError::RegionsFailed { .. }
            | ApiError::CentralUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::TooManyAttempts { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, retry_after_secs.into());
            }
            ApiError::Unauthenticated | ApiError::BadCredentials => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
