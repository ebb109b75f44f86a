//! The OpenAPI document. Paths and schemas come from the handlers' `#[utoipa::path]`
//! attributes, collected by `utoipa-axum` as routes are added, so the document cannot
//! describe a route that does not exist or miss one that does.
//!
//! Error answers are described once here, as sets of statuses a cause can produce
//! ([`Signed`], [`BadBody`], [`ByPatient`], ...), and every operation lists the sets its
//! handler goes through: a client generated from the document then knows every status
//! it can meet, each as `application/problem+json`. `tests/api/openapi_contract.rs`
//! provokes them and fails when an answer is missing from its operation.

use axum::Json;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{Modify, OpenApi};

/// The media type of every error answer (RFC 7807).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The security scheme names operations refer to.
pub const BEARER: &str = "bearer";
pub const SESSION_COOKIE: &str = "hmis_session";

#[derive(OpenApi)]
#[openapi(
    info(title = "hmis", description = "Regional health data router: patient records routed to their region's database."),
    tags(
        (name = "auth", description = "Log in and out; who the session belongs to"),
        (name = "admin", description = "Users, their grants, and the policy"),
        (name = "patients", description = "Patient registration and lookup"),
        (name = "observations", description = "Vital signs, charts and alerts of one patient"),
        (name = "stats", description = "Statistics merged over the regions"),
        (name = "routing", description = "The routing rules, explained"),
        (name = "health", description = "Liveness and per-region readiness"),
        (name = "planning", description = "Planners' read-only SQL over every region's de-identified planning views"),
    ),
    modifiers(&Security),
    components(schemas(super::Problem, crate::domain::FieldError))
)]
struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn serve(spec: Arc<utoipa::openapi::OpenApi>) -> Json<utoipa::openapi::OpenApi> {
    Json((*spec).clone())
}

/// The two ways to send a session: operations name both as alternatives.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The `token` answered by POST /api/v1/auth/login, as `Authorization: Bearer ...`.",
            ))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
        let cookie = ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The HttpOnly cookie set at login (browsers). Requests that change anything must \
             also send the login's `csrf_token` as `X-CSRF-Token`, or get 403.",
        );
        components.add_security_scheme(
            SESSION_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(cookie)),
        );
    }
}

/// `security` of an operation that needs a session, for tests and tools that check it.
pub fn session_required() -> Vec<SecurityRequirement> {
    [BEARER, SESSION_COOKIE]
        .map(|name| SecurityRequirement::new::<_, [&str; 0], &str>(name, []))
        .to_vec()
}

/// What each status means, whichever operation answers it: one wording for the whole
/// document, so that two sets naming the same status cannot disagree.
fn description(status: u16) -> &'static str {
    match status {
        400 => {
            "Bad request: malformed JSON, or a path segment, query parameter or header that does not parse or is out of range; `errors` names it"
        }
        401 => {
            "Not logged in: no session cookie or bearer token, or one that ended (`unauthenticated`); at login, an unknown user or a wrong password (`bad-credentials`)"
        }
        403 => {
            "Forbidden: the user may not do this (in this region), or a cookie-authenticated change without the X-CSRF-Token"
        }
        404 => "Not found: no such record, or an ID whose region code no region has",
        409 => {
            "Conflict: with the record's state (moving, merged, exists already, a reused Idempotency-Key, a likely duplicate)"
        }
        410 => "Gone: the patient was deleted",
        412 => "The record changed since the ETag in If-Match was read",
        413 => "The body is larger than the server's max_body_bytes",
        415 => "The body is not sent as application/json",
        422 => {
            "Invalid fields: unknown fields, wrong types, missing or impossible values; `errors` lists every field at fault"
        }
        428 => "If-Match is required: send the ETag you read",
        429 => "Too many failed logins; Retry-After says when to try again",
        500 => "Internal error; the details are logged with the request id, never sent",
        503 => {
            "A region needed (`region` names it), or the user database, could not answer in time; Retry-After says when to retry"
        }
        _ => "Error",
    }
}

fn problem(status: u16) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description(status))
            .content(PROBLEM_JSON, content)
            .build(),
    )
}

/// Declares a set of problem statuses usable in `responses(...)` of `#[utoipa::path]`.
macro_rules! problem_set {
    ($($(#[doc = $doc:literal])* $name:ident = [$($status:literal),+];)*) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                [$($status),+].into_iter().map(|s: u16| (s.to_string(), problem(s))).collect()
            }
        }
    )*};
}

problem_set! {
    /// Every operation that needs a session: none or an ended one is 401; a bug is 500; a
    /// session this process has not seen yet needs the user database, which may be down (503).
    Signed = [401, 500, 503];
    /// An operation that checks the user's rights (or changes state, and so the CSRF token).
    Denied = [403];
    /// Every operation with a JSON body ([`super::ApiJson`]).
    BadBody = [400, 413, 415, 422];
    /// Every operation that parses query parameters ([`super::ApiQuery`]): unknown or
    /// unparsable ones are 400, values the handler refuses 400 or 422.
    BadQuery = [400, 422];
    /// Every operation on `/patients/{id}...`: an ID that is not one is 400, an ID no
    /// region has 404, and the patient's region may be down (503).
    ByPatient = [400, 404, 503];
    /// A record that may not exist (a user, an observation, an alert).
    Missing = [404];
    /// The patient may have been deleted.
    Gone = [410];
    /// The request conflicts with the state of what it changes.
    Conflict = [409];
    /// Reads one or more regions, which may be down.
    Unavailable = [503];
    /// A change guarded by `If-Match`: one that does not parse is 400, a stale one 412.
    Versioned = [400, 412];
    /// A change that needs `If-Match`.
    MatchRequired = [428];
    /// Login throttling, wrong credentials, and a user database out of reach or busy.
    Login = [401, 429, 500, 503];
}
