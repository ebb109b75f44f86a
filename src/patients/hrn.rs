//! `GET /api/v1/patients?hrn=...`: a patient by health record number. The number names its
//! region in its first two digits, so exactly one shard is asked, whatever region the
//! clerk works in; the check digit catches a mistyped or swapped digit before any. A number
//! is an identity: readers who may not see who patients are (planners) may not look one
//! up. A moved patient's number answers like one never given out to a reader who may read
//! the region it names but not the one the patient moved to (see `access`).

use super::model::{COLUMNS, PatientPage, PatientRow};
use crate::app::App;
use crate::authz::Action;
use crate::authz::kinds::PATIENT;
use crate::domain::hrn::Hrn;
use crate::http::Actor;
use crate::http::{ApiError, record_route};
use crate::records::access::choose;
use crate::records::{REGION_HEADER, region_value, sees_identity};
use crate::shards::Conn;
use axum::Json;
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

/// The live patient with the number, or the record it was merged into.
static BY_HRN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM patients WHERE deleted_at IS NULL AND id =
             (SELECT coalesce(merged_into, id) FROM patients WHERE hrn = $1)"
    )
});

pub async fn find(
    app: &std::sync::Arc<App>,
    actor: &Actor,
    raw: &str,
) -> Result<Response, ApiError> {
    let hrn: Hrn = raw
        .parse()
        .map_err(|e: crate::domain::hrn::HrnError| ApiError::field("hrn", e.to_string()))?;
    let text = hrn.to_string();
    let code = u16::from(hrn.region_code());
    let named = app.shards.by_code(code).ok_or_else(|| {
        ApiError::field(
            "hrn",
            format!("no region has code {code:02}: check the number"),
        )
    })?;
    record_route(named.name(), None);
    let moved = app.forwarding.region_of_hrn(&text);
    let current = moved.and_then(|r| app.shards.get(&r)).unwrap_or(named);
    let mut shard = choose(app, actor, named, current, PATIENT, Action::Read, None).await?;
    if !sees_identity(app, actor, shard.name()).await {
        if shard.name() == named.name() || !sees_identity(app, actor, named.name()).await {
            // A number names one person: looking it up is identifying them.
            return Err(ApiError::forbidden_field(
                "hrn",
                "you may not see who patients are, so you may not look them up by number",
            ));
        }
        // Moved where she may read but not identify: as a number never given out.
        shard = named;
    }
    let hidden = shard.name() != current.name();
    let row = shard
        .read(|c| {
            let text = text.clone();
            Box::pin(async move {
                let stmt = c.prepared(&BY_HRN).await?;
                let row = c.client().query_opt(&stmt, &[&text]).await?;
                Ok(row.as_ref().map(PatientRow::from_row))
            })
        })
        .await?
        .filter(|_| !hidden);
    if let Some(r) = &row {
        let line = actor.line(&app.authz, shard.name(), "search").await;
        app.audit.record_read(shard, line, Some(r.id), "ok").await?;
    }
    let identity = sees_identity(app, actor, shard.name()).await;
    let items: Vec<_> = row
        .into_iter()
        .map(|r| r.into_api(shard.name(), shard.settings.tz(), identity))
        .collect();
    let total = super::total::Total {
        n: items.len() as i64,
        exact: true,
    };
    let body = PatientPage::one_region(shard.name(), items, 1, 1, total);
    Ok(([(REGION_HEADER, region_value(shard))], Json(body)).into_response())
}
