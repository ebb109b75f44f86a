//! The cross-region patient list: which regions to ask (those named, each of which the
//! reader must be allowed to read, or every region they may read), the parsing of sort,
//! filters, page or cursor, and the answer with its coverage. Every patient shown gets an
//! audit line in its own region before the answer goes out.

use super::list::{self, Query};
use super::model::PatientPage;
use super::search::{SearchParams, bad, paging};
use super::sort::Sort;
use crate::app::App;
use crate::authz::Action;
use crate::authz::kinds::PATIENT;
use crate::fanout::Consistency;
use crate::fanout::cursor::{Cursor, Key};
use crate::http::Actor;
use crate::http::ApiError;
use crate::records::regions::{self, Asked, Need};
use crate::records::sees_identity;
use crate::shards::Shard;
use axum::Json;
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Deepest row a numbered page may reach; deeper pages go by cursor.
const MAX_DEPTH: usize = 10_000;

pub async fn list(app: &Arc<App>, actor: &Actor, p: &SearchParams) -> Result<Response, ApiError> {
    let (page, size, q) = paging(p)?;
    let consistency = Consistency::parse(p.consistency.as_deref())?;
    let shards = regions::for_actor(app, actor, &READERS, asked(p)).await?;
    let names = sees_names_everywhere(app, actor, &shards).await;
    // Readers who may not see names get an order that does not reveal them.
    let default = if names { None } else { Some("created_at") };
    let sort = Sort::parse(p.sort.as_deref().or(default))?;
    if !names {
        refuse_identity(q, &sort)?;
    }
    let mut query = Query {
        search: super::model::search_terms(q, size, 1),
        district: district(app, p.district.as_deref())?,
        sex: sex(p.sex.as_deref())?,
        sort,
        limit: i64::from(size),
        count: false,
    };
    let digest = query.digest(q);
    let key = &app.cursor_key;
    let (start, offset) = start(p, &mut query, digest, page, size, (key, &shards))?;
    let deadline = Duration::from_millis(app.settings.file.server.fanout_deadline_ms);
    let mut merged = list::page(
        &shards,
        &query,
        &start,
        offset,
        size as usize,
        deadline,
        consistency,
    )
    .await?;
    // While a patient moves region, both regions briefly hold a copy: show the one the
    // forwarding names (the copy reads by ID reach), never both.
    merged.rows.retain(|(shard, row)| {
        let owner = app.shard_of(crate::domain::PatientId::from_uuid(row.id));
        owner.is_some_and(|o| o.name() == shard.name())
    });
    audit_shown(app, actor, &merged.rows).await?;
    let mut items = Vec::with_capacity(merged.rows.len());
    let mut identity = BTreeMap::new();
    for (shard, row) in merged.rows {
        if !identity.contains_key(shard.name()) {
            identity.insert(shard.name(), sees_identity(app, actor, shard.name()).await);
        }
        items.push(row.into_api(shard.name(), shard.settings.tz(), identity[shard.name()]));
    }
    let body = PatientPage {
        region: None,
        items,
        page: p.cursor.is_none().then_some(page),
        size,
        total: query.count.then_some(merged.total.n),
        total_exact: query.count.then_some(merged.total.exact),
        sort: query.sort.spelled.clone(),
        // No position at all (every region failed): nothing to continue from but the top.
        next_cursor: merged
            .next
            .filter(|c| !c.positions.is_empty())
            .map(|c| c.seal(key)),
        regions_ok: merged.coverage.regions_ok,
        regions_failed: merged.coverage.regions_failed,
    };
    Ok(Json(body).into_response())
}

/// Who may be listed: readers of patient records.
pub(super) const READERS: Need = Need {
    grants: &[(PATIENT, Action::Read)],
    doing: "read patient records",
    refuse_none: true,
};

/// The regions named in `?region=`, or every one the reader may read.
pub(super) fn asked(p: &SearchParams) -> Asked<'_> {
    p.region
        .as_deref()
        .map_or(Asked::Every, |r| Asked::Param("region", r))
}

