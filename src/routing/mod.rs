//! Declarative routing: decides which regional shard a record belongs to from the rules in
//! `routing-rules/*.toml`. Pure (no I/O): the caller reads the files and the region catalog and
//! hands over their contents, which keeps the rules testable and the decision reproducible.
//!
//! Build once with [`RuleSet::build`] (which reports every problem in the files at once), then
//! [`RuleSet::route`] each record, or [`RuleSet::explain`] to see why it went where it did.

mod coverage;
pub mod entities;
mod eval;
mod explain;
mod model;
mod parse;
mod rule;
mod validate;

// The config tests reuse its file mutations and record corpus.
#[cfg(test)]
pub(crate) mod tests;

pub use entities::{ENTITIES, EntityKind, ParentLink};
pub use eval::{Record, RouteError, Routed};
pub use explain::{Explanation, Step};
pub use rule::{Condition, Predicate, Rule, Target};

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What the rules need to know about regions (built by the config layer from regions/*.toml).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub regions: Vec<CatalogRegion>,
}

#[derive(Debug, Clone)]
pub struct CatalogRegion {
    pub name: String,
    pub districts: Vec<String>,
}

/// One rule file's text, as read by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Display path, used in messages and to order the files.
    pub file: &'a str,
    pub text: &'a str,
}

/// A problem in the rule files, pointing at the file and (when one rule is to blame) line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for RuleError {}

/// The validated rules, in evaluation order. Immutable once built, so it can be shared
/// between request handlers behind an `Arc` and swapped whole on reload.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Indices into `rules` per entity, in order: routing only looks at its entity's rules.
    by_entity: BTreeMap<String, Vec<usize>>,
}

impl RuleSet {
    /// Parses and validates; returns every error found (not only the first), each with its
    /// file and, where one rule is to blame, its 1-based line.
    pub fn build(sources: &[Source<'_>], catalog: &Catalog) -> Result<RuleSet, Vec<RuleError>> {
        // Evaluation order is by file name, so `10-` runs before `20-` wherever the files live.
        let mut sources: Vec<Source<'_>> = sources.to_vec();
        sources.sort_by(|a, b| (base_name(a.file), a.file).cmp(&(base_name(b.file), b.file)));

        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for source in &sources {
            let mut outcome = parse::parse_source(source);
            parsed.append(&mut outcome.rules);
            errors.append(&mut outcome.errors);
        }
        // A rule that did not parse might be the one that covers a district; judging coverage
        // without it would report errors that are not real.
        let complete = errors.is_empty();
        let verdict = validate::check(&parsed, catalog);
        errors.extend(verdict.errors);
        if complete {
            let dir = sources
                .first()
                .map_or("routing-rules", |s| dir_name(s.file));
            errors.extend(coverage::check(&parsed, &verdict.broken, catalog, dir));
        }

        if !errors.is_empty() {
            let position = |e: &RuleError| {
                let file = sources.iter().position(|s| s.file == e.file);
                (file.unwrap_or(usize::MAX), e.line.unwrap_or(usize::MAX))
            };
            errors.sort_by_key(position);
            return Err(errors);
        }

        let rules: Vec<Rule> = parsed.into_iter().map(|p| p.rule).collect();
        let mut by_entity: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, rule) in rules.iter().enumerate() {
            by_entity.entry(rule.entity.clone()).or_default().push(i);
        }
        Ok(RuleSet { rules, by_entity })
    }

    /// All rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The entity kinds that have at least one rule, sorted.
    pub fn entities(&self) -> impl Iterator<Item = &str> {
        self.by_entity.keys().map(String::as_str)
    }

    /// Places a record. Follow rules call `resolve(parent_entity, parent_id)` for the parent's
    /// region. Never falls back to a default region: no match is an error.
    pub fn route(
        &self,
        record: &Record,
        resolve: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Result<Routed, RouteError> {
        self.decide(record, resolve, None)
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn dir_name(path: &str) -> &str {
    match path.rfind(['/', '\\']) {
        Some(i) if i > 0 => &path[..i],
        _ => "routing-rules",
    }
}
