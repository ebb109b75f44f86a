//! Merging two records of the same person, and undoing it. A merge moves no row: the
//! duplicate points at the record that keeps going (`merged_into`), reads of that record
//! include the duplicate's observations and alerts, and `patient_merges` keeps who merged,
//! why, and who undid it. Both records must be in the same region: moving one is a
//! transfer first.

use crate::app::AppState;
use crate::audit;
use crate::authz::Action;
use crate::authz::kinds::PATIENT;
use crate::http::Actor;
use crate::http::ConflictKind;
use crate::http::{ApiError, ApiJson, ApiPath, openapi as doc};
use crate::records::access::reach;
use crate::records::{
    Guarded, Intent, Located, REGION_HEADER, Status, Work, region_value, writable,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The record to fold into this one.
    pub duplicate: Option<Uuid>,
    /// Why (1 to 500 characters), for whoever reads the history.
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmergeInput {
    pub reason: Option<String>,
}

/// A merge, and its undoing when it was undone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Merge {
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub duplicate_id: Uuid,
    pub region: String,
    pub reason: String,
    pub merged_by: String,
    pub merged_at: DateTime<FixedOffset>,
    pub undone_by: Option<String>,
    pub undone_at: Option<DateTime<FixedOffset>>,
    pub undo_reason: Option<String>,
}

const MERGE_COLUMNS: &str = "id, survivor_id, duplicate_id, reason, merged_by, merged_at, \
    undone_by, undone_at, undo_reason";

/// Folds `duplicate` into the patient `{id}` (records clerks). Reversible.
#[utoipa::path(post, path = "/api/v1/patients/{id}/merge", tag = "patients", request_body = MergeInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "the record that keeps going")),
    responses((status = 201, body = Merge), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody, doc::Conflict, doc::Gone))]
pub async fn merge(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<MergeInput>,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT, Action::Merge).await?;
    let (shard, survivor) = (at.shard, at.id);
    let reason = reason(input.reason.as_deref())?;
    let duplicate = input
        .duplicate
        .ok_or_else(|| ApiError::field("duplicate", "is required"))?;
    if duplicate == survivor {
        return Err(ApiError::field("duplicate", "is the record itself"));
    }
    let dup = reach(&app, &actor, &duplicate.to_string(), PATIENT, Action::Merge).await?;
    let other = dup.shard;
    if other.name() != shard.name() {
        return Err(ApiError::Conflict(
            ConflictKind::DifferentRegions,
            format!(
                "{duplicate} is in region {}: transfer it to {} first",
                other.name(),
                shard.name()
            ),
        ));
    }
    let line = actor.line(&app.authz, shard.name(), "merge").await;
    let row = shard
        .write(async |tx| -> Work<_> {
            let row = fold(tx, at, dup, &reason, actor.name()).await?;
            for id in [survivor, duplicate] {
                audit::write(tx, &line, Some(id), "ok").await?;
            }
            Ok(row)
        })
        .await?;
    Ok(answer(StatusCode::CREATED, &row, shard))
}

/// Undoes the merge of the record `{id}` into another: both records stand apart again,
/// each with its own observations.
#[utoipa::path(post, path = "/api/v1/patients/{id}/unmerge", tag = "patients", request_body = UnmergeInput, security(("bearer" = []), ("hmis_session" = [])),
    params(("id" = String, Path, description = "the record that was merged into another")),
    responses((status = 200, body = Merge), doc::Signed, doc::Denied, doc::ByPatient, doc::BadBody, doc::Conflict, doc::Gone))]
pub async fn unmerge(
    State(app): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<UnmergeInput>,
) -> Result<Response, ApiError> {
    let at = reach(&app, &actor, &id, PATIENT, Action::Merge).await?;
    let (shard, duplicate) = (at.shard, at.id);
    let reason = reason(input.reason.as_deref())?;
    let line = actor.line(&app.authz, shard.name(), "unmerge").await;
    let row = shard
        .write(async |tx| -> Work<_> {
            let (row, survivor) = unfold(tx, at, &reason, actor.name()).await?;
            for id in [survivor, duplicate] {
                audit::write(tx, &line, Some(id), "ok").await?;
            }
            Ok(row)
        })
        .await?;
    Ok(answer(StatusCode::OK, &row, shard))
}