/// A reader who may not see who patients are may neither search by who they are nor
/// learn it from the order of the list.
fn refuse_identity(q: &str, sort: &Sort) -> Result<(), ApiError> {
    if !q.trim().is_empty() {
        return Err(ApiError::forbidden_field(
            "q",
            "you may not see who patients are, so you may not search by name, phone number, \
             national ID or patient ID: filter by district or sex",
        ));
    }
    if sort.identifying() {
        return Err(bad(
            "sort",
            "you may not see patients' names, birth dates or health record numbers: sort by \
             created_at, district or sex",
        ));
    }
    Ok(())
}

async fn sees_names_everywhere(app: &App, actor: &Actor, shards: &[&Shard]) -> bool {
    for s in shards {
        if !sees_identity(app, actor, s.name()).await {
            return false;
        }
    }
    true
}

/// Where the page starts: a cursor's positions, or the top with an offset (numbered
/// pages, which also count the matches).
fn start(
    p: &SearchParams,
    query: &mut Query,
    digest: String,
    page: u32,
    size: u32,
    asking: (&Key, &[&Shard]),
) -> Result<(Cursor, usize), ApiError> {
    if let Some(raw) = p.cursor.as_deref() {
        return Ok((cursor(raw, query, &digest, p.page.is_some(), asking)?, 0));
    }
    let offset = (page as usize - 1) * size as usize;
    if offset + size as usize > MAX_DEPTH {
        return Err(bad(
            "page",
            "pages go by number up to row 10000: follow next_cursor",
        ));
    }
    query.limit = (offset + size as usize) as i64;
    query.count = true;
    Ok((Cursor::new(query.sort.spelled.clone(), digest), offset))
}

/// A cursor this service sealed, for this sort and these filters, naming only regions
/// this list asks.
fn cursor(
    raw: &str,
    q: &Query,
    digest: &str,
    with_page: bool,
    (key, shards): (&Key, &[&Shard]),
) -> Result<Cursor, ApiError> {
    if with_page {
        return Err(bad("cursor", "send either page or cursor, not both"));
    }
    let c = Cursor::open(raw, key).map_err(|reason| bad("cursor", reason))?;
    if let Some(region) = c
        .positions
        .keys()
        .find(|r| !shards.iter().any(|s| s.name() == r.as_str()))
    {
        return Err(bad(
            "cursor",
            &format!("names region \"{region}\", which this list does not ask"),
        ));
    }
    if c.sort != q.sort.spelled
        || c.filter != digest
        || !c.positions.values().all(|p| q.sort.fits(p))
    {
        return Err(bad(
            "cursor",
            "this cursor belongs to another sort or other filters",
        ));
    }
    Ok(c)
}

fn district(app: &App, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(|d| {
        app.districts
            .get(&d.trim().to_lowercase())
            .cloned()
            .ok_or_else(|| bad("district", &format!("unknown district \"{d}\"")))
    })
    .transpose()
}

fn sex(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) if ["female", "male", "other", "unknown"].contains(&s.as_str()) => Ok(Some(s)),
        Some(s) => Err(bad(
            "sex",
            &format!("\"{s}\" is not one of female, male, other, unknown"),
        )),
    }
}

/// One audit line per patient shown, in the patient's region, before the answer.
async fn audit_shown(
    app: &App,
    actor: &Actor,
    rows: &[(&Shard, super::model::PatientRow)],
) -> Result<(), ApiError> {
    let mut lines = BTreeMap::new();
    for (shard, _) in rows {
        if !lines.contains_key(shard.name()) {
            lines.insert(
                shard.name(),
                actor.line(&app.authz, shard.name(), "search").await,
            );
        }
    }
    let written = join_all(rows.iter().map(|(shard, row)| {
        app.audit
            .record_read(shard, lines[shard.name()].clone(), Some(row.id), "ok")
    }))
    .await;
    written
        .into_iter()
        .try_for_each(|w| w.map_err(ApiError::Shard))
}
