//! `POST /api/v1/query`: who may ask which regions, the SQL checked, then the streamed
//! answer. Everything that can be refused is refused here, before any region runs
//! anything: unknown fields and regions, regions the caller may not query, SQL that is
//! not one plain read.

use super::encode::Format;
use super::{guard, run};
use crate::app::{App, AppState};
use crate::authz::Action;
use crate::authz::kinds;
use crate::http::Actor;
use crate::http::{ApiError, ApiJson, openapi as doc};
use crate::records::regions::{self, Asked, Need};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The SQL itself goes into the audit trail up to this length, its SHA-256 beyond.
const AUDIT_SQL_CHARS: usize = 4000;
/// Lists the regions asked, so that a CSV reader (whose answer has no summary) knows which
/// regions' rows to expect.
const REGIONS_HEADER: &str = "x-hmis-regions";

/// A planner's query.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// One SELECT, WITH ... SELECT or VALUES query over the `planning` views
    /// (`patients`, `observations`).
    sql: String,
    /// Regions to ask. Default: every region the caller may query.
    regions: Option<Vec<String>>,
    /// `jsonl` (default) or `csv`; without it, `Accept: text/csv` asks for CSV.
    format: Option<Format>,
}

/// Runs a read-only query over the de-identified `planning` views of several regions.
#[utoipa::path(post, path = "/api/v1/query", tag = "planning", request_body = QueryRequest, security(("bearer" = []), ("hmis_session" = [])),
    responses((status = 200, description = "JSON lines: one object per row with `region` first, then a `_summary` line; or CSV with a header row", content_type = "application/x-ndjson", body = String),
              doc::Signed, doc::Denied, doc::BadBody))]
pub async fn query(
    State(app): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    ApiJson(request): ApiJson<QueryRequest>,
) -> Result<Response, ApiError> {
    let format = request.format.unwrap_or_else(|| format_from(&headers));
    let regions = regions(&app, &actor, request.regions.as_deref()).await?;
    guard::check(&request.sql).map_err(|reason| ApiError::field("sql", reason))?;
    let mut lines = Vec::with_capacity(regions.len());
    for region in &regions {
        lines.push(actor.line(&app.authz, region, "query").await);
    }
    let job = run::Job {
        audit_text: audit_text(&request.sql),
        sql: request.sql,
        format,
        timeout_ms: app.settings.file.server.query_timeout_ms,
        lines,
    };
    // A receiver answers `None` again however often it is polled after the end; the
    // compression layer polls the body once more after it ended, which an `unfold` stream
    // answers with a panic (and a gzip answer cut off before its trailer).
    let mut rx = run::start(app.clone(), job);
    let body = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|chunk| chunk.map(Ok::<_, std::convert::Infallible>))
    });
    let content_type = match format {
        Format::Jsonl => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8; header=present",
    };
    let asked = HeaderValue::from_str(&regions.join(",")).map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::HeaderName::from_static(REGIONS_HEADER), asked),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn format_from(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.to_ascii_lowercase().contains("text/csv") {
        Format::Csv
    } else {
        Format::Jsonl
    }
}

/// Who may run planners' queries in a region.
const PLANNERS: Need = Need {
    grants: &[(kinds::QUERY, Action::Run)],
    doing: "run queries",
    refuse_none: true,
};

/// The regions to ask: those named in `regions` (unknown: 422; refused: 403, audited
/// there), or every one the caller may query (none: 403, audited in every region).
async fn regions(
    app: &App,
    actor: &Actor,
    named: Option<&[String]>,
) -> Result<Vec<String>, ApiError> {
    let asked = named.map_or(Asked::Every, |r| Asked::Body("regions", r));
    let shards = regions::for_actor(app, actor, &PLANNERS, asked).await?;
    Ok(shards.iter().map(|s| s.name().to_owned()).collect())
}

fn audit_text(sql: &str) -> String {
    if sql.chars().count() <= AUDIT_SQL_CHARS {
        return sql.to_owned();
    }
    let digest = Sha256::digest(sql.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