/// Locks both records (in ID order, so that two clerks merging the same pair both ways
/// cannot deadlock), checks that both may change, and points the duplicate at the survivor.
async fn fold(
    tx: &Transaction<'_>,
    at: Located<'_>,
    dup: Located<'_>,
    reason: &str,
    by: &str,
) -> Work<Row> {
    let (survivor, duplicate) = (at.id, dup.id);
    // Either record may be one that moved where the clerk may not merge: absent for her.
    for id in [survivor.min(duplicate), survivor.max(duplicate)] {
        let at = if id == survivor { at } else { dup };
        at.writable(super::repo::lock(tx, id).await?)?;
    }
    if has_merged_into_it(tx, duplicate).await? {
        return Err(ApiError::Conflict(
            ConflictKind::HasMergedRecords,
            format!("records were merged into {duplicate}: undo those merges first"),
        )
        .into());
    }
    let sql = format!(
        "WITH p AS (UPDATE patients SET merged_into = $2, version = version + 1, updated_at = now()
                    WHERE id = $3)
         INSERT INTO patient_merges (id, survivor_id, duplicate_id, reason, merged_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING {MERGE_COLUMNS}"
    );
    let params: [Param; 5] = [&Uuid::now_v7(), &survivor, &duplicate, &reason, &by];
    Ok(tx.query_one(&sql, &params).await?)
}

/// Locks the merged record, checks that it is merged and may otherwise change, and sets it
/// apart again: the merge's row, and the survivor it was merged into.
async fn unfold(
    tx: &Transaction<'_>,
    at: Located<'_>,
    reason: &str,
    by: &str,
) -> Work<(Row, Uuid)> {
    let duplicate = at.id;
    let row = at.check(super::repo::lock(tx, duplicate).await?, Intent::Record)?;
    let Some(survivor) = row.merged_into else {
        return Err(ApiError::Conflict(
            ConflictKind::NotMerged,
            format!("{duplicate} is not merged into another record"),
        )
        .into());
    };
    // Being merged is what an unmerge changes; anything else refuses it as any write.
    let unmerged = Status {
        merged_into: None,
        ..row.status()
    };
    writable(Some(unmerged), duplicate)?;
    let sql = format!(
        "WITH p AS (UPDATE patients SET merged_into = NULL, version = version + 1, updated_at = now()
                    WHERE id = $1)
         UPDATE patient_merges SET undone_by = $2, undone_at = now(), undo_reason = $3
         WHERE duplicate_id = $1 AND undone_at IS NULL RETURNING {MERGE_COLUMNS}"
    );
    let merge = tx.query_one(&sql, &[&duplicate, &by, &reason]).await?;
    Ok((merge, survivor))
}

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

fn reason(raw: Option<&str>) -> Result<String, ApiError> {
    let r = raw.map(str::trim).unwrap_or("");
    if r.is_empty() || r.chars().count() > 500 {
        return Err(ApiError::field("reason", "say why, in 1 to 500 characters"));
    }
    Ok(r.to_owned())
}

async fn has_merged_into_it(
    tx: &impl GenericClient,
    id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    let sql = "SELECT EXISTS (SELECT 1 FROM patients WHERE merged_into = $1)";
    Ok(tx.query_one(sql, &[&id]).await?.get(0))
}

fn answer(status: StatusCode, r: &Row, shard: &crate::shards::Shard) -> Response {
    let local = |t: DateTime<Utc>| t.with_timezone(&shard.settings.tz()).fixed_offset();
    let body = Merge {
        id: r.get(0),
        survivor_id: r.get(1),
        duplicate_id: r.get(2),
        region: shard.name().to_owned(),
        reason: r.get(3),
        merged_by: r.get(4),
        merged_at: local(r.get(5)),
        undone_by: r.get(6),
        undone_at: r.get::<_, Option<DateTime<Utc>>>(7).map(local),
        undo_reason: r.get(8),
    };
    (status, [(REGION_HEADER, region_value(shard))], Json(body)).into_response()
}
