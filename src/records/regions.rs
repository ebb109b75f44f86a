//! The regions an actor may act on, for every request that spans regions: cross-region
//! patient lists, statistics, planners' queries and the duplicate check at registration.
//! One function, so that all of them check in the same order and refuse the same way:
//!
//! 1. Named regions that do not exist: 400 (a query parameter) or 422 (a body field),
//!    naming the field and every unknown name. Nothing is authorized or audited yet: a
//!    typo is not an attempt.
//! 2. Named regions the actor may not act on: 403 naming the field and every refused
//!    region, with a denied audit line in each of them.
//! 3. No region named: every region the actor may act on, silently narrowed. None at all
//!    is a 403 audited in every region (the request asked them all), except for checks
//!    that only help (the duplicate check), which then ask nobody.

use crate::app::App;
use crate::authz::Action;
use crate::authz::Relation;
use crate::http::{Actor, ApiError};
use crate::shards::Shard;

/// What a region must allow the actor for it to be asked.
#[derive(Debug)]
pub struct Need {
    /// Every (object kind, action) the actor needs in the region; the first names the
    /// denied attempt's audit line ([`super::label`]).
    pub grants: &'static [(&'static str, Action)],
    /// The refusal's words: "{actor} may not {doing} in region ...".
    pub doing: &'static str,
    /// Whether no permitted region at all (none named) is a refusal, or just nothing to
    /// ask (a check that only helps, like the duplicate check).
    pub refuse_none: bool,
}

/// Which regions the request named, and where.
#[derive(Debug, Clone, Copy)]
pub enum Asked<'r> {
    /// None named: every region the actor may act on.
    Every,
    /// A query parameter, comma-separated (`?region=quthing,maseru`).
    Param(&'static str, &'r str),
    /// A JSON body field holding a list of names.
    Body(&'static str, &'r [String]),
}

/// The regions to ask, in the order named (repeats dropped), or every permitted one in
/// the configured order. See the module header for the order of the checks.
pub async fn for_actor<'a>(
    app: &'a App,
    actor: &Actor,
    need: &Need,
    asked: Asked<'_>,
) -> Result<Vec<&'a Shard>, ApiError> {
    let (field, names) = match asked {
        Asked::Every => return every(app, actor, need).await,
        Asked::Param(field, raw) => (field, split(raw)),
        Asked::Body(field, list) => (field, list.iter().map(|n| n.trim()).collect()),
    };
    let invalid = |reason: String| match asked {
        Asked::Body(..) => ApiError::field(field, reason),
        _ => ApiError::bad(field, reason),
    };
    if names.iter().all(|n| n.is_empty()) {
        return Err(invalid(format!(
            "names no region; leave it out to ask every region you may {}",
            need.doing
        )));
    }
    let unknown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| app.shards.get(n).is_none())
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = app.shards.iter().map(|s| s.name()).collect();
        return Err(invalid(format!(
            "unknown {} {}; known: {}",
            plural(unknown.len()),
            quoted(&unknown),
            known.join(", ")
        )));
    }
    let mut chosen: Vec<&Shard> = Vec::new();
    for shard in names.iter().filter_map(|n| app.shards.get(n)) {
        if !chosen.iter().any(|s| s.name() == shard.name()) {
            chosen.push(shard);
        }
    }
    let mut refused = Vec::new();
    for shard in &chosen {
        if !may(app, actor, need, shard.name()).await {
            refused.push(*shard);
        }
    }
    if refused.is_empty() {
        return Ok(chosen);
    }
    deny(app, actor, need, &refused).await;
    let names: Vec<&str> = refused.iter().map(|s| s.name()).collect();
    Err(ApiError::forbidden_field(
        field,
        format!(
            "{} may not {} in {} {}",
            actor.name(),
            need.doing,
            plural(names.len()),
            names.join(", ")
        ),
    ))
}

/// Every region the actor may act on; when none, a refusal audited in every region (or
/// nothing to ask, for a check that only helps).
async fn every<'a>(app: &'a App, actor: &Actor, need: &Need) -> Result<Vec<&'a Shard>, ApiError> {
    let mut out = Vec::new();
    for shard in app.shards.iter() {
        if may(app, actor, need, shard.name()).await {
            out.push(shard);
        }
    }
    if !out.is_empty() || !need.refuse_none {
        return Ok(out);
    }
    let all: Vec<&Shard> = app.shards.iter().collect();
    deny(app, actor, need, &all).await;
    Err(ApiError::Forbidden(format!(
        "{} may not {} in any region",
        actor.name(),
        need.doing
    )))
}

async fn may(app: &App, actor: &Actor, need: &Need, region: &str) -> bool {
    for (kind, action) in need.grants {
        if !app
            .authz
            .allowed(actor.name(), region, kind, *action, Relation::None)
            .await
        {
            return false;
        }
    }
    true
}

/// A denied audit line in each refused region, written after the answer has gone out.
async fn deny(app: &App, actor: &Actor, need: &Need, refused: &[&Shard]) {
    let action = need
        .grants
        .first()
        .map_or_else(String::new, |(kind, action)| super::label(kind, *action));
    for shard in refused {
        let line = actor.line(&app.authz, shard.name(), &action).await;
        crate::audit::denied(shard, line, None);
    }
}

/// The names in a comma-separated parameter, trimmed; empty ones dropped.
fn split(raw: &str) -> Vec<&str> {
    raw.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "region" } else { "regions" }
}

fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::{plural, quoted, split};

    #[test]
    fn a_region_list_drops_blanks_and_spaces_but_keeps_the_order_named() {
        assert_eq!(
            split(" maseru, ,quthing,,maseru "),
            ["maseru", "quthing", "maseru"]
        );
        assert!(split(" , ").is_empty());
    }

    #[test]
    fn unknown_names_are_quoted_and_counted() {
        assert_eq!(quoted(&["atlantis", "x y"]), "\"atlantis\", \"x y\"");
        assert_eq!((plural(1), plural(2)), ("region", "regions"));
    }
}
