//! Which shard answers for a patient ID or health record number, for one reader and one
//! action, without the answer telling whether the record exists or where it moved.
//!
//! An ID (or HRN) names a region: the one the patient was registered in. The answer may
//! depend only on that region and on what the reader may do there:
//! - a region she may not act in: 403 naming it, whether or not the record exists;
//! - a region she may act in: the record's own answer (200, 404, 410, ...). When the
//!   patient has since moved to a region she may not act in, the answer is exactly the one
//!   for an ID that never existed: the named region is asked and whatever it still holds
//!   (a frozen copy while a transfer finishes) is treated as absent.
//!
//! Without this, a transferred patient's old ID answered 403 and an invented one 404: an
//! oracle for "this person exists and moved away".

use super::guard::{self, Guarded, Intent};
use super::{authorize, forbidden, label, locate};
use crate::app::App;
use crate::audit;
use crate::authz::Action;
use crate::authz::Relation;
use crate::domain::PatientId;
use crate::http::Actor;
use crate::http::{ApiError, record_route};
use crate::shards::Shard;
use std::sync::Arc;
use uuid::Uuid;

/// A patient reference resolved for a reader: the shard to ask, and whether what it finds
/// must be treated as absent (the patient moved to a region the reader may not act in).
#[derive(Clone, Copy)]
pub struct Located<'a> {
    pub shard: &'a Shard,
    pub id: Uuid,
    hidden: bool,
}

impl<'a> Located<'a> {
    /// What the shard found, as the reader may learn it: nothing, for a hidden patient.
    pub fn found<T>(&self, row: Option<T>) -> Option<T> {
        row.filter(|_| !self.hidden)
    }

    /// What the shard found, checked for `intent` (see [`super::guard`]).
    pub fn check<T: Guarded>(&self, row: Option<T>, intent: Intent) -> Result<T, ApiError> {
        guard::check(self.found(row), self.id, intent)
    }

    /// What the shard found, for a change: 404, 410 or 409 unless it may change.
    pub fn writable<T: Guarded>(&self, row: Option<T>) -> Result<T, ApiError> {
        self.check(row, Intent::Write)
    }
}

/// Parses a patient ID from a path and resolves it for `kind`/`action` (see the module).
pub async fn reach<'a>(
    app: &'a Arc<App>,
    actor: &Actor,
    raw: &str,
    kind: &str,
    action: Action,
) -> Result<Located<'a>, ApiError> {
    let (current, id) = locate(app, raw)?;
    resolve(app, actor, PatientId::from_uuid(id), current, kind, action).await
}

/// Resolves a parsed ID whose record lives in `current` (after any transfer).
pub async fn resolve<'a>(
    app: &'a Arc<App>,
    actor: &Actor,
    pid: PatientId,
    current: &'a Shard,
    kind: &str,
    action: Action,
) -> Result<Located<'a>, ApiError> {
    let named = app.shards.by_code(pid.region_code()).unwrap_or(current);
    let shard = choose(app, actor, named, current, kind, action, Some(pid.uuid())).await?;
    Ok(Located {
        shard,
        id: pid.uuid(),
        hidden: shard.name() != current.name(),
    })
}

/// The shard to ask when a reference names `named` but the record lives in `current`:
/// `current` when the reader may act there, else `named` when she may act there (the
/// caller then hides what it finds), else 403 naming `named`. A refusal is audited in
/// `current`, the patient's own region, after the answer.
pub async fn choose<'a>(
    app: &Arc<App>,
    actor: &Actor,
    named: &'a Shard,
    current: &'a Shard,
    kind: &str,
    action: Action,
    object: Option<Uuid>,
) -> Result<&'a Shard, ApiError> {
    if named.name() == current.name() {
        authorize(app, actor, current.name(), kind, action, object).await?;
        return Ok(current);
    }
    let may = |region: &'a Shard| async move {
        app.authz
            .allowed(actor.name(), region.name(), kind, action, Relation::None)
            .await
    };
    if may(current).await {
        return Ok(current);
    }
    let line = actor
        .line(&app.authz, current.name(), &label(kind, action))
        .await;
    audit::denied(current, line, object);
    if may(named).await {
        record_route(named.name(), None);
        return Ok(named);
    }
    Err(forbidden(actor, kind, action, named.name()))
}
